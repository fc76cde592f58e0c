"""The shipped path on the whole reference-model set: the x64 .mpy (built with only each model's kernels)
inside the real MicroPython unix port, byte for byte against the TFLM runtime."""

import numpy as np
import pytest

from conftest import MODELS
from tinyml import oracle
from tinyml.model_info import read_model
from tinyml.runner import invoke

MODEL_FILES = sorted(p.name for p in MODELS.glob("*.tflite"))


@pytest.mark.parametrize("name", MODEL_FILES)
def test_reference_model_in_micropython(name):
    path = MODELS / name
    info = read_model(path)
    interp = oracle.interpreter(path)
    for seed in range(2):
        rng = np.random.default_rng(seed)
        x = [rng.integers(-128, 128, size=t.shape).astype(t.dtype) for t in info.inputs]
        got = invoke(path, x)
        want = oracle.invoke(path, x, interp)
        for g, w in zip(got, want):
            assert g.tobytes() == w.tobytes(), f"{name}, seed {seed}"
