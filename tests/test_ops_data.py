"""CONCATENATION, TRANSPOSE, STRIDED_SLICE, PACK and SHAPE: models from the TF converter (Keras, or tf.function
where Keras folds the op away) over seeded random shapes, int8 and float32, the engine's host build against
the TFLM runtime byte for byte."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, keras_model


def function_model(fn, specs, int8, seed=0):
    """Bytes of a model converted from tf.function `fn` over TensorSpecs `specs` (float32 I/O, or full int8)."""
    import tensorflow as tf
    from tinyml.quiet import quiet
    conc = tf.function(fn, input_signature=specs).get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([conc])
    if int8:
        rng = np.random.default_rng(seed)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: (
            [rng.uniform(-2, 2, size=[d or 1 for d in s.shape]).astype(np.float32) for s in specs] for _ in range(16))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    with quiet():
        return conv.convert()


DTYPES = ["int8", "float"]


def concat_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        rank = int(rng.integers(1, 4))
        base = [int(d) for d in rng.integers(1, 6, size=rank)]
        axis = int(rng.integers(-rank, rank + 1))    # Keras axes count the batch dim
        k = axis % (rank + 1) - 1
        shapes = []
        for _ in range(int(rng.integers(2, 5))):
            s = list(base)
            if k >= 0:
                s[k] = int(rng.integers(1, 5))
            shapes.append(tuple(s))
        yield shapes, axis, bool(rng.integers(2)), int(rng.integers(1000))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(concat_cases(6, seed=31)), ids=str)
def test_concatenation(dtype, case):
    import tensorflow as tf
    shapes, axis, with_tanh, seed = case

    def build(*xs):
        # a TANH input has a fixed output scale: the converter requantizes it to the concat's scale
        xs = [tf.keras.layers.Activation("tanh")(xs[0])] + list(xs[1:]) if with_tanh else xs
        return tf.keras.layers.Concatenate(axis=axis)(list(xs))
    path = cached_model(f"concat {dtype} {case}", lambda: keras_model(build, shapes, seed, dtype))
    assert_bitexact(path, n_inputs=2, seed=seed)


def transpose_cases(n, seed):
    rng = np.random.default_rng(seed)
    for i in range(n):
        rank = 2 + i % 4
        shape = tuple(int(d) for d in rng.integers(2, 6, size=rank))    # size-1 dims make it a reshape
        yield shape, tuple(int(p) for p in rng.permutation(rank)), int(rng.integers(1000))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(transpose_cases(8, seed=32)), ids=str)
def test_transpose(dtype, case):
    import tensorflow as tf
    shape, perm, seed = case
    path = cached_model(f"transpose {dtype} {case}", lambda: function_model(
        lambda x: tf.transpose(x, perm), [tf.TensorSpec(shape, tf.float32)], dtype == "int8", seed))
    assert_bitexact(path, n_inputs=2, seed=seed)


def slice_cases(n, seed):
    """(shape, per-axis slices as (begin, end, step) with None for omitted, or an int to shrink, seed); never
    empty."""
    rng = np.random.default_rng(seed)
    while n:
        rank = int(rng.integers(1, 4))
        shape = tuple(int(d) for d in rng.integers(2, 8, size=rank))
        axes = []
        for d in shape:
            if rng.random() < 0.15:
                axes.append(int(rng.integers(-d, d)))   # shrink to one index
                continue
            step = int(rng.choice([1, 1, 2, 3, -1, -2]))
            b = None if rng.random() < 0.3 else int(rng.integers(-d - 1, d + 1))
            e = None if rng.random() < 0.3 else int(rng.integers(-d - 1, d + 1))
            axes.append((b, e, step))
        index = (slice(None),) + tuple(a if isinstance(a, int) else slice(*a) for a in axes)
        if 0 not in np.empty((1,) + shape)[index].shape:
            n -= 1
            yield shape, tuple(axes), int(rng.integers(1000))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(slice_cases(10, seed=33)), ids=str)
def test_strided_slice(dtype, case):
    import tensorflow as tf
    shape, axes, seed = case
    index = (slice(None),) + tuple(a if isinstance(a, int) else slice(*a) for a in axes)
    path = cached_model(f"slice {dtype} {case}", lambda: function_model(
        lambda x: x[index], [tf.TensorSpec((1,) + shape, tf.float32)], dtype == "int8", seed))
    assert_bitexact(path, n_inputs=2, seed=seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_in,axis,shape", [(2, 0, (3,)), (3, 1, (2, 4)), (2, -1, (2, 3)), (4, 2, (2, 2, 3))])
def test_pack(dtype, n_in, axis, shape):
    import tensorflow as tf
    specs = [tf.TensorSpec((1,) + shape, tf.float32) for _ in range(n_in)]
    path = cached_model(f"pack {dtype} {n_in} {axis} {shape}", lambda: function_model(
        lambda *xs: tf.stack(xs, axis=axis), specs, dtype == "int8", n_in))
    assert_bitexact(path, n_inputs=2, seed=n_in)


@pytest.mark.parametrize("shape", [(None, 3), (None, 2, 5, 4)])
def test_shape(shape):
    import tensorflow as tf
    path = cached_model(f"shape {shape}", lambda: function_model(
        lambda x: tf.shape(x, out_type=tf.int32), [tf.TensorSpec(shape, tf.float32)], False))
    assert_bitexact(path, n_inputs=1)
