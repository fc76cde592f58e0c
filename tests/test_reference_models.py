"""The real reference models in shared/models/ (MLPerf Tiny and TFLM examples): the engine's host build must
give TFLM's bytes on random inputs, and its arena (arena plus descriptors) must not exceed TFLM's."""

import numpy as np
import pytest

from opcheck import random_inputs
from tinyml import oracle
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model

from conftest import MODELS as MODELS_DIR
MODELS = sorted(p.name for p in MODELS_DIR.glob("*.tflite"))  # conftest stops the run when they are missing


def engine_for(path):
    # Only the model's kernels: a kernel elsewhere that fails to build cannot hide this model's result.
    return HostEngine(path.read_bytes(), ops=read_model(path).op_names)


@pytest.mark.parametrize("name", MODELS)
def test_bitexact(name):
    path = MODELS_DIR / name
    info = read_model(path)
    engine = engine_for(path)
    interp = oracle.interpreter(path)
    rng = np.random.default_rng(len(name))
    trials = 8
    for trial in range(trials):
        x = random_inputs(info, rng)
        if trial % 2:
            # Narrow, image-like inputs exercise other paths than uniform noise (less saturation).
            x = [(v // 4).astype(v.dtype) if v.dtype.kind == "i" else v * 0.25 for v in x]
        want = oracle.invoke(path, x, interp)
        got = engine.invoke(x)
        for k, (w, g) in enumerate(zip(want, got)):
            assert w.tobytes() == g, f"{name} output {k}, trial {trial}: TFLM {w.reshape(-1)[:8]} engine " \
                                     f"{np.frombuffer(g, w.dtype)[:8]}"


@pytest.mark.parametrize("name", MODELS)
def test_arena_not_above_tflm(name):
    path = MODELS_DIR / name
    ours = engine_for(path).arena_bytes
    tflm = oracle.arena_used_bytes(path)
    print(f"{name}: engine arena+descriptors {ours} bytes, TFLM arena {tflm} bytes ({100 * ours / tflm:.1f}%)")
    assert ours <= tflm
