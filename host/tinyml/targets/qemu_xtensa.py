"""The emulated Xtensa board: this project's MicroPython firmware (ports/qemu_xtensa) under qemu-system-xtensa.

'qemu-xtensa' is QEMU's sim machine with the de233_fpu core: the windowed ABI and single-precision FPU of the
ESP32's LX6, so it loads the xtensawin .mpy that users copy to an ESP32, relocated by MicroPython's own
loader. It is not an ESP32: it lacks the MUL32HIGH option, whose MULSH/MULUH the firmware emulates.
A run works as on the Cortex-M boards (targets/qemu.py, whose QemuTarget this extends): a fresh temporary
directory is the firmware's filesystem (semihosting), the script runs as main.py, and the files asked for
are read back.

Instruction counts: QEMU runs with `-icount shift=5,sleep=off` (32 ns of virtual time per instruction;
CCOUNT ticks at 40 MHz). sleep=off makes virtual time follow instructions only: with the default, the
count since boot varied by up to 100,000 between identical runs and a region's count by one. board.instructions() and RunResult.instructions count each emulated MULSH/MULUH as one
instruction, as an ESP32 executes them: the firmware measures at boot what an emulation costs (a constant)
and takes it out.
"""

import contextlib
import os
import pty
import shutil
import subprocess
import tty
from pathlib import Path

from .base import TargetError
from ..paths import BUILD, REPO
from .qemu import COMMON_DIR, COUNT_FILE, SCRIPT, QemuTarget, _require, build_port_firmware

PORT_DIR = REPO / "ports" / "qemu_xtensa"
FIRMWARE = BUILD / "qemu_xtensa" / "firmware.elf"     # under paths.BUILD, as the Cortex-M firmware (targets/qemu.py)
ICOUNT_SHIFT = 5
INSTALL_HINT = "run `make setup` (needs qemu-system-misc, clang-22, llvm-22, gcc-arm-none-eabi)"


def build_firmware(force: bool = False) -> Path:
    """The firmware image, built with the port's Makefile when missing or out of date (or always with `force`):
    its sources include the Xtensa compiler driver and the linker it is built with."""
    def tools():
        for tool in ("clang-22", "llc-22", "llvm-mc-22"):
            if not shutil.which(tool):
                raise TargetError(f"{tool} not found: {INSTALL_HINT}")
    sources = (PORT_DIR, COMMON_DIR, REPO / "tools" / "xtensa", REPO / "tests" / "xtensa_link.py")
    return build_port_firmware(FIRMWARE, PORT_DIR, sources, before=tools, force=force)


class QemuXtensaTarget(QemuTarget):
    name = "qemu-xtensa"
    arch = "xtensawin"

    def __init__(self):
        self.float_support = True

    def _firmware(self) -> Path:
        if not shutil.which("qemu-system-xtensa"):
            raise TargetError(f"qemu-system-xtensa not found: {INSTALL_HINT}")
        return build_firmware()

    def _qemu_command(self, firmware: Path, semihosting: str) -> list:
        # The generic loader loads the ELF and sets the PC (-kernel leaves this core at its reset vector).
        # At least one semihosting argument is needed: QEMU 7.2 crashes on the argument calls without any.
        return [_require("qemu-system-xtensa"), "-M", "sim", "-cpu", "de233_fpu", "-m", "64M",
                "-display", "none", "-monitor", "none", "-icount", f"shift={ICOUNT_SHIFT},sleep=off",
                "-semihosting-config", semihosting, "-device", f"loader,file={firmware},cpu-num=0"]

    def _script_command(self, firmware: Path) -> list:
        return self._qemu_command(firmware, f"enable=on,arg=firmware,arg={SCRIPT},arg={COUNT_FILE}")

    @contextlib.contextmanager
    def serve_pty(self, workdir, timeout: float = 10):
        """Start the firmware's REPL with `workdir` as its filesystem and yield a /dev/pts path for mpremote,
        as a real board over USB serial; QEMU is stopped on exit. The REPL is on the semihosting console,
        which QEMU 7.2's Xtensa sim reads from its own stdin and writes to its stdout (it ignores
        -semihosting-config chardev=), so QEMU gets the master side of a new pseudo-terminal as both."""
        firmware = self._firmware()
        master, slave = pty.openpty()
        tty.setraw(slave)
        cmd = self._qemu_command(firmware, "enable=on,arg=firmware")   # no script: the REPL
        try:
            proc = subprocess.Popen(cmd, cwd=workdir, stdin=master, stdout=master, stderr=subprocess.DEVNULL)
        finally:
            os.close(master)
        try:
            yield os.ttyname(slave)
        finally:
            proc.kill()
            proc.wait()
            os.close(slave)
