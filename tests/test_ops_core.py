"""FULLY_CONNECTED, SOFTMAX, QUANTIZE, DEQUANTIZE and RESHAPE: single-op models from the TF converter,
randomized shapes and activations, the engine's host build against the TFLM runtime byte for byte."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, int8_keras_model

ACTIVATIONS = [None, "relu", "relu6", None]


def fc_cases(n=12, seed=1):
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield (int(rng.integers(1, 70)), int(rng.integers(1, 40)), ACTIVATIONS[i % 4], bool(i % 3 == 2),
               int(rng.integers(0, 1000)))


@pytest.mark.parametrize("depth,units,act,use_bias_false,seed", list(fc_cases()))
def test_fully_connected(depth, units, act, use_bias_false, seed):
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Dense(units, activation=act, use_bias=not use_bias_false)(x)
    path = cached_model(f"fc {depth} {units} {act} {use_bias_false} {seed}",
                        lambda: int8_keras_model(build, [(depth,)], seed=seed))
    assert_bitexact(path, seed=seed)


@pytest.mark.parametrize("rows,depth", [(1, 4), (3, 10), (2, 37)])
def test_fully_connected_3d_keep_dims_and_softmax(rows, depth):
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Softmax()(tf.keras.layers.Dense(depth)(x))
    path = cached_model(f"fc3d softmax {rows} {depth}", lambda: int8_keras_model(build, [(rows, 8)], seed=rows))
    assert_bitexact(path)


@pytest.mark.parametrize("scale", [0.05, 1.0, 8.0])
def test_softmax_input_scales(scale):
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Softmax()(tf.keras.layers.Dense(12)(x) * scale)
    path = cached_model(f"softmax scale {scale}", lambda: int8_keras_model(build, [(20,)], seed=3))
    assert_bitexact(path, n_inputs=5)


def test_float_io_quantize_dequantize_reshape():
    import tensorflow as tf

    def build(x):
        y = tf.keras.layers.Dense(6, activation="relu")(tf.keras.layers.Flatten()(x))
        return tf.keras.layers.Reshape((2, 3))(y)
    path = cached_model("float io fc reshape", lambda: int8_keras_model(build, [(4, 5)], seed=7, int8_io=False))
    assert_bitexact(path, n_inputs=5)
