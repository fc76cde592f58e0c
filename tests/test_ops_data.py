"""CONCATENATION, TRANSPOSE, STRIDED_SLICE, PACK and SHAPE: models from the TF converter (Keras, or tf.function
where Keras folds the op away) over seeded random shapes, int8 and float32 (STRIDED_SLICE also int16 and int32),
the engine's host build against the TFLM runtime byte for byte."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, keras_model
from tinyml.model_info import read_model


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
# STRIDED_SLICE also runs on unquantized int16 and int32 tensors (TFLM takes them): with int8 and float, elements
# of 1, 2 and 4 bytes, each of which tm_strided_copy copies with its own code.
SLICE_DTYPES = DTYPES + ["int16", "int32"]


def input_spec(shape, dtype):
    """The converter's input for a `dtype` model: float32 (quantized for int8), else that integer type."""
    import tensorflow as tf
    return tf.TensorSpec(shape, tf.float32 if dtype in DTYPES else getattr(tf, dtype))


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


# Permutations that keep trailing input dims in place: tm_strided_copy copies those runs whole.
WHOLE_RUN_TRANSPOSES = [
    ((3, 4, 5), (1, 0, 2), 1),          # rows of 5
    ((2, 3, 4, 5), (1, 0, 2, 3), 2),    # blocks of 4x5 (rows consecutive in the input join)
    ((2, 3, 4, 5), (0, 2, 1, 3), 3),    # rows of 5, the dims above them swapped
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(transpose_cases(8, seed=32)) + WHOLE_RUN_TRANSPOSES, ids=str)
def test_transpose(dtype, case):
    import tensorflow as tf
    shape, perm, seed = case
    path = cached_model(f"transpose {dtype} {case}", lambda: function_model(
        lambda x: tf.transpose(x, perm), [tf.TensorSpec(shape, tf.float32)], dtype == "int8", seed))
    assert "TRANSPOSE" in read_model(path).op_names or perm == tuple(range(len(perm)))  # identity: folded away
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


ALL = (None, None, 1)
# Slices for each path of tm_strided_copy (random cases seldom hit the contiguous ones), in slice_cases' form; the
# batch dim of 1 in front is kept whole.
PATH_SLICES = [
    ((6, 1, 4), ((2, None, 1), ALL, ALL), 1),       # a streaming ring keeping its newest rows: one block
    ((3, 4, 5), (1, ALL, ALL), 2),                  # whole rows under a shrunk axis: one block
    ((3, 4, 5), (ALL, (1, 2, 1), ALL), 3),          # a single-entry axis between rows 20 apart: rows of 5
    ((4, 6), ((1, 3, 1), (1, 5, 1)), 4),            # contiguous rows of 4, 6 apart
    ((4, 6), ((None, None, -1), ALL), 5),           # whole rows in reverse order: rows of 6, not one block
    ((4, 6), (ALL, (None, None, -1)), 6),           # each row reversed: element by element
    ((4, 6), ((1, 3, 1), (None, None, 2)), 7),      # every other element: element by element
    ((4, 6), (ALL, (1, None, 5)), 8),               # one element per row (step 5): rows of one element
]


@pytest.mark.parametrize("dtype", SLICE_DTYPES)
@pytest.mark.parametrize("case", list(slice_cases(10, seed=33)) + PATH_SLICES, ids=str)
def test_strided_slice(dtype, case):
    shape, axes, seed = case
    index = (slice(None),) + tuple(a if isinstance(a, int) else slice(*a) for a in axes)
    path = cached_model(f"slice {dtype} {case}", lambda: function_model(
        lambda x: x[index], [input_spec((1,) + shape, dtype)], dtype == "int8", seed))
    assert "STRIDED_SLICE" in read_model(path).op_names
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
