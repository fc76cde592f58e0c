"""Finding the tools a build needs, with a clear message when one is missing."""

import shutil
import subprocess

from . import TinymlError
from .buildlock import serialized
from .paths import CACHE, REPO, VENV_BIN


def require(tool: str, debian_package: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise TinymlError(f"'{tool}' is not installed: run `make setup` (or apt-get install {debian_package})")
    return path


@serialized
def micropython_sources() -> str:
    """MicroPython 1.23 core sources (py/, tools/mpy_ld.py, dynruntime.mk), fetched once into the cache."""
    tree = CACHE / "micropython-1.23"
    if (tree / "py" / "dynruntime.mk").exists():
        return str(tree)
    env = {"PIP": str(VENV_BIN / "pip"), "TINYML_CACHE": str(CACHE), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(REPO / "tools" / "fetch_micropython.sh")], capture_output=True, text=True,
                          env={**__import__("os").environ, **env})
    if proc.returncode != 0:
        raise TinymlError("could not fetch MicroPython's sources from PyPI (mpy-cross-v6.3 sdist): "
                          + (proc.stderr.strip().splitlines() or ["unknown error"])[-1])
    return proc.stdout.strip()


@serialized
def patched_mpy_ld() -> str:
    """mpy_ld.py with the project's patches applied (Xtensa RELA addends), from tools/patched_mpy_ld.sh."""
    proc = subprocess.run([str(REPO / "tools" / "patched_mpy_ld.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError("could not prepare mpy_ld.py: " + proc.stderr.strip()[-300:])
    return proc.stdout.strip()
