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


def pytest_configure(config):
    # Without them most tests cannot run: stop before collecting, with one line (no traceback, no skips).
    if config.option.help or config.option.version:
        return
    msg = missing_message()
    if msg:
        pytest.exit(msg, returncode=2)
