"""A real board on a serial port, driven with the real `mpremote` client: copy files, run, copy back."""

import subprocess
import tempfile
from pathlib import Path

from ..paths import venv_tool
from .base import RunResult, Target, TargetError


class SerialBoard(Target):
    def __init__(self, port):
        self.port = port
        self.name = f"board on {port}"
        self._arch = None

    def _mpremote(self, *args, timeout=120):
        cmd = [venv_tool("mpremote"), "connect", self.port, *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TargetError(f"the board on {self.port} did not answer within {timeout} s") from None
        if proc.returncode != 0:
            lines = (proc.stderr + proc.stdout).strip().splitlines() or ["mpremote failed"]
            raise TargetError(lines[-1])
        return proc.stdout

    @property
    def arch(self):
        """Asked from the board itself, so a module for the wrong arch is never deployed."""
        if self._arch is None:
            from ..board_compat import BoardReport, choose_arch, firmware_problem
            out = self._mpremote("exec", "import sys; i = sys.implementation; "
                                 "print(getattr(i, '_mpy', 0), i.version[0], i.version[1]); print(i._machine)")
            first, machine = (out.strip().splitlines() + [""])[:2]
            mpy, major, minor = (int(v) for v in first.split())
            # The rule `tinyml deploy` applies, per arch (board_compat.py: ESP32 needs 1.24, Arm ports 1.23).
            report = BoardReport(mpy=mpy, version=(major, minor, 0), machine=machine)
            problem = firmware_problem(report)
            if problem:
                raise TargetError(problem)
            # The arch we build that runs best there (an FPU-less Thumb-2 core reports armv7em: armv7m).
            self._arch = choose_arch(report)[0]
        return self._arch

    def run(self, script, files, fetch=(), timeout=600):
        with tempfile.TemporaryDirectory(prefix="tinyml-board-") as tmp:
            work = Path(tmp)
            for name, data in files.items():
                (work / name).write_bytes(data)
                self._mpremote("cp", str(work / name), f":{name}")
            (work / "main_run.py").write_text(script)
            out = self._mpremote("run", str(work / "main_run.py"), timeout=timeout)
            got = {}
            for name in fetch:
                self._mpremote("cp", f":{name}", str(work / name))
                got[name] = (work / name).read_bytes()
            return RunResult(out, got)
