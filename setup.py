"""The build of the `tinyml-mpy` wheel. Everything is declared in setup.cfg; this file only adds one build
step: the host tools read files that live outside host/ in the repository (boards/*.json, the device scripts
they send to boards, the engine's C sources they compile, the fetch/patch scripts, the QEMU ports), so the
wheel carries copies of them as tinyml/_share/, where tinyml/paths.py finds them when not in a checkout.
MANIFEST.in puts the same directories into the sdist, so a wheel built from the sdist has them too."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Directory -> glob patterns of the files the installed host tools need from it.
SHARED = {
    "boards": ["*.json"],
    "device": ["**/*.py", "**/*.pyi", "**/*.json"],
    "native_modules": ["**/*.c", "**/*.cc", "**/*.h", "**/Makefile", "**/*.mk", "**/*.md"],
    "tools": ["*.sh", "xtensa/*", "patches/*"],
    "ports": ["**/*"],
    "tests": ["xtensa_link.py"],     # the Xtensa linker ports/qemu_xtensa's Makefile runs (Debian's LLVM has none)
}
SKIP_PARTS = {"__pycache__", "build"}


def shared_files():
    """(source, path inside _share) for every file SHARED selects, sorted so builds are reproducible."""
    found = set()
    for top, patterns in SHARED.items():
        for pattern in patterns:
            for src in (ROOT / top).glob(pattern):
                rel = src.relative_to(ROOT)
                if src.is_file() and not SKIP_PARTS & set(rel.parts) and src.suffix not in (".pyc", ".o", ".mpy"):
                    found.add(rel)
    return sorted(found)


class BuildPyWithShare(build_py):
    def run(self):
        super().run()
        # An editable install reads the checkout itself: copying would put a second tree into host/.
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "tinyml" / "_share"
        for rel in shared_files():
            target = dest / rel
            self.mkpath(str(target.parent))
            self.copy_file(str(ROOT / rel), str(target))  # keeps the mode: the .sh scripts stay executable


setup(cmdclass={"build_py": BuildPyWithShare})
