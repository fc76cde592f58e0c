"""Where things live: the project's files outside host/ (boards, device scripts, C sources, fetch scripts),
build outputs and the download cache.

Two layouts are supported:
- a checkout (and `pip install -e .`, which `make setup` does): everything is read from the repository;
- an installed wheel (`pip install tinyml-mpy`): the wheel carries copies of boards/, device/,
  native_modules/, tools/ and ports/ inside the package as tinyml/_share/ (setup.py copies them at build
  time), and builds go to the cache because site-packages may not be writable."""

import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE.parents[1]


def _is_checkout(root: Path) -> bool:
    return (root / "native_modules").is_dir() and (root / "boards").is_dir() and (root / "host").is_dir()


IN_CHECKOUT = _is_checkout(_CHECKOUT)
# The directories below are laid out the same way in both: REPO / "boards", REPO / "tools" / "x.sh", ...
REPO = _CHECKOUT if IN_CHECKOUT else PACKAGE / "_share"
NATIVE = REPO / "native_modules"
DEVICE = REPO / "device"
BOARDS = REPO / "boards"
TOOLS = REPO / "tools"
DATA = PACKAGE / "data"   # package data of the host tools themselves (batteries.json)
CACHE = Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml-mpy"))
BUILD = Path(os.environ.get("TINYML_BUILD", REPO / "build" if IN_CHECKOUT else CACHE / "build"))
VENV_BIN = Path(sys.executable).parent


def venv_tool(name: str) -> str:
    """A console script installed next to the running Python (micropython, mpremote, ...)."""
    path = VENV_BIN / name
    return str(path) if path.exists() else name
