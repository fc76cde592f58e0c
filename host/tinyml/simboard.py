"""The simulated board `unix-sim`: runs a device script on the MicroPython unix port with device/sim/ (machine,
time, esp32 and the register models of sensor chips) ahead of the built-in modules, boot after boot.

Each boot is one MicroPython process. Before it, the runner writes boot.json (boot number, reset cause, wake
reason, absolute virtual time, the board's buses, the simulated chips and their state); a deep sleep in the
script writes sleep.json (when the board wakes and why) and rtc.bin (RTC memory) and ends the process. The
device's filesystem is one directory kept across boots, as flash is."""

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import TinymlError
from .boards import get_board
from .paths import DEVICE, venv_tool

SIM_MODULES = DEVICE / "sim"
PACKAGE = DEVICE / "tinyml_device"

# esp32 numbering, which the sim's machine module uses (ports/esp32/modmachine.c)
PWRON_RESET, HARD_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 4, 5
RESET_NAMES = {1: "power_on", 2: "hard_reset", 3: "watchdog", 4: "deepsleep", 5: "soft_reset"}
WAKE_NAMES = {0: "none", 2: "ext0 (pin)", 3: "ext1 (pins)", 4: "timer", 5: "touch", 6: "ulp"}


@dataclass
class Boot:
    number: int
    reset_cause: int
    wake_reason: int
    start_us: int                 # absolute virtual time of the reset
    stdout: str = ""
    stderr: str = ""
    ended: str = ""               # "deepsleep", "reset", "exit" (the script returned), "error"
    wake_at_us: int | None = None


@dataclass
class SimRun:
    boots: list = field(default_factory=list)

    @property
    def stdout(self):
        return "".join(b.stdout for b in self.boots)


def load_data(path, rate=None):
    """--data: a .npy of shape (n, 3) or (n, 6) (accel in g [, gyro in deg/s]), a (windows, n, cols) array
    (windows are joined in time), a .npz with `data` (and optionally `rate`), or a .csv with those columns (a
    header line is skipped). Returns (float32 rows, rate in Hz)."""
    path = Path(path)
    if not path.exists():
        raise TinymlError(f"data file not found: {path}")
    file_rate = None
    try:
        if path.suffix == ".csv":
            arr = np.genfromtxt(path, delimiter=",", dtype=np.float32, skip_header=_csv_header(path))
        elif path.suffix == ".npz":
            z = np.load(path, allow_pickle=False)
            arr = z["data"]
            file_rate = float(z["rate"]) if "rate" in z.files else None
        else:
            arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise TinymlError(f"cannot read {path}: {exc}") from None
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr.reshape(-1, arr.shape[-1])
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] not in (3, 6) or len(arr) == 0:
        raise TinymlError(f"{path}: expected rows of 3 (ax, ay, az in g) or 6 (+ gx, gy, gz in deg/s) values, "
                          f"got shape {arr.shape}")
    rate = rate or file_rate or 50.0
    return np.ascontiguousarray(arr), rate


# What each simulated device type reads from its --data stream, and the stream it reads by default.
IMU_TYPES = ("mpu6050", "mpu6500", "lsm6ds3", "lsm6dsox", "adxl345", "lsm9ds1", "bmi270")
# Devices that read no stream: a magnetometer modelled at rest, and inputs driven by a schedule in their spec
# (device/sim/sim_inputs.py: button presses, PIR motion, touches).
UNSTREAMED_TYPES = ("lsm9ds1_mag", "button", "pir", "touchpad")
STREAM_KIND = {**{t: "imu" for t in IMU_TYPES}, "amg8833": "thermal", "analog": "trace", "i2s_mic": "pcm",
               "comparator": None, **{t: None for t in UNSTREAMED_TYPES}}
DEFAULT_STREAM = {**{t: "imu" for t in IMU_TYPES}, "amg8833": "thermal", "analog": "adc", "i2s_mic": "mic",
                  "comparator": "mic", **{t: None for t in UNSTREAMED_TYPES}}
DEFAULT_RATE = {"imu": 50.0, "thermal": 10.0, "trace": 1000.0, "pcm": 16000.0}


def load_stream(path, kind, rate=None):
    """A --data stream for devices of `kind`: 'imu' (see load_data), 'thermal' (rows of 64 pixels in degrees C,
    or (n, 8, 8) frames), 'trace' (a 1-D trace, or rows of values, e.g. volts at an ADC pin) or 'pcm' (mono
    16-bit audio: a .wav, or a 1-D .npy of int16, or floats in [-1, 1]). Returns (array, rate): float32 rows,
    or int16 samples for 'pcm'."""
    if kind == "imu":
        return load_data(path, rate)
    path = Path(path)
    if not path.exists():
        raise TinymlError(f"data file not found: {path}")
    file_rate = None
    try:
        if path.suffix == ".wav":
            import wave
            with wave.open(str(path)) as w:
                if w.getsampwidth() != 2 or w.getnchannels() != 1:
                    raise TinymlError(f"{path}: need 16-bit mono audio, got {8 * w.getsampwidth()}-bit with "
                                      f"{w.getnchannels()} channels")
                file_rate = w.getframerate()
                arr = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        elif path.suffix == ".csv":
            arr = np.genfromtxt(path, delimiter=",", dtype=np.float32, skip_header=_csv_header(path))
        elif path.suffix == ".npz":
            z = np.load(path, allow_pickle=False)
            arr = z["data"]
            file_rate = float(z["rate"]) if "rate" in z.files else None
        else:
            arr = np.load(path, allow_pickle=False)
    except TinymlError:
        raise
    except Exception as exc:
        raise TinymlError(f"cannot read {path}: {exc}") from None
    rate = rate or file_rate or DEFAULT_RATE[kind]
    arr = np.asarray(arr)
    if kind == "pcm":
        if arr.ndim != 1 or len(arr) == 0:
            raise TinymlError(f"{path}: expected 1-D mono audio, got shape {arr.shape}")
        if arr.dtype.kind == "f":
            arr = np.clip(np.round(arr * 32767), -32768, 32767)
        return np.ascontiguousarray(arr.astype("<i2")), rate
    arr = arr.astype(np.float32)
    if kind == "thermal":
        if arr.ndim == 3 and arr.shape[1:] == (8, 8):
            arr = arr.reshape(len(arr), 64)
        if arr.ndim != 2 or arr.shape[1] != 64 or len(arr) == 0:
            raise TinymlError(f"{path}: expected thermal frames of 8x8 = 64 pixels in degrees C, got shape "
                              f"{arr.shape}")
    else:
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or len(arr) == 0:
            raise TinymlError(f"{path}: expected a trace (n,) or rows (n, k), got shape {arr.shape}")
    return np.ascontiguousarray(arr), rate


def _write_streams(data, data_rate, devices, simdir):
    """--data: a path (the 'imu' stream) or {name: path}. Each stream is written for the devices that read it;
    a stream no device reads is refused (a typo would otherwise be silent)."""
    if data is None:
        return {}
    named = data if isinstance(data, dict) else {"imu": (data, data_rate)}
    out = {}
    for name, path in named.items():
        path, rate = path if isinstance(path, tuple) else (path, data_rate if name == "imu" else None)
        users = [d for d in devices if d.get("stream") == name]
        if not users and isinstance(data, dict):
            wired = ", ".join(f"{d['type']} <- {d.get('stream')}" for d in devices) or "nothing"
            raise TinymlError(f"--data {name}=...: no simulated device reads a stream '{name}' (wired: {wired})")
        kinds = {STREAM_KIND[d["type"]] for d in users} - {None}
        if len(kinds) > 1:
            raise TinymlError(f"stream '{name}' is read by devices of different kinds: {sorted(kinds)}")
        kind = kinds.pop() if kinds else ("imu" if name == "imu" else "trace")
        arr, rate = load_stream(path, kind, rate)
        f = simdir / f"stream-{name}.bin"
        if kind == "pcm":
            f.write_bytes(arr.astype("<i2").tobytes())
            out[name] = {"path": str(f), "rate": int(rate), "pcm": True}
        else:
            f.write_bytes(arr.astype("<f4").tobytes())
            out[name] = {"path": str(f), "cols": int(arr.shape[1]), "rate": int(rate)}
    return out


def _csv_header(path):
    first = path.read_text().splitlines()[:1]
    try:
        [float(v) for v in first[0].split(",")] if first else None
        return 0
    except ValueError:
        return 1


def run_script(script, *, data=None, data_rate=None, boots=1, board="unix-sim", files=(), sim=None,
               clock="hybrid", fs_dir=None, engine=True, timeout=120, echo=None, power_loss=()) -> SimRun:
    """Run `script` (a path) on the simulated board for up to `boots` boots. `files`: (source path, name on the
    device) pairs copied to the device's filesystem. `sim`: overrides of the board's "sim" section (e.g.
    {"devices": []} for a board with nothing wired). `echo(line)` gets the output as it is produced.
    `power_loss`: boot numbers whose deep sleep ends in a power cut (the battery pulled): RTC memory is lost,
    the sensors restart from power-on, and the next boot is a power-on reset at the time the board would have
    woken (one second later if nothing would have woken it). The filesystem (flash) survives."""
    script = Path(script)
    if not script.exists():
        raise TinymlError(f"script not found: {script}")
    desc = get_board(board)
    if "sim" not in desc:
        raise TinymlError(f"board '{board}' is not simulated: use --port for a real board, or --board unix-sim")
    simcfg = dict(desc["sim"])
    simcfg.update(sim or {})
    board_cfg = {"id": desc["id"], "name": desc["name"], "i2c": simcfg["i2c"], "gpio": simcfg.get("gpio"),
                 "wake_pins": desc.get("wake_pins"), "timers": simcfg.get("timers", 4),
                 "cpu_hz": simcfg.get("cpu_hz", 160000000), "i2s": simcfg.get("i2s", desc.get("i2s")),
                 "adc_pins": simcfg.get("adc_pins", desc.get("adc_pins"))}
    boot_us = int(desc.get("boot_ms", {}).get("deepsleep_wake", 0) * 1000) if isinstance(
        desc.get("boot_ms"), dict) else 0
    exe = venv_tool("micropython")
    with tempfile.TemporaryDirectory(prefix="tinyml-sim-") as tmp:
        simdir = Path(tmp) / "sim"
        simdir.mkdir()
        fs = Path(fs_dir) if fs_dir else Path(tmp) / "fs"
        fs.mkdir(parents=True, exist_ok=True)
        for src, name in files:
            src = Path(src)
            if not src.exists():
                raise TinymlError(f"file not found: {src}")
            shutil.copyfile(src, fs / name)
        if engine and not (fs / "tinyml.mpy").exists():
            from .build import build_module
            shutil.copyfile(build_module("x64"), fs / "tinyml.mpy")
        shutil.copyfile(script, fs / script.name)
        devices = []
        for d in simcfg.get("devices", []):
            if d["type"] not in STREAM_KIND:
                raise TinymlError(f"unknown simulated device type '{d['type']}' (known: {', '.join(STREAM_KIND)})")
            d = {"stream": DEFAULT_STREAM[d["type"]], **d}
            if "addr" in d:             # an I2C chip
                bus = simcfg["i2c"][str(d.get("bus", 0))]
                d["bus_pins"] = [bus["scl"], bus["sda"]]
            devices.append(d)
        powered_on_devices = list(devices)
        streams = _write_streams(data, data_rate, devices, simdir)
        data_cfg = None         # every stream, "imu" included, is in "streams"
        env = dict(os.environ, TINYML_SIM_DIR=str(simdir),
                   MICROPYPATH=os.pathsep.join([str(SIM_MODULES), str(DEVICE)]))
        run = SimRun()
        reset_cause, wake_reason, start_us = PWRON_RESET, 0, 0
        for n in range(1, boots + 1):
            boot = Boot(n, reset_cause, wake_reason, start_us)
            run.boots.append(boot)
            cfg = {"boot": n, "reset_cause": reset_cause, "wake_reason": wake_reason, "epoch_us": start_us,
                   "boot_us": boot_us if n > 1 else 0, "clock": clock, "board": board_cfg, "data": data_cfg,
                   "streams": streams,
                   "devices": devices}
            (simdir / "boot.json").write_text(json.dumps(cfg))
            (simdir / "sleep.json").unlink(missing_ok=True)
            header = (f"[unix-sim] boot {n}: reset cause {RESET_NAMES.get(reset_cause, reset_cause)}, "
                      f"wake reason {WAKE_NAMES.get(wake_reason, wake_reason)}, t={start_us / 1e6:.3f} s\n")
            boot.stdout += header
            if echo:
                echo(header.rstrip("\n"))
            try:
                proc = subprocess.run([exe, "-X", "heapsize=4M", script.name], cwd=fs, env=env,
                                      capture_output=True, text=True, timeout=timeout)
            except FileNotFoundError:
                raise TinymlError("MicroPython (unix port) is not installed: run `make setup`") from None
            except subprocess.TimeoutExpired:
                raise TinymlError(f"boot {n}: the script did not finish or sleep within {timeout} s") from None
            boot.stdout += proc.stdout
            boot.stderr = proc.stderr
            if echo:
                for line in proc.stdout.splitlines():
                    echo(line)
            slept = simdir / "sleep.json"
            if proc.returncode != 0:
                boot.ended = "error"
                lines = [l for l in (proc.stderr + proc.stdout).strip().splitlines() if l.strip()]
                why = lines[-1].strip() if lines else f"exit status {proc.returncode}"
                if proc.returncode < 0:
                    why = f"MicroPython crashed (signal {-proc.returncode})"
                err = SimError(f"boot {n}: {why}")
                err.run = run
                err.traceback = proc.stderr
                raise err
            if not slept.exists():
                boot.ended = "exit"
                break
            info = json.loads(slept.read_text())
            devices = info["devices"]
            if info["kind"] == "reset":
                boot.ended = "reset"
                reset_cause, wake_reason = info["reset_cause"], 0
                start_us = info["asleep_at_us"] + 1000
                continue
            boot.ended = "deepsleep"
            boot.wake_at_us = info["wake_at_us"]
            if n in power_loss:
                (simdir / "rtc.bin").unlink(missing_ok=True)
                devices = powered_on_devices
                reset_cause, wake_reason = PWRON_RESET, 0
                start_us = boot.wake_at_us if boot.wake_at_us is not None else info["asleep_at_us"] + 1000000
                msg = f"[unix-sim] boot {n}: power lost while asleep (RTC memory and the sensors' state gone)\n"
                boot.stdout += msg
                if echo:
                    echo(msg.rstrip("\n"))
                continue
            if boot.wake_at_us is None:
                msg = f"[unix-sim] boot {n}: deep sleep with no wake source that will fire: the board sleeps on\n"
                boot.stdout += msg
                if echo:
                    echo(msg.rstrip("\n"))
                break
            reset_cause, wake_reason, start_us = DEEPSLEEP_RESET, info["wake_reason"], boot.wake_at_us
        return run


class SimError(TinymlError):
    """A boot ended in an exception; .run holds the boots so far, .traceback the MicroPython traceback."""
