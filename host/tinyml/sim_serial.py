"""The simulated board unix-sim on a pseudo-terminal, as a board on USB serial: the real `mpremote` connects to
the path this yields. MicroPython (the unix port) runs device/collect/sim_repl.py, MicroPython's REPL protocol
over the line, with the sim's machine/time and register models of the sensors (device/sim) playing back --data
streams, so the real drivers run against modelled chips. See docs/collect.md for why this board and not the
emulated Cortex-M4 (which has the firmware's own REPL but no sensors).

The board holds the master side of the pty, the host's mpremote opens the slave (/dev/pts/N). This process keeps
one slave descriptor open for the board's lifetime, so that the line stays up when mpremote exits or is killed
(as a USB-serial adapter's does): what the board prints meanwhile waits in the pty's buffer, and once that is
full the board's print blocks, as a USB CDC write does with nobody reading."""

import contextlib
import json
import os
import subprocess
import tempfile
import tty
from pathlib import Path

from . import TinymlError
from .boards import get_board
from .paths import DEVICE, venv_tool
from .simboard import DEFAULT_STREAM, PWRON_RESET, SIM_MODULES, STREAM_KIND, _write_streams

REPL = DEVICE / "collect" / "sim_repl.py"


def _sim_config(board, data, simdir):
    """boot.json for one power-on boot, built as host/tinyml/simboard.py's run_script builds it."""
    desc = get_board(board)
    if "sim" not in desc:
        raise TinymlError(f"board '{board}' is not simulated: use --board unix-sim")
    simcfg = desc["sim"]
    board_cfg = {"id": desc["id"], "name": desc["name"], "i2c": simcfg["i2c"], "gpio": simcfg.get("gpio"),
                 "wake_pins": desc.get("wake_pins"), "timers": simcfg.get("timers", 4),
                 "cpu_hz": simcfg.get("cpu_hz", 160000000), "i2s": simcfg.get("i2s", desc.get("i2s")),
                 "adc_pins": simcfg.get("adc_pins", desc.get("adc_pins"))}
    devices = []
    for d in simcfg.get("devices", []):
        if d["type"] not in STREAM_KIND:
            raise TinymlError(f"unknown simulated device type '{d['type']}'")
        d = {"stream": DEFAULT_STREAM[d["type"]], **d}
        if "addr" in d:
            bus = simcfg["i2c"][str(d.get("bus", 0))]
            d["bus_pins"] = [bus["scl"], bus["sda"]]
        devices.append(d)
    streams = _write_streams(data, None, devices, simdir)
    return {"boot": 1, "reset_cause": PWRON_RESET, "wake_reason": 0, "epoch_us": 0, "boot_us": 0,
            "clock": "hybrid", "board": board_cfg, "data": None, "streams": streams, "devices": devices}


@contextlib.contextmanager
def serve_pty(fs_dir, data=None, board="unix-sim", log=None):
    """Power on the simulated board with `fs_dir` as its filesystem and `data` ({stream: path} or a path for
    the 'imu' stream, as `tinyml run --data`) playing into its sensors; yields the pty path for mpremote.
    `log`: a file for the board's stderr (MicroPython crashes). The board is switched off on exit."""
    exe = venv_tool("micropython")
    fs_dir = Path(fs_dir)
    fs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tinyml-simpty-") as tmp:
        simdir = Path(tmp)
        (simdir / "boot.json").write_text(json.dumps(_sim_config(board, data, simdir)))
        master, slave = os.openpty()
        tty.setraw(slave)                   # no echo, no line editing: bytes as a UART carries them
        path = os.ttyname(slave)
        env = dict(os.environ, TINYML_SIM_DIR=str(simdir), MICROPYPATH=str(SIM_MODULES))
        err = open(log, "wb") if log else subprocess.DEVNULL
        try:
            proc = subprocess.Popen([exe, "-X", "heapsize=8M", str(REPL)], stdin=master, stdout=master,
                                    stderr=err, cwd=fs_dir, env=env)
        except FileNotFoundError:
            raise TinymlError("MicroPython (unix port) is not installed: run `make setup`") from None
        try:
            yield path
        finally:
            proc.kill()
            proc.wait()
            os.close(master)
            os.close(slave)
            if log:
                err.close()
