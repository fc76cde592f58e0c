"""`tinyml run --port PORT SCRIPT.py`: a device script on a real board with the real `mpremote`. Copies the
tinyml_device package to :lib/ and the --file files to the board's root, then `mpremote run SCRIPT` (output
streamed). With --main the script becomes :main.py and the board is reset: after a deep sleep a board runs
main.py, not the script `mpremote run` sent, so a sleeping script must be installed.

Untested against hardware in this repository (no board attached to CI); the mpremote commands are the
documented ones (mpremote fs cp -r, run, reset)."""

import subprocess

from . import TinymlError
from .paths import DEVICE, venv_tool


def _mpremote(port, *args, check=True):
    cmd = [venv_tool("mpremote"), "connect", port, *args]
    proc = subprocess.run(cmd)
    if check and proc.returncode != 0:
        raise TinymlError(f"mpremote {' '.join(args[:2])} failed on {port} (exit {proc.returncode})")


def run_on_port(port, script, files=(), as_main=False):
    _mpremote(port, "fs", "mkdir", ":lib", check=False)    # exists already on most boards
    _mpremote(port, "fs", "cp", "-r", str(DEVICE / "tinyml_device"), ":lib/")
    for src, name in files:
        _mpremote(port, "fs", "cp", str(src), f":{name}")
    if as_main:
        _mpremote(port, "fs", "cp", str(script), ":main.py")
        _mpremote(port, "reset")
        print(f"installed {script} as main.py and reset the board: `mpremote connect {port} repl` shows its output")
    else:
        _mpremote(port, "run", str(script))
