"""Where the tests find the reference models (MLPerf Tiny and TFLM examples), and one line saying what is
missing when they are not there. They are not downloadable: they live in shared/models beside the checkout,
or wherever TINYML_MODELS points. Standard library only: `make test` runs this with the system python3 before
anything is installed (`python3 tests/refmodels.py` prints the line and exits 2 when they are missing)."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "models"
MODELS = Path(os.environ["TINYML_MODELS"]) if os.environ.get("TINYML_MODELS") else DEFAULT
# The eight models the tests and benchmarks name (shared/models/SHA256SUMS lists the same files).
REQUIRED = ["ad01_int8", "hello_world", "kws_ref_model", "micro_speech", "person_detection",
            "pretrainedResnet_quant", "str_ww_ref_model", "vww_96_int8"]


def missing_message():
    """None when every required model is in MODELS, else one line saying what is missing and how to provide it."""
    missing = [f"{name}.tflite" for name in REQUIRED if not (MODELS / f"{name}.tflite").is_file()]
    if not missing:
        return None
    if os.environ.get("TINYML_MODELS"):
        what = "has none of the reference .tflite files" if len(missing) == len(REQUIRED) else \
            f"lacks {', '.join(missing)}"
        return f"the reference models are missing: TINYML_MODELS={MODELS} {what} (point it at a copy of " \
               f"shared/models)"
    if len(missing) == len(REQUIRED):
        return f"the reference models are missing: expected {DEFAULT}/*.tflite (../shared/models beside the " \
               f"checkout), or set TINYML_MODELS=/path/to/models"
    return f"the reference models are missing: {DEFAULT} lacks {', '.join(missing)} (or set " \
           f"TINYML_MODELS=/path/to/models)"


if __name__ == "__main__":
    msg = missing_message()
    if msg:
        print(f"{sys.argv[1] if len(sys.argv) > 1 else 'tests'}: {msg}", file=sys.stderr)
        sys.exit(2)
