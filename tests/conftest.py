import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tests"))
# The reference models (MLPerf Tiny, TFLM examples) live in shared/models beside the checkout.
MODELS = Path(os.environ.get("TINYML_MODELS", REPO.parent / "shared" / "models"))
if not (MODELS / "kws_ref_model.tflite").exists():
    raise RuntimeError(f"reference models not found in {MODELS}: set TINYML_MODELS to shared/models")
