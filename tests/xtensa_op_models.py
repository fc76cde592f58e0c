"""Tiny models for tests/test_xtensa_engine.py: one data-movement op each (the kernels whose copies are memcpy
calls or inline TM_COPY_SMALL moves on xtensawin), and a small stateful streaming model. All from the real TF
converter, cached under build/testmodels (opcheck.cached_model)."""

import numpy as np

from opcheck import cached_model, float_keras_model, int8_keras_model
from test_ops_data import function_model


# TensorFlow is imported only when a model is not cached yet (importing it takes seconds).

def _int8_function_model(fn, shape, seed):
    """Full-int8 model bytes of tf.function `fn(tf, x)` over a float32 input of `shape`."""
    import tensorflow as tf
    return function_model(lambda x: fn(tf, x), [tf.TensorSpec(shape, tf.float32)], True, seed)


def strided_slice(shape, index, seed):
    """int8 STRIDED_SLICE x[index] of a (1, *shape) input; `index` includes the batch axis."""
    return cached_model(f"xtensa slice int8 {shape} {index} {seed}", lambda: _int8_function_model(
        lambda tf, x: x[index], (1,) + shape, seed))


def transpose(shape, perm, seed):
    return cached_model(f"xtensa transpose int8 {shape} {perm} {seed}", lambda: _int8_function_model(
        lambda tf, x: tf.transpose(x, perm), shape, seed))


def gather(shape, indices, axis, seed):
    """int8 GATHER of `indices` along `axis` of a (1, *shape) input."""
    return cached_model(f"xtensa gather int8 {shape} {indices} {axis} {seed}", lambda: _int8_function_model(
        lambda tf, x: tf.gather(x, tf.constant(indices, tf.int32), axis=axis), (1,) + shape, seed))


def pad(shape, pads, dtype, seed, value=0.0):
    """Constant padding of a (1, *shape) input, int8 or float32: PAD with 0 (int8: the zero point), PADV2 with
    another value."""
    def build(x):
        import tensorflow as tf
        return tf.keras.ops.pad(x, [[0, 0]] + [list(p) for p in pads], constant_values=value)
    make = int8_keras_model if dtype == "int8" else float_keras_model
    return cached_model(f"xtensa pad {dtype} {shape} {pads} {value} {seed}",
                        lambda: make(build, [shape], seed=seed))


def concatenation(shapes, axis, seed):
    def build(*xs):
        import tensorflow as tf
        return tf.keras.layers.Concatenate(axis=axis)(list(xs))
    return cached_model(f"xtensa concat int8 {shapes} {axis} {seed}",
                        lambda: int8_keras_model(build, shapes, seed=seed))


# ---- a small stateful streaming model ------------------------------------------------------------------

STREAM_FRAMES = 2       # new feature rows per invoke
STREAM_CHANNELS = 6


def streaming_module(seed):
    """A tf.Module whose `step` is one invoke: (1, 2, 6) features -> (1, 1) probability. Two temporal
    convolutions each see their ring of past rows (a tf.Variable) concatenated with the new rows and keep the
    newest rows for the next invoke (READ_VARIABLE, CONCATENATION, STRIDED_SLICE, ASSIGN_VARIABLE; CALL_ONCE
    zeroes the rings), as microVAD and the keyword-spotting model do, with random weights."""
    import tensorflow as tf
    from tinyml.convert import ring_window
    rng = np.random.default_rng(seed)
    conv_w = tf.constant(rng.normal(0, 0.4, size=(3, 1, STREAM_CHANNELS, 8)).astype(np.float32))
    conv_b = tf.constant(rng.normal(0, 0.1, size=8).astype(np.float32))
    dw_w = tf.constant(rng.normal(0, 0.4, size=(4, 1, 8, 1)).astype(np.float32))
    fc_w = tf.constant(rng.normal(0, 0.3, size=(8, 1)).astype(np.float32))
    module = tf.Module()
    module.rings = [tf.Variable(tf.zeros((1, 3 - 1, 1, STREAM_CHANNELS)), trainable=False, name="ring_input"),
                    tf.Variable(tf.zeros((1, 4 - 1, 1, 8)), trainable=False, name="ring_depthwise")]

    @tf.function(input_signature=[tf.TensorSpec((1, STREAM_FRAMES, STREAM_CHANNELS), tf.float32)])
    def step(features):
        x = tf.reshape(features, (1, STREAM_FRAMES, 1, STREAM_CHANNELS))
        x = tf.nn.relu(tf.nn.conv2d(ring_window(module.rings[0], x), conv_w, 1, "VALID") + conv_b)   # 2 rows out
        x = tf.nn.relu(tf.nn.depthwise_conv2d(ring_window(module.rings[1], x), dw_w, (1, 1, 1, 1), "VALID"))
        return tf.sigmoid(tf.matmul(tf.reshape(x[:, -1], (1, 8)), fc_w))

    module.step = step
    return module


def streaming_model(seed=7):
    """The streaming model's .tflite (int8 in, uint8 out), calibrated on a stream of random features."""
    from tinyml.convert import to_streaming_int8
    rng = np.random.default_rng(seed)
    calib = rng.uniform(0, 3, size=(40, 1, STREAM_FRAMES, STREAM_CHANNELS)).astype(np.float32)
    return cached_model(f"xtensa streaming int8 {seed}", lambda: to_streaming_int8(streaming_module(seed), calib))


def streaming_probe(path, out_path):
    """The streaming model with extra outputs (each READ_VARIABLE's output: the rings as the previous invokes
    left them, and the FULLY_CONNECTED output), written to out_path: a wrong byte of state shows at the next
    invoke, where the uint8 probability alone could hide it."""
    from test_streaming_converter import with_probes
    out_path.write_bytes(with_probes(path.read_bytes()))
    return out_path
