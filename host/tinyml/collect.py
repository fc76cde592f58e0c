"""`tinyml collect`: record a labelled example from a board's sensor into the dataset layout `tinyml train JOB
--data DIR` reads (Edge Impulse's data forwarder, without the cloud).

The board side is device/collect/tinyml_collect.py: Timer (or I2S) callbacks sample the job's sensor into a RAM
ring; `stream(seq)` prints the ring from frame `seq` as numbered lines with a CRC-32. This side drives it with
the real `mpremote`: one run copies the sampler and the driver it needs, starts it (after mpremote's soft
reset, so nothing from before runs) and follows its lines (`stream(0)`). When the link
drops (mpremote dies, the cable is pulled), the board keeps sampling; the next `resume` connection interrupts
the old stream() with its Ctrl-C (the sampler, in callbacks, is not interrupted) and asks again from the first
frame not yet received. A line with a wrong CRC or out of order is discarded and asked again the same way.
docs/collect.md has the protocol and the test over a pseudo-terminal."""

import queue
import subprocess
import threading
import time
import wave
import zlib
from base64 import b64decode
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import TinymlError
from .paths import DEVICE, venv_tool

BOARD_FILES = DEVICE / "collect" / "tinyml_collect.py"


@dataclass(frozen=True)
class Sink:
    """How the host turns a job's frames into the file its training recipe reads."""
    rate_hz: int
    frame_bytes: int
    drivers: tuple          # device/tinyml_device files the board-side source imports ("boards/": all of it)
    classes: tuple          # the folders the job's loader accepts (host/tinyml/jobs/<job>.py CLASSES)
    suffix: str
    what: str               # for the help and messages
    # Late sampler ticks (a sensor without a FIFO read a period or more late) make a time series uneven: an
    # error for gesture/anomaly windows, only a warning where every frame is an example on its own (presence).
    late_is_error: bool = True


# job -> the host's half of the sampler table (the board's half: JOBS in device/collect/tinyml_collect.py).
SINKS = {
    "gesture": Sink(50, 6, ("drivers/__init__.py", "drivers/mpu6050.py"),
                    ("idle", "circle", "wing", "slope", "shake"), ".csv",
                    "MPU6050 FIFO at 50 Hz -> CSV rows ax,ay,az in g"),
    "presence": Sink(10, 128, ("drivers/__init__.py", "drivers/amg8833.py"), ("empty", "present"), ".npy",
                     "AMG8833 at 10 fps -> NPY [frames, 8, 8] in degC", late_is_error=False),
    "anomaly": Sink(1000, 2, ("board.py", "boards/", "drivers/__init__.py", "drivers/analog.py"),
                    ("normal", "imbalance", "misalignment", "looseness", "bearing_outer", "bearing_inner",
                     "bearing_ball"), ".csv", "ADC pin 34 at 1 kHz -> CSV of volts"),
    "kws": Sink(16000, 2, ("board.py", "boards/", "drivers/__init__.py", "drivers/inmp441.py"),
                ("hey_iot", "speech", "background"), ".wav", "INMP441 (I2S) at 16 kHz -> 16-bit mono WAV"),
}
VREF = 3.3


def decode(job, raw: bytes) -> np.ndarray:
    """The frames as the training data's numbers: g (gesture), degC (presence), volts (anomaly), int16 PCM."""
    if job == "gesture":
        return (np.frombuffer(raw, ">i2").reshape(-1, 3) / 16384.0).astype(np.float32)
    if job == "presence":
        v = np.frombuffer(raw, "<u2").astype(np.int32) & 0xFFF
        v = np.where(v & 0x800, v - 0x1000, v)
        return (v * 0.25).astype(np.float32).reshape(-1, 8, 8)
    if job == "anomaly":
        return (np.frombuffer(raw, "<u2") * (VREF / 65535)).astype(np.float32)
    return np.frombuffer(raw, "<i2")


def write_recording(job, label, raw, out_dir, name=None) -> Path:
    """DIR/<label>/<name><suffix>, a new file per recording (name: label-YYYYmmdd-HHMMSS[-k])."""
    sink = SINKS[job]
    folder = Path(out_dir) / label
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"{label}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, k = folder / (stem + sink.suffix), 1
    while path.exists() and not name:
        k += 1
        path = folder / f"{stem}-{k}{sink.suffix}"
    values = decode(job, raw)
    if job == "gesture":
        with open(path, "w") as f:
            f.write("ax,ay,az\n")
            for row in values:
                f.write(",".join(repr(float(v)) for v in row) + "\n")
    elif job == "anomaly":
        with open(path, "w") as f:
            f.write("volts\n")
            f.writelines(f"{float(v)!r}\n" for v in values)
    elif job == "presence":
        np.save(path, values)
    else:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sink.rate_hz)
            w.writeframes(values.astype("<i2").tobytes())
    return path


def parse_line(line: str):
    """One line of the board's stream: ("data", seq, n, payload) when its CRC holds, ("bad", text) when not,
    (word, numbers...) for START/LOST/END/NONE, None for anything else (the board's other output)."""
    parts = line.strip().split()
    if len(parts) < 2 or parts[0] != "#TM":
        return None
    if parts[1] in ("START", "LOST", "END", "NONE"):
        return (parts[1].lower(), *parts[2:])
    try:
        seq, n, crc = int(parts[1]), int(parts[2]), int(parts[3], 16)
        payload = b64decode(parts[4], validate=True)
    except (ValueError, IndexError):
        return ("bad", line.strip()[:60])
    if zlib.crc32(payload, zlib.crc32(f"{seq} {n}".encode())) != crc:
        return ("bad", line.strip()[:60])
    return ("data", seq, n, payload)


# The board prints a line at least every sampler tick (at most 0.1 s) while frames arrive: this long a silence
# means a dead link that mpremote has not noticed (a UART cable pulled: no error, just no bytes).
STALL_S = 5.0
START_S = 120.0         # copying the sampler and drivers: a few seconds over USB, more over a slow UART


def _lines(proc, stall_s, first_s=15.0):
    """mpremote's output lines as they come; None (and the end) when none came for stall_s seconds (first_s
    for the first line: mpremote's connection and raw REPL entry come before it)."""
    lines = queue.Queue()

    def pump():
        try:
            for line in proc.stdout:
                lines.put(line)
        finally:
            proc.stdout.close()         # here, not by the caller: this thread may still be reading
            lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    wait = max(first_s, stall_s)
    while True:
        try:
            line = lines.get(timeout=wait)
        except queue.Empty:
            yield None
            return
        if not line:
            return
        wait = stall_s
        yield line


def _mpremote(port, *args):
    return [venv_tool("mpremote"), "connect", port, *args]


def start_args(job, frames, board_opts="", install=True):
    """mpremote's arguments that copy the sampler and its drivers (after mpremote's soft reset: a clean
    interpreter) and start the recording. install=False: only start another recording with what is there
    (mpremote resume; the previous recording, finished, is replaced)."""
    sink = SINKS[job]
    args = ["resume"]
    if install:
        dirs = "tinyml_device", "tinyml_device/drivers", "tinyml_device/boards"
        mkdirs = "import os\nfor d in %r:\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass" % (dirs,)
        args = ["exec", mkdirs, "+", "cp", str(BOARD_FILES), ":tinyml_collect.py",
                "+", "cp", str(DEVICE / "tinyml_device" / "__init__.py"), ":tinyml_device/__init__.py"]
        pkg = DEVICE / "tinyml_device"
        for rel in sink.drivers:
            # board.py finds this board's description in boards/ (one small module per board, from boards/*.json)
            files = sorted((pkg / rel).glob("*.py")) if rel.endswith("/") else [pkg / rel]
            for src in files:
                args += ["+", "cp", str(src), f":tinyml_device/{src.relative_to(pkg).as_posix()}"]
        args.append("+")
    return args + ["exec", f"import tinyml_collect as T; T.start({job!r}, {frames}{board_opts})"]


def _stream_args(seq):
    return ["exec", f"import tinyml_collect as T; T.stream({seq})"]


def collect(port, job, label, seconds, out_dir, *, name=None, board_opts="", install=True, reconnect_s=30.0,
            stall_s=STALL_S, echo=print, on_data=None) -> Path:
    """Record `seconds` of `job`'s sensor on the board at `port` into out_dir/label/. Returns the file.
    on_data(frames_received, mpremote_process) is called after each good line (the tests drop the link
    there by killing mpremote)."""
    if job not in SINKS:
        raise TinymlError(f"--job {job}: no sampler for it; choose one of {', '.join(SINKS)}")
    sink = SINKS[job]
    if label not in sink.classes:
        raise TinymlError(f"--label {label}: not a class of {job} (one of {', '.join(sink.classes)}): "
                          f"`tinyml train {job} --data DIR` would refuse the folder")
    if not seconds or seconds <= 0:
        raise TinymlError(f"--seconds {seconds}: give a positive duration, e.g. --seconds 2")
    frames = max(1, round(seconds * sink.rate_hz))
    echo(f"starting the {job} sampler on {port}: {sink.what}, {frames} frames" if install else
         f"recording {frames} frames")
    got = bytearray()
    started, drops, last_progress = False, 0, time.monotonic()
    while True:
        seq = len(got) // sink.frame_bytes
        # The first connection starts the recording and follows it in one mpremote run (no second start-up
        # between them, so a small ring is enough); the next ones resume from the first frame missing.
        args = (start_args(job, frames, board_opts, install) + ["+"] + _stream_args(0) if not started else
                ["resume"] + _stream_args(seq))
        try:
            proc = subprocess.Popen(_mpremote(port, *args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
        except FileNotFoundError:
            raise TinymlError("mpremote is not installed: run `make setup`") from None
        ended, last_other = False, ""
        try:
            for line in _lines(proc, stall_s, first_s=START_S if not started else 15.0):
                if line is None:
                    if not started:
                        raise TinymlError(f"the board on {port} did not answer within {START_S:g} s: is it "
                                          f"running MicroPython?")
                    echo(f"nothing from the board for {stall_s:g} s or more: dropping the connection")
                    break
                item = parse_line(line)
                if item is None:
                    last_other = line.strip() or last_other
                    continue
                kind = item[0]
                if kind == "start":
                    started = True
                elif kind == "data":
                    _, at, n, payload = item
                    if at != len(got) // sink.frame_bytes or len(payload) != n * sink.frame_bytes:
                        echo(f"frames {at}..{at + n} out of order (have {len(got) // sink.frame_bytes}): asking again")
                        break
                    got += payload
                    last_progress = time.monotonic()
                    if on_data is not None:
                        on_data(len(got) // sink.frame_bytes, proc)
                elif kind == "bad":
                    echo(f"a line failed its CRC ({item[1]}...): asking again from frame {len(got) // sink.frame_bytes}")
                    break
                elif kind == "lost":
                    raise TinymlError(f"the board's buffer no longer holds frame {item[1]} (oldest {item[2]}): the "
                                      f"link was down too long for its ring; record again")
                elif kind == "none":
                    raise TinymlError(f"the board on {port} has no recording running (was it reset?): record again")
                elif kind == "end":
                    overruns = int(item[2])
                    if overruns and sink.late_is_error:
                        raise TinymlError(f"the board missed samples ({overruns} overrun(s): a sensor FIFO or the "
                                          f"I2S buffer overflowed, or a timer tick came late): the recording has "
                                          f"gaps; record again with less running on the board")
                    if overruns:
                        echo(f"warning: {overruns} frame(s) read a period or more late (a frame may repeat or be "
                             f"skipped; each {job} frame is an example on its own, so the recording is kept)")
                    ended = True
                    break
        finally:
            if proc.poll() is None:
                proc.terminate()
            proc.wait()
        if not started:
            raise TinymlError(f"could not start the {job} sampler on {port}: {last_other or 'mpremote exited'}")
        if ended and len(got) == frames * sink.frame_bytes:
            break
        drops += 1
        if time.monotonic() - last_progress > reconnect_s:
            raise TinymlError(f"the link to {port} is down and no frame came for {reconnect_s:g} s "
                              f"(have {len(got) // sink.frame_bytes} of {frames}): check the cable and the port")
        echo(f"link lost after frame {len(got) // sink.frame_bytes} of {frames}: reconnecting")
        time.sleep(min(2.0, 0.2 * drops))          # back off while the port is gone
    path = write_recording(job, label, bytes(got), out_dir, name)
    echo(f"wrote {path} ({frames} frames, {seconds:g} s{f', {drops} reconnection(s)' if drops else ''})")
    return path


def collect_takes(port, job, label, seconds, out_dir, *, takes=1, pause_s=3.0, name=None, echo=print):
    """`takes` recordings in a row (20 wand gestures, say), with a countdown of pause_s before each: the sampler
    is copied once. Returns the files."""
    if takes < 1:
        raise TinymlError(f"--takes {takes}: give at least 1")
    paths = []
    for k in range(1, takes + 1):
        if takes > 1:
            echo(f"take {k}/{takes}: {label} in {pause_s:g} s")
            time.sleep(pause_s)
        take_name = None if name is None else (name if takes == 1 else f"{name}-{k}")
        paths.append(collect(port, job, label, seconds, out_dir, name=take_name, install=k == 1, echo=echo))
    return paths
