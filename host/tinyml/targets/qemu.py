"""Emulated Cortex-M boards: this project's MicroPython firmware (ports/qemu_mps2) under qemu-system-arm.

'qemu-m4' is QEMU's mps2-an386 (Cortex-M4F), 'qemu-m7' its mps2-an500 (Cortex-M7); one firmware serves
both and loads armv7emsp native modules. 'qemu-m3' is mps2-an385 (Cortex-M3, no FPU) with a soft-float
firmware: an armv7m board, which loads armv7m and armv6m (Thumb-1) modules with their own float ABI. When it
reads an armv6m module it also faults on unaligned word and halfword accesses (CCR.UNALIGN_TRP), as the
Cortex-M0+ that module is for does; a fault fails the run with "firmware crashed (HardFault: unaligned access
at PC=..., address=...)".
A run happens in a fresh temporary directory that the firmware sees as its filesystem (semihosting): the
files are written there, the script runs as main.py, and the files asked for are read back afterwards.

Instruction counts: QEMU runs with `-icount shift=6`, so virtual time follows the instruction count
exactly. The firmware writes the number of instructions the whole script took (compiling it included) to
the file named after the script on its command line; that is RunResult.instructions. Inside a script,
`board.instructions()` gives the count since boot, for measuring a region.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..buildlock import build_lock
from ..paths import BUILD, REPO  # REPO: the checkout, or the installed package's copy of ports/ (tinyml/_share)
from .base import RunResult, Target, TargetError

PORT_DIR = REPO / "ports" / "qemu_mps2"
COMMON_DIR = REPO / "ports" / "qemu_common"     # the sources both QEMU ports share
# Under paths.BUILD, never under the port: an installed package's ports/ sit in site-packages, which may not be
# writable and must not change (the port's Makefile is told BUILD=, see port_make_command).
FIRMWARE = BUILD / "qemu_mps2" / "firmware.elf"
# QEMU machine, the firmware's CPU build (ports/qemu_mps2 CPU=) and the native-module arch it loads.
MACHINES = {"qemu-m4": ("mps2-an386", "m4", "armv7emsp"), "qemu-m7": ("mps2-an500", "m4", "armv7emsp"),
            "qemu-m3": ("mps2-an385", "m3", "armv7m")}
ICOUNT_SHIFT = 6            # 64 ns per instruction: the 25 MHz timer ticks 1.6 times per instruction
SCRIPT = "main.py"
COUNT_FILE = ".instructions"
INSTALL_HINT = "apt-get install qemu-system-arm gcc-arm-none-eabi"


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise TargetError(f"{tool} not found: {INSTALL_HINT}")
    return path


def port_make_command(port_dir: Path, firmware: Path, *options: str):
    """(command, environment) that build `firmware` with a QEMU port's Makefile: every output in the
    firmware's folder (BUILD=, which the Makefiles take from the command line), no .pyc next to the port's
    Python helpers (PYTHONDONTWRITEBYTECODE), and the venv's pip for tools/fetch_micropython.sh."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    pip = Path(sys.executable).parent / "pip"
    if pip.exists():
        env.setdefault("PIP", str(pip))
    return ["make", "-C", str(port_dir), f"-j{os.cpu_count() or 2}", f"BUILD={firmware.parent}", *options], env


def firmware_path(cpu: str = "m4", float_support: bool = True) -> Path:
    variant = ("_m3" if cpu == "m3" else "") + ("" if float_support else "_nofloat")
    return FIRMWARE.parent.parent / f"qemu_mps2{variant}" / "firmware.elf"


def port_sources_digest(*paths: Path) -> str:
    """A hash of the files a firmware is built from (the port's folders, plus any tool given): a firmware is
    rebuilt when they change, not only when it is missing. MicroPython's own core is a fixed release."""
    import hashlib
    h = hashlib.sha256()
    for root in paths:
        files = sorted(f for f in root.rglob("*") if f.is_file() and "__pycache__" not in f.parts
                       and f.suffix != ".md") if root.is_dir() else [root]     # READMEs change no firmware
        for f in files:
            h.update(str(f.relative_to(REPO)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def build_port_firmware(firmware: Path, port_dir: Path, sources, options=(), before=None, force=False) -> Path:
    """`firmware`, built with `port_dir`'s Makefile (make is incremental) when it is missing or its sources
    changed since it was built (a stamp beside it holds their hash), or always with `force`. Checked without a
    lock first, so a run whose firmware is current never waits behind another process's build."""
    stamp = firmware.with_name(firmware.name + ".sources")
    digest = port_sources_digest(*sources)

    def current():
        return firmware.exists() and stamp.exists() and stamp.read_text() == digest

    if current() and not force:
        return firmware
    with build_lock(f"firmware-{firmware.parent.name}"):
        if current() and not force:
            return firmware
        if before:
            before()
        cmd, env = port_make_command(port_dir, firmware, *options)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0 or not firmware.exists():
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            raise TargetError("firmware build failed: " + (lines[-1] if lines else f"make exited {proc.returncode}"))
        stamp.write_text(digest)
    return firmware


def build_firmware(force: bool = False, float_support: bool = True, cpu: str = "m4") -> Path:
    """The firmware image, built with the port's Makefile when missing or out of date (or always with `force`).
    float_support=False builds MicroPython without float objects, as some small boards ship it;
    cpu="m3" the soft-float Cortex-M3 (armv7m) firmware."""
    return build_port_firmware(firmware_path(cpu, float_support), PORT_DIR, (PORT_DIR, COMMON_DIR),
                               (f"FLOAT={int(float_support)}", f"CPU={cpu}"),
                               before=lambda: _require("arm-none-eabi-gcc"), force=force)


class QemuTarget(Target):
    def __init__(self, name: str = "qemu-m4", float_support: bool = True):
        if name not in MACHINES:
            raise TargetError(f"unknown QEMU target '{name}': choose one of {', '.join(MACHINES)}")
        self.name = name
        self.machine, self.cpu, self.arch = MACHINES[name]
        self.float_support = float_support

    def _command(self, firmware: Path, *extra: str) -> list:
        return [_require("qemu-system-arm"), "-M", self.machine, "-semihosting-config", "enable=on,target=native",
                "-icount", f"shift={ICOUNT_SHIFT}", "-kernel", str(firmware), *extra]

    def _firmware(self) -> Path:
        _require("qemu-system-arm")
        return build_firmware(float_support=self.float_support, cpu=self.cpu)

    def _script_command(self, firmware: Path) -> list:
        """QEMU running SCRIPT from its working directory, the instruction count going to COUNT_FILE."""
        return self._command(firmware, "-nographic", "-append", f"{SCRIPT} {COUNT_FILE}")

    def run(self, script: str, files: dict, fetch=(), timeout: float = 300) -> RunResult:
        firmware = self._firmware()
        with tempfile.TemporaryDirectory(prefix="tinyml-qemu-") as tmp:
            work = Path(tmp)
            for name, data in files.items():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                (work / name).write_bytes(data)
            (work / SCRIPT).write_text(script)
            cmd = self._script_command(firmware)
            try:
                proc = subprocess.run(cmd, cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                                      timeout=timeout)
            except subprocess.TimeoutExpired:
                raise TargetError(f"{self.name}: script timed out after {timeout:g} s") from None
            stdout = proc.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
            if proc.returncode != 0:
                raise TargetError(f"{self.name}: {_failure_reason(stdout, proc)}")
            out = {}
            for name in fetch:
                path = work / name
                if not path.is_file():
                    raise TargetError(f"{self.name}: the script did not write '{name}'")
                out[name] = path.read_bytes()
            count = work / COUNT_FILE
            instructions = int(count.read_text()) if count.exists() else None
            return RunResult(stdout=stdout, files=out, instructions=instructions)

    @contextlib.contextmanager
    def serve_pty(self, workdir, timeout: float = 10):
        """Start the firmware's REPL on a pseudo-terminal (as a real board over USB serial) with `workdir`
        as its filesystem; yields the /dev/pts path for mpremote. QEMU is stopped on exit."""
        firmware = build_firmware(float_support=self.float_support, cpu=self.cpu)
        cmd = self._command(firmware, "-display", "none", "-monitor", "none", "-serial", "pty")
        proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            # QEMU announces "char device redirected to /dev/pts/N (label serial0)" as it starts.
            deadline = time.monotonic() + timeout
            line = b""
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                match = re.search(rb"(/dev/pts/\d+)", line)
                if match:
                    break
                if not line and proc.poll() is not None:
                    raise TargetError(f"{self.name}: QEMU exited with status {proc.returncode}")
            else:
                raise TargetError(f"{self.name}: QEMU did not report its pseudo-terminal")
            yield match.group(1).decode()
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()


def _failure_reason(stdout: str, proc) -> str:
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if "Traceback (most recent call last):" in stdout:
        return last                                   # e.g. "ValueError: bad shape"
    if last.startswith("FATAL:"):
        return f"firmware crashed ({last[6:].strip()})"
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = last or (err[-1] if err else "")
    return f"exited with status {proc.returncode}" + (f": {detail}" if detail else "")
