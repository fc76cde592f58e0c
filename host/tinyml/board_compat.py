"""Can this board run our native module, which build should it get, and does it have the memory? Pure rules on
what a board reports (`sys.implementation._mpy` and `.version`, `gc.mem_free()`, the ESP32's executable heap),
so `tinyml deploy` can refuse up front with the reason, and tests can check every rule without a board.

Sources of the facts (MicroPython's repository, "mp:"):
- `_mpy` layout (mp:docs/reference/mpyfiles.rst, py/persistentcode.h): bits 0-7 the .mpy version, bits 8-9 the
  sub-version (native code needs an exact match), bits 10-13 the native arch.
- An Arm firmware loads any Arm arch from armv6m up to its own (MPY_FEATURE_ARCH_TEST in 1.23's
  py/persistentcode.h); every other arch loads only its own.
- Garbage collection (1.23's py/mpconfig.h L427-431): ports that allocate native code outside the GC heap
  (MP_PLAT_ALLOC_EXEC / MP_PLAT_COMMIT_EXEC: esp32, esp8266, unix) do not track it as a root, so a module's
  BSS/rodata block on the GC heap can be freed while in use (issues #6592, #6769). Fixed by PR #15908, first in
  1.24. Arm ports allocate native code on the GC heap and have tracked it since 1.13 (PR #6290).
- "armv6m modules over ~2 KB need 1.24" is a limit of 1.23's *linker* (tools/mpy_ld.py: a 2 KB entry jump,
  fixed by PR #15812), not of the firmware: our builds link with a patched mpy_ld.py
  (tools/patches/mpy_ld-armv6m-long-entry-jump.patch), so their armv6m modules load on 1.23 firmware too.
- The Pico 2 (RP2350) reports armv7emsp but its firmware passes floats in core registers (boards/pico2.json
  "arch_note"), so it gets armv7m, the arch its board description names.
"""

from dataclasses import dataclass, field

from . import TinymlError

# Index = the arch field of `_mpy` and of a .mpy header (MP_NATIVE_ARCH_*, mp:py/persistentcode.h).
MPY_ARCHES = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp", "xtensa",
              "xtensawin", "rv32imc", "rv64imc")
ARM_ARCHES = ("armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp")     # in MPY_ARCHES order
MPY_VERSION, MPY_SUB_VERSION = 6, 3          # what mpy-cross-v6.3 / mpy_ld.py (1.23) write
BUILT_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "xtensawin")       # host/tinyml/build.py ARCHES
# Archs whose ports keep native code outside the GC heap: a module's data could be freed before 1.24.
CODE_OUTSIDE_HEAP = ("x86", "x64", "xtensa", "xtensawin", "rv32imc", "rv64imc")
# Room for the smoke script, the import's own allocations and heap fragmentation, on top of module + arena.
HEADROOM_BYTES = 8192


@dataclass
class BoardReport:
    """What the board said about itself (deploy.query_board)."""
    mpy: int                          # sys.implementation._mpy, 0 when absent
    version: tuple                    # (major, minor, micro)
    machine: str = ""                 # sys.implementation._machine
    platform: str = ""                # sys.platform
    mem_free: int = 0                 # gc.mem_free() after gc.collect(), just after a soft reset
    exec_largest: int | None = None   # ESP32: largest free block of esp32.HEAP_EXEC (native code goes there)
    path: list = field(default_factory=list)

    @property
    def arch(self):
        return decode_mpy(self.mpy)[2]

    @property
    def version_text(self):
        return ".".join(str(v) for v in self.version)


def decode_mpy(mpy: int):
    """(version, sub-version, arch name or None) from a `sys.implementation._mpy` value."""
    code = (mpy >> 10) & 0xF
    return mpy & 0xFF, (mpy >> 8) & 3, MPY_ARCHES[code] if code < len(MPY_ARCHES) else f"arch{code}"


def mpy_file_arch(data: bytes):
    """(version, sub-version, arch) from the header of a .mpy file; arch None for bytecode only."""
    if len(data) < 4 or data[:1] != b"M":
        raise TinymlError("not a .mpy file (no 'M' header): give a .tflite, a .mpy from `tinyml pack`, or a job dir")
    code = data[2] >> 2
    return data[1], data[2] & 3, MPY_ARCHES[code] if code < len(MPY_ARCHES) else f"arch{code}"


def loadable(module_arch: str, board_arch: str) -> bool:
    """Whether a firmware reporting `board_arch` imports a native module built for `module_arch`."""
    if module_arch in ARM_ARCHES and board_arch in ARM_ARCHES:
        return ARM_ARCHES.index(module_arch) <= ARM_ARCHES.index(board_arch)
    return module_arch == board_arch


def firmware_problem(report: BoardReport):
    """Why this firmware cannot run our native modules safely, or None. One line, naming what to do."""
    version, sub, arch = decode_mpy(report.mpy)
    where = f"MicroPython {report.version_text} on {report.machine or report.platform}"
    if not report.mpy or arch is None:
        return f"{where} cannot load native modules (no native arch in sys.implementation._mpy): flash a " \
               f"standard MicroPython 1.24+ firmware"
    if (version, sub) != (MPY_VERSION, MPY_SUB_VERSION):
        return f"{where} loads .mpy ABI {version}.{sub}; native modules need ABI {MPY_VERSION}.{MPY_SUB_VERSION} " \
               f"(MicroPython 1.23 or newer): update the firmware to 1.24+"
    if arch in CODE_OUTSIDE_HEAP and tuple(report.version[:2]) < (1, 24):
        return f"{where} frees a native module's data during garbage collection on {arch} (fixed in 1.24, " \
               f"micropython PR #15908): update the firmware to 1.24 or newer"
    if not any(loadable(a, arch) for a in BUILT_ARCHES):
        return f"{where} runs {arch} native code, which tinyml does not build (it builds " \
               f"{', '.join(BUILT_ARCHES)})"
    return None


def choose_arch(report: BoardReport, board: dict | None = None):
    """(arch to build, why): the board description's arch when it names one this firmware loads (the Pico 2's
    armv7m), else the firmware's own arch when we build it, else the fastest built arch it loads."""
    native = report.arch
    if board and board.get("arch") and loadable(board["arch"], native):
        if board["arch"] != native:
            note = board.get("arch_note", "").split(". ")[0]
            return board["arch"], f"{board['id']} reports {native}, but boards/{board['id']}.json asks for " \
                                  f"{board['arch']}" + (f" ({note})" if note else "")
        return native, f"the firmware's own arch ({board['id']})"
    if native in BUILT_ARCHES:
        return native, "the firmware's own arch"
    choices = [a for a in BUILT_ARCHES if loadable(a, native)]
    if not choices:
        raise TinymlError(f"no tinyml build loads on a {native} firmware")
    best = max(choices, key=ARM_ARCHES.index)
    return best, f"the fastest built arch a {native} firmware loads"


def match_board(report: BoardReport, boards: dict):
    """The boards/*.json description whose machine_match names this board's sys.implementation._machine
    (longest match wins), or None."""
    found = [(len(m), b) for b in boards.values() for m in b.get("machine_match", []) if m in report.machine]
    return max(found, key=lambda f: f[0])[1] if found else None


def memory_problem(report: BoardReport, module_bytes: int, arena_bytes: int, text_bytes: int,
                   code_in_exec_heap: bool):
    """Why the pack would not fit, with the numbers, or None. On Arm ports native code loads into the GC heap
    with the rest of the module; on the ESP32 its text goes to the executable heap (IRAM), one block."""
    heap_need = module_bytes - (text_bytes if code_in_exec_heap else 0) + arena_bytes + HEADROOM_BYTES
    if heap_need > report.mem_free:
        parts = f"module {module_bytes}" + (f" less {text_bytes} of code in IRAM" if code_in_exec_heap else "") + \
                f" + arena {arena_bytes} + {HEADROOM_BYTES} headroom"
        return f"needs {heap_need} bytes of heap ({parts}); the board has {report.mem_free} free: use a smaller " \
               f"model, `--small`, or free memory in boot.py"
    if code_in_exec_heap and report.exec_largest is not None and text_bytes > report.exec_largest:
        return f"needs one block of {text_bytes} bytes of executable memory for the engine's code; the board's " \
               f"largest free block in esp32.HEAP_EXEC is {report.exec_largest}: use `--small` or stop Wi-Fi/BLE"
    return None
