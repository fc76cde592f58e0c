"""Third-party C sources fetched from PyPI sdists at build time (never committed), shared by the optional
features of the native module: each tools/fetch_*.sh downloads its sdist into the cache, prepares the tree the
device compiles, and prints both paths."""

import hashlib
import os
import subprocess
from pathlib import Path

from . import TinymlError
from .buildlock import serialized
from .paths import CACHE, REPO, VENV_BIN


@serialized
def fetch(script, what):
    """(pristine sdist tree, the tree the device compiles) from tools/`script`; `what` names it in errors."""
    env = {**os.environ, "PIP": str(VENV_BIN / "pip"), "TINYML_CACHE": str(CACHE)}
    proc = subprocess.run([str(REPO / "tools" / script)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise TinymlError(f"could not fetch {what} from PyPI: "
                          + (proc.stderr.strip().splitlines() or ["unknown error"])[-1])
    pristine, tree = proc.stdout.split()
    return Path(pristine), Path(tree)


def content_hash(*parts) -> str:
    """A short key for build outputs: bytes as they are, anything else by its repr."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
    return h.hexdigest()[:12]
