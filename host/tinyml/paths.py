"""Where things live: the repository, build outputs, the download cache."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NATIVE = REPO / "native_modules"
DEVICE = REPO / "device"
BOARDS = REPO / "boards"
BUILD = Path(os.environ.get("TINYML_BUILD", REPO / "build"))
CACHE = Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml-mpy"))
VENV_BIN = Path(sys.executable).parent


def venv_tool(name: str) -> str:
    """A console script installed next to the running Python (micropython, mpremote, ...)."""
    path = VENV_BIN / name
    return str(path) if path.exists() else name
