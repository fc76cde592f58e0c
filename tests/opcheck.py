"""Shared machinery for engine tests: build single-op models with the real TF converter (cached on disk by
a hash of their recipe), and compare the engine's bytes with the TFLM runtime's."""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model
from tinyml import oracle

CACHE = Path(os.environ.get("TINYML_BUILD", Path(__file__).resolve().parents[1] / "build")) / "testmodels"


def cached_model(recipe: str, make) -> Path:
    """The .tflite for `recipe` (a string naming every parameter); `make()` returns its bytes if not cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (hashlib.sha256(recipe.encode()).hexdigest()[:16] + ".tflite")
    if not path.exists():
        data = make()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def _keras_model(build, input_shapes, seed):
    import tensorflow as tf
    tf.keras.backend.clear_session()  # a conversion depends only on its recipe, not on earlier models
    tf.keras.utils.set_random_seed(seed)
    # Names that sort in input order: the converter orders a model's inputs by name, and the
    # calibration samples follow our order (automatic names like input_layer_10 < input_layer_9 did not).
    inputs = [tf.keras.Input(shape=s, batch_size=1, name=f"input_{i:02d}") for i, s in enumerate(input_shapes)]
    return tf.keras.Model(inputs, build(*inputs))


def int8_keras_model(build, input_shapes, seed=0, n_calib=32, int8_io=True):
    """Bytes of a full-int8 model from `build(inputs) -> outputs` (Keras functional), calibrated on
    seeded random data."""
    from tinyml.convert import to_int8_tflite
    model = _keras_model(build, input_shapes, seed)
    rng = np.random.default_rng(seed)
    calib = [[rng.uniform(-2, 2, size=s).astype(np.float32) for s in input_shapes] for _ in range(n_calib)]
    return to_int8_tflite(model, calib, int8_io=int8_io)


def float_keras_model(build, input_shapes, seed=0):
    """Bytes of a float32 model from `build(inputs) -> outputs` (Keras functional)."""
    from tinyml.convert import to_float_tflite
    return to_float_tflite(_keras_model(build, input_shapes, seed))


def keras_model(build, input_shapes, seed, dtype):
    """float32 (dtype "float") or full-int8 model bytes from `build`."""
    if dtype == "float":
        return float_keras_model(build, input_shapes, seed)
    return int8_keras_model(build, input_shapes, seed=seed)


def random_inputs(info, rng):
    out = []
    for t in info.inputs:
        dt = np.dtype(t.dtype)
        if dt.kind == "f":
            out.append(rng.uniform(-2, 2, size=t.shape).astype(dt))
        else:
            lim = np.iinfo(dt)
            out.append(rng.integers(lim.min, lim.max, size=t.shape, endpoint=True).astype(dt))
    return out


def assert_bitexact(model_path, n_inputs=3, seed=0):
    """Engine (host build) == TFLM, byte for byte, on n_inputs random inputs. Returns the engine."""
    info = read_model(model_path)
    engine = HostEngine(Path(model_path).read_bytes())
    interp = oracle.interpreter(model_path)
    rng = np.random.default_rng(seed)
    specs = [(o.dtype, o.shape) for o in info.outputs]
    for trial in range(n_inputs):
        x = random_inputs(info, rng)
        want = oracle.invoke(model_path, x, interp)
        got = engine.invoke(x, specs)
        for k, (w, g) in enumerate(zip(want, got)):
            if w.tobytes() != g.tobytes():
                diff = np.flatnonzero(w.reshape(-1) != g.reshape(-1))
                raise AssertionError(
                    f"{model_path} ({', '.join(info.op_names)}) output {k}, trial {trial}: {len(diff)} of "
                    f"{w.size} differ; first at {diff[0]}: TFLM {w.reshape(-1)[diff[0]]} engine "
                    f"{g.reshape(-1)[diff[0]]}")
    return engine
