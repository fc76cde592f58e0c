"""The host tools as a user gets them from `pip install`: the wheel built from this tree carries what the tools
read from outside host/ (boards, device scripts, C sources, fetch scripts, the QEMU ports: tinyml/_share), and
an installed copy runs `tinyml check` from a directory outside the checkout in an environment where TensorFlow
cannot be imported.

The fresh environment is a real venv (no system site-packages) into which pip installs the wheel with
--no-deps; the few light dependencies `check` needs (numpy, flatbuffers, tflite-micro for the .tflite schema,
pyelftools for linking) are linked in from the project's .venv, the same pinned versions, instead of
downloading them: PyPI is slow here and the test must stay fast. TensorFlow is simply not there."""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import MODELS, REPO

VENV_SITE = Path(sysconfig.get_path("purelib"))  # the project's .venv (make setup)
# Top-level names (packages and their .dist-info) of what `tinyml check` imports besides the standard library.
LIGHT_DEPS = ["numpy", "flatbuffers", "tflite_micro", "elftools:pyelftools"]
# What the build reads: the packaging files, host/ and the directories setup.py copies into tinyml/_share.
BUILD_INPUTS = ["setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md",
                "host", "boards", "device", "native_modules", "tools", "ports", "tests/xtensa_link.py"]
NOT_SOURCES = shutil.ignore_patterns("build", "dist", "__pycache__", "*.egg-info", "*.pyc", "*.o", "*.so", "*.mpy")


def _run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built by setuptools' PEP 517 backend (what pip calls) from a copy of what the build reads, so
    that the build leaves nothing in the checkout."""
    src = tmp_path_factory.mktemp("src") / "tinyml-mpy"
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=NOT_SOURCES, symlinks=True)
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    out = src / "dist"
    _run([sys.executable, "-c", f"import setuptools.build_meta as b; b.build_wheel({str(out)!r})"], cwd=src)
    wheels = list(out.glob("tinyml_mpy-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed by pip and only the light dependencies; returns its bin/."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
          "--no-compile", "--disable-pip-version-check", wheel])
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    for dep in LIGHT_DEPS:
        module, _, dist = dep.partition(":")
        names = [module, f"{module}.libs"] + [p.name for p in VENV_SITE.glob(f"{dist or module}-*.dist-info")]
        assert (VENV_SITE / module).is_dir(), f"{module} is not in {VENV_SITE}: run `make setup`"
        for name in names:
            if (VENV_SITE / name).exists():
                (site / name).symlink_to(VENV_SITE / name)
    return venv / "bin"


def _env(bin_dir, **extra):
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(Path.home()), "TF_CPP_MIN_LOG_LEVEL": "3", **extra}
    if "TINYML_CACHE" in os.environ:
        env["TINYML_CACHE"] = os.environ["TINYML_CACHE"]
    return env


def test_wheel_carries_what_the_tools_read_outside_host(wheel):
    with zipfile.ZipFile(wheel) as z:
        infos = {i.filename: i for i in z.infolist()}
        entry_points = z.read(next(n for n in infos if n.endswith(".dist-info/entry_points.txt"))).decode()
    names = set(infos)
    assert "tinyml = tinyml.cli:main" in entry_points
    assert "tinyml/cli.py" in names and "tinyml/data/batteries.json" in names
    share = "tinyml/_share/"
    # Every board, every engine source and every device runtime file, so that new ones cannot be forgotten.
    for pattern in ("boards/*.json", "native_modules/**/*.c", "native_modules/**/*.h", "native_modules/**/Makefile",
                    "device/**/*.py", "device/package.json", "ports/qemu_mps2/**/*.c", "tools/*.sh",
                    "tools/xtensa/*", "tools/patches/*"):
        files = [p for p in REPO.glob(pattern) if p.is_file() and "__pycache__" not in p.parts]
        assert files, pattern
        missing = [str(p.relative_to(REPO)) for p in files if share + p.relative_to(REPO).as_posix() not in names]
        assert not missing, f"not in the wheel: {missing[:5]}"
    # The scripts the tools run (fetch, patch, the Xtensa compiler driver) keep their executable bit.
    for name in (share + "tools/fetch_micropython.sh", share + "tools/xtensa/xtensa-esp32-elf-gcc"):
        assert infos[name].external_attr >> 16 & 0o111, f"{name} is not executable in the wheel"
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".o", ".so", ".mpy"))]
    assert not [n for n in names if n.startswith(("tests/", "build/"))]


def test_installed_copy_finds_its_files_and_builds_outside_site_packages(installed, tmp_path):
    python = installed / "python"
    out = _run([python, "-c", "import tinyml.paths as p; print(p.IN_CHECKOUT, p.REPO, p.BUILD, sep='\\n')"],
               cwd=tmp_path, env=_env(installed)).stdout.split("\n")
    assert out[0] == "False"
    assert Path(out[1]).is_relative_to(installed.parent) and (Path(out[1]) / "boards" / "esp32.json").is_file()
    assert Path(out[2]) == Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml-mpy")) / "build"
    boards = _run([installed / "tinyml", "boards"], cwd=tmp_path, env=_env(installed)).stdout
    assert "esp32" in boards and "pico" in boards


def test_check_runs_from_an_installed_copy_without_tensorflow(installed, tmp_path):
    env = _env(installed, TINYML_BUILD=str(REPO / "build"))  # the checkout's build cache: same sources, same keys
    no_tf = subprocess.run([installed / "python", "-c", "import tensorflow"], capture_output=True, text=True, env=env)
    assert no_tf.returncode != 0 and "No module named 'tensorflow'" in no_tf.stderr
    res = subprocess.run([installed / "tinyml", "check", MODELS / "micro_speech.tflite", "--board", "esp32"],
                         capture_output=True, text=True, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 ops, 336000 MACs; arch xtensawin" in res.stdout
    assert "engine code for xtensawin with this model's kernels:" in res.stdout
    assert "verdict: ok" in res.stdout


def test_installed_copy_builds_qemu_firmware_in_the_cache(installed, tmp_path):
    """The QEMU firmware of an installed copy is built under paths.BUILD (the user cache), never in site-packages:
    the targets' firmware paths are there, and the ports' Makefiles, run as the targets run them (`make -n`: the
    commands without running them), write every object, header and the image only under the firmware's folder."""
    python = installed / "python"
    code = ("import json, tinyml.paths as p, tinyml.targets.qemu as q, tinyml.targets.qemu_xtensa as x\n"
            "builds = [(q.PORT_DIR, q.firmware_path('m3', True), ['CPU=m3']), (x.PORT_DIR, x.FIRMWARE, [])]\n"
            "print(json.dumps({'build': str(p.BUILD), 'package': str(p.PACKAGE), 'runs': ["
            "[str(fw)] + q.port_make_command(d, fw, *o)[0] for d, fw, o in builds]}))")
    out = json.loads(_run([python, "-c", code], cwd=tmp_path, env=_env(installed)).stdout)
    package, build = Path(out["package"]), Path(out["build"])
    assert build == Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml-mpy")) / "build"
    before = sorted(package.rglob("*"))
    for firmware, *cmd in out["runs"]:
        firmware = Path(firmware)
        assert firmware.is_relative_to(build) and not firmware.is_relative_to(package), firmware
        assert f"BUILD={firmware.parent}" in cmd and Path(cmd[cmd.index("-C") + 1]).is_relative_to(package)
        dry = _run(cmd[:1] + ["-n"] + cmd[1:], cwd=tmp_path, env=_env(installed, PATH=f"{installed}:/usr/bin:/bin"))
        written = re.findall(r"(?:-o|>)\s*(/[^\s;'\"]+)", dry.stdout)
        assert len(written) > 50 and str(firmware) in written, dry.stdout[-500:]
        outside = sorted({w for w in written if not Path(w).is_relative_to(firmware.parent) and w != "/dev/null"})
        assert not outside, f"the port's Makefile writes outside {firmware.parent}: {outside[:5]}"
    assert sorted(package.rglob("*")) == before
