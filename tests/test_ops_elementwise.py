"""ADD, SUB, MUL (with numpy broadcasting), LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, ELU and float
SOFTMAX: single-op models from the TF converter over seeded random shapes, quantizations and activations, the
engine's host build against the TFLM runtime byte for byte."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, int8_keras_model

ACTIVATIONS = [None, "relu", "relu6", None]


def float_keras_model(build, input_shapes, seed=0):
    """Bytes of a float32 model from `build(inputs) -> outputs` (Keras functional)."""
    import tensorflow as tf
    from tinyml.convert import to_float_tflite
    tf.keras.utils.set_random_seed(seed)
    inputs = [tf.keras.Input(shape=s, batch_size=1) for s in input_shapes]
    return to_float_tflite(tf.keras.Model(inputs, build(*inputs)))


def make(build, input_shapes, seed, dtype):
    if dtype == "float":
        return float_keras_model(build, input_shapes, seed)
    return int8_keras_model(build, input_shapes, seed=seed)


def binary_cases(n, seed):
    """(shape1, shape2 or None, const_shape or None, activation, seed): shapes broadcast against each other;
    a constant second operand may have a lower rank."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        rank = int(rng.integers(1, 5))
        out = [int(d) for d in rng.integers(1, 7, size=rank)]
        s1 = tuple(d if rng.random() > 0.3 else 1 for d in out)
        s2 = tuple(d if rng.random() > 0.3 else 1 for d in out)
        if i % 3 == 2:
            yield s1, None, s2[int(rng.integers(0, rank)):] or (1,), ACTIVATIONS[i % 4], int(rng.integers(1000))
        else:
            yield s1, s2, None, ACTIVATIONS[i % 4], int(rng.integers(1000))


def binary_model(op, s1, s2, const, act, seed, dtype):
    import tensorflow as tf
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}[op]

    def build(*xs):
        b = xs[1] if s2 is not None else tf.constant(
            np.random.default_rng(seed).uniform(-2, 2, size=const).astype(np.float32))
        y = fn(xs[0], b)
        return tf.keras.layers.Activation(act)(y) if act else y
    shapes = [s1] if s2 is None else [s1, s2]
    return cached_model(f"{op} {dtype} {s1} {s2} {const} {act} {seed}", lambda: make(build, shapes, seed, dtype))


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("case", list(binary_cases(9, seed=11)), ids=str)
def test_binary_int8(op, case):
    assert_bitexact(binary_model(op, *case, "int8"), seed=case[-1])


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("case", list(binary_cases(3, seed=12)), ids=str)
def test_binary_float(op, case):
    assert_bitexact(binary_model(op, *case, "float"), seed=case[-1])
