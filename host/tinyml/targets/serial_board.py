"""A real board on a serial port, driven with the real `mpremote` client: copy files, run, copy back."""

import subprocess
import tempfile
from pathlib import Path

from ..paths import venv_tool
from .base import RunResult, Target, TargetError

# sys.implementation._mpy >> 10 -> native arch (MicroPython's MP_NATIVE_ARCH_* numbering).
NATIVE_ARCHES = {1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em", 7: "armv7emsp",
                 8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc"}


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
            out = self._mpremote("exec", "import sys; i = sys.implementation; "
                                 "print(i._mpy, i.version[0], i.version[1]); print(i._machine)")
            first, machine = (out.strip().splitlines() + [""])[:2]
            mpy, major, minor = (int(v) for v in first.split())
            code = mpy >> 10
            if code == 0:
                raise TargetError("this firmware cannot load native modules (no native arch in sys.implementation)")
            # This project's QEMU port (1.23) keeps relocated native code reachable, so it is exempt.
            if (major, minor) < (1, 24) and not machine.startswith("QEMU mps2"):
                raise TargetError("MicroPython >= 1.24 is needed on the board (older versions free native code "
                                  "during garbage collection): update the firmware")
            self._arch = NATIVE_ARCHES.get(code, f"arch{code}")
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
