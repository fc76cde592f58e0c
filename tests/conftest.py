import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tests"))
# The reference models (MLPerf Tiny, TFLM examples) live in shared/models beside the checkout, or wherever
# TINYML_MODELS points. This is the one definition every test module imports (`from conftest import MODELS`).
from refmodels import MODELS, missing_message  # noqa: E402



def qemu_xtensa_target():
    """The emulated Xtensa board (qemu-xtensa), its firmware built first; a build problem fails the test naming it
    (the Xtensa tests' module fixtures share this)."""
    from tinyml.targets import TargetError, get_target
    from tinyml.targets.qemu_xtensa import build_firmware
    try:
        build_firmware()
    except TargetError as exc:
        pytest.fail(str(exc))
    return get_target("qemu-xtensa")


def tinyml_cli(*args, timeout=600, **kwargs):
    """`python -m tinyml.cli ARGS` from the checkout, as a user runs it: the CompletedProcess, output as text."""
    import subprocess
    return subprocess.run([sys.executable, "-m", "tinyml.cli", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout, **kwargs)

def pytest_configure(config):
    # Without them most tests cannot run: stop before collecting, with one line (no traceback, no skips).
    if config.option.help or config.option.version:
        return
    msg = missing_message()
    if msg:
        pytest.exit(msg, returncode=2)


# The test files that take longest (a minute or more each: quick trainings, transfers over the emulated UART,
# the in-test fuzzer), measured with `pytest --durations=0`. pytest-xdist (`make test`, --dist loadfile) hands
# files to the workers in collection order; starting with the longest ones keeps one worker from being left
# with a long file at the end while the other is idle.
LONGEST_FIRST = ("test_serial_deploy.py", "test_train_visual.py", "test_fuzz.py", "test_train_kws.py",
                 "test_train_anomaly.py", "test_train_gesture.py", "test_demo.py", "test_qemu_engine.py",
                 "test_xtensa_engine.py", "test_mip.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))    # stable: the rest keep their order
