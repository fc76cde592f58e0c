"""The contract every target fulfils."""

from dataclasses import dataclass, field

from .. import TinymlError


class TargetError(TinymlError):
    """A target could not run the script: missing tool or firmware, crash, timeout, script error."""


@dataclass
class RunResult:
    stdout: str                                   # everything the script printed
    files: dict = field(default_factory=dict)     # name -> bytes, the files asked for in `fetch`
    instructions: int | None = None               # executed instructions, on targets that count them


class Target:
    """Runs MicroPython scripts somewhere.

    `run(script, files, fetch)`: put `files` (name -> bytes) where the script can `open()` them by bare name,
    execute `script` (MicroPython source text), then return its output and the contents of the files named in
    `fetch`. Raises TargetError with a one-line reason when anything fails (including an exception raised by
    the script: its last traceback line is the reason)."""

    name = "?"
    arch = "?"          # native .mpy architecture this target loads: x64, armv7emsp, ...

    def run(self, script: str, files: dict, fetch=(), timeout: float = 300) -> RunResult:
        raise NotImplementedError


TARGET_NAMES = ("unix", "qemu-m4", "qemu-m7", "qemu-m3", "qemu-xtensa")


def get_target(name: str, port: str | None = None) -> Target:
    """The target called `name`, or a real board on serial `port` when one is given."""
    if port:
        from .serial_board import SerialBoard
        return SerialBoard(port)
    if name == "unix":
        from .unix import UnixTarget
        return UnixTarget()
    if name not in TARGET_NAMES:
        raise TargetError(f"unknown target '{name}': choose one of {', '.join(TARGET_NAMES)} or give --port")
    if name == "qemu-xtensa":
        from .qemu_xtensa import QemuXtensaTarget
        return QemuXtensaTarget()
    from .qemu import QemuTarget
    return QemuTarget(name)
