"""Keras layers the engine used to refuse (issue 9): REDUCE_MAX (GlobalMaxPooling1D/2D, tf.reduce_max over
random axes), UNPACK (tf.unstack), RESIZE_NEAREST_NEIGHBOR (Resizing, and the raw op with
align_corners or half_pixel_centers), TRANSPOSE_CONV (Conv1DTranspose,
Conv2DTranspose) and QUANTIZE/DEQUANTIZE with int16 (16x8 quantization): seeded random
single-op models from the real TF converter, int8 and float32, the engine's host build against the TFLM
runtime byte for byte; one case of each in the MicroPython unix port and on the emulated Cortex-M4. The
converter never emits int8 <-> int16 QUANTIZE on its own, so those cases are written directly (the same
schema, random scales and zero points)."""

import numpy as np
import pytest

from opcheck import cached_model, keras_model
from test_ops_data import function_model
from test_ops_spatial import assert_bitexact

from tinyml import oracle, runner
from tinyml.model_info import read_model

DTYPES = ["int8", "float"]


def global_max_cases(n, seed):
    rng = np.random.default_rng(seed)
    for i in range(n):
        two_d = i % 2 == 0
        shape = tuple(int(d) for d in rng.integers(1, 7, size=3 if two_d else 2))
        yield two_d, shape, bool(rng.integers(2)), int(rng.integers(1000))


def global_max_model(case, dtype):
    import tensorflow as tf
    two_d, shape, keepdims, seed = case
    layer = tf.keras.layers.GlobalMaxPooling2D if two_d else tf.keras.layers.GlobalMaxPooling1D
    return cached_model(f"global max {dtype} {case}", lambda: keras_model(
        lambda x: layer(keepdims=keepdims)(x), [shape], seed, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(global_max_cases(6, seed=91)), ids=str)
def test_global_max_pooling(dtype, case):
    path = global_max_model(case, dtype)
    assert "REDUCE_MAX" in read_model(path).op_names
    assert_bitexact(path, n_inputs=2, seed=case[-1])


def reduce_max_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        rank = int(rng.integers(1, 4))
        shape = tuple(int(d) for d in rng.integers(1, 6, size=rank))
        k = int(rng.integers(1, rank + 2))
        axes = tuple(int(a) for a in rng.choice(np.arange(-rank - 1, rank + 1), size=k, replace=False))
        if len({a % (rank + 1) for a in axes}) == rank + 1 or 0 in {a % (rank + 1) for a in axes}:
            axes = tuple(a for a in axes if a % (rank + 1) != 0) or (-1,)   # keep the batch dim
        yield shape, axes, bool(rng.integers(2)), int(rng.integers(1000))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(reduce_max_cases(6, seed=92)), ids=str)
def test_reduce_max(dtype, case):
    import tensorflow as tf
    shape, axes, keepdims, seed = case
    path = cached_model(f"reduce_max {dtype} {case}", lambda: function_model(
        lambda x: tf.reduce_max(x, axis=list(axes), keepdims=keepdims),
        [tf.TensorSpec((1,) + shape, tf.float32)], dtype == "int8", seed))
    assert "REDUCE_MAX" in read_model(path).op_names
    assert_bitexact(path, n_inputs=2, seed=seed)


def unpack_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        rank = int(rng.integers(1, 4))
        shape = tuple(int(d) for d in rng.integers(1, 5, size=rank))
        axis = int(rng.integers(-rank - 1, rank + 1))
        if axis % (rank + 1) == 0:
            axis = -1
        yield shape, axis, int(rng.integers(1000))


def unpack_model(case, dtype):
    import tensorflow as tf
    shape, axis, seed = case
    spec = tf.TensorSpec((1,) + shape, tf.int32 if dtype == "int32" else tf.float32)
    return cached_model(f"unpack {dtype} {case}", lambda: function_model(
        lambda x: tf.unstack(x, axis=axis), [spec], dtype == "int8", seed))


@pytest.mark.parametrize("dtype", DTYPES + ["int32"])
@pytest.mark.parametrize("case", list(unpack_cases(6, seed=93)), ids=str)
def test_unpack(dtype, case):
    path = unpack_model(case, dtype)
    assert "UNPACK" in read_model(path).op_names
    assert_bitexact(path, n_inputs=2, seed=case[-1])


def int16_keras_model(build, input_shapes, seed):
    """Bytes of a 16x8-quantized model (int16 activations, int8 weights) with float32 I/O, so that the
    converter wraps it in QUANTIZE float32 -> int16 and DEQUANTIZE int16 -> float32."""
    import tensorflow as tf
    from opcheck import _keras_model
    from tinyml.quiet import quiet
    model = _keras_model(build, input_shapes, seed)
    rng = np.random.default_rng(seed)
    hi = float(rng.uniform(0.3, 4.0))
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: (
        [rng.uniform(-hi, hi, size=(1,) + s).astype(np.float32) for s in input_shapes] for _ in range(16))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    with quiet():
        return conv.convert()


def int16_io_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        rank = int(rng.integers(2, 4))      # flattened by a RESHAPE, the int16 op between the two
        shape = tuple(int(d) for d in rng.integers(2, 6, size=rank))
        yield shape, int(rng.integers(1000))


def int16_io_model(case):
    import tensorflow as tf
    shape, seed = case
    return cached_model(f"16x8 io {case}", lambda: int16_keras_model(
        lambda x: tf.keras.layers.Reshape((int(np.prod(shape)),))(x), [shape], seed))


@pytest.mark.parametrize("case", list(int16_io_cases(4, seed=94)), ids=str)
def test_quantize_int16_converter(case):
    path = int16_io_model(case)
    info = read_model(path)
    assert {"QUANTIZE", "DEQUANTIZE"} <= set(info.op_names)
    assert_bitexact(path, n_inputs=3, seed=case[-1])


FLOAT32, INT16, UINT8, INT8 = 0, 7, 3, 9
PAIRS = [(FLOAT32, INT16), (INT8, INT16), (INT16, INT8), (INT16, INT16), (INT16, FLOAT32), (UINT8, FLOAT32),
         (FLOAT32, INT8), (INT8, INT8)]


def requant_cases(seed):
    rng = np.random.default_rng(seed)
    for src, dst in PAIRS:
        shape = tuple(int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 4))))
        q = []
        for t in (src, dst):
            if t == FLOAT32:
                q.append((None, None))
                continue
            bits = {INT8: 8, UINT8: 8, INT16: 16}[t]
            scale = float(np.float32(10.0 ** rng.uniform(-4, 0) * (2 ** (8 - bits))))
            lo = 0 if t == UINT8 else -(1 << (bits - 1))
            zp = int(rng.integers(lo, lo + (1 << bits))) if rng.random() < 0.7 else 0
            q.append((scale, zp))
        yield src, dst, shape, tuple(q), int(rng.integers(1000))


def requant_model(case):
    from m4diff.tflite_writer import ModelBuilder
    src, dst, shape, q, seed = case
    b = ModelBuilder()
    x = b.tensor(shape, dtype=src, scale=q[0][0], zero_point=q[0][1])
    y = b.tensor(shape, dtype=dst, scale=q[1][0], zero_point=q[1][1])
    if dst == FLOAT32:
        b.op("DEQUANTIZE", [x], [y], "NONE", None)
    else:
        b.op("QUANTIZE", [x], [y], "NONE", None)
    return b.finish([x], [y])


@pytest.mark.parametrize("case", list(requant_cases(seed=95)), ids=str)
def test_quantize_int16_pairs(case):
    path = cached_model(f"requant {case}", lambda: requant_model(case))
    assert_bitexact(path, n_inputs=3, seed=case[-1])


def resize_cases(n, seed):
    """(how, input HWC, output HW, seed): Keras Resizing (nearest: half-pixel centers) and the raw op with
    align_corners or half_pixel_centers or neither. (Keras 3's UpSampling2D converts to RESHAPE + TILE.)"""
    rng = np.random.default_rng(seed)
    hows = ["keras", "v1", "v1_align", "v1_half"]
    for i in range(n):
        shape = tuple(int(d) for d in rng.integers(1, 7, size=2)) + (int(rng.integers(1, 4)),)
        size = tuple(int(d) for d in rng.integers(1, 11, size=2))
        yield hows[i % len(hows)], shape, size, int(rng.integers(1000))


def resize_model(case, dtype):
    import tensorflow as tf
    how, shape, size, seed = case
    if how == "keras":
        def build(x):
            return tf.keras.layers.Resizing(*size, interpolation="nearest")(x)
        return cached_model(f"resize {dtype} {case}", lambda: keras_model(build, [shape], seed, dtype))
    fn = lambda x: tf.raw_ops.ResizeNearestNeighbor(  # noqa: E731
        images=x, size=list(size), align_corners=how == "v1_align", half_pixel_centers=how == "v1_half")
    return cached_model(f"resize {dtype} {case}", lambda: function_model(
        fn, [tf.TensorSpec((1,) + shape, tf.float32)], dtype == "int8", seed))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(resize_cases(8, seed=96)), ids=str)
def test_resize_nearest_neighbor(dtype, case):
    path = resize_model(case, dtype)
    assert "RESIZE_NEAREST_NEIGHBOR" in read_model(path).op_names
    assert_bitexact(path, n_inputs=2, seed=case[-1])


def tconv_cases(n, seed):
    """(1-D or 2-D, input shape, filters, kernel, strides, padding, bias, activation, seed)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        two_d = i % 3 != 2
        dims = 2 if two_d else 1
        spatial = tuple(int(d) for d in rng.integers(1, 7, size=dims))
        kernel = tuple(int(d) for d in rng.integers(1, 5, size=dims))
        strides = tuple(int(d) for d in rng.integers(1, 4, size=dims))
        shape = spatial + (int(rng.integers(1, 5)),)
        yield (two_d, shape, int(rng.integers(1, 6)), kernel, strides, str(rng.choice(["same", "valid"])),
               bool(rng.random() < 0.75), [None, "relu", "relu6"][i % 3], int(rng.integers(1000)))


def tconv_model(case, dtype):
    import tensorflow as tf
    two_d, shape, filters, kernel, strides, padding, bias, act, seed = case
    layer = tf.keras.layers.Conv2DTranspose if two_d else tf.keras.layers.Conv1DTranspose

    def build(x):
        kw = {} if not bias else {"bias_initializer": tf.keras.initializers.RandomUniform(-0.5, 0.5, seed=seed)}
        return layer(filters, kernel if two_d else kernel[0], strides=strides if two_d else strides[0],
                     padding=padding, use_bias=bias, activation=act, **kw)(x)
    return cached_model(f"tconv {dtype} {case}", lambda: keras_model(build, [shape], seed, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(tconv_cases(9, seed=97)), ids=str)
def test_transpose_conv(dtype, case):
    path = tconv_model(case, dtype)
    assert "TRANSPOSE_CONV" in read_model(path).op_names
    assert_bitexact(path, n_inputs=2, seed=case[-1])


def tconv_act_model(case, zero_point):
    """The converter's int8 TRANSPOSE_CONV with a fused RELU, its output zero point moved to `zero_point`, so
    that the activation range ([Z_out, 127], not [-128, 127]) decides outputs: does TFLM apply it?"""
    import flatbuffers
    from tinyml.model_info import schema
    sch = schema()
    base = tconv_model(case, "int8").read_bytes()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(base, 0))
    g = model.subgraphs[0]
    (op,) = g.operators
    assert op.builtinOptions.fusedActivationFunction == sch.ActivationFunctionType.RELU
    g.tensors[op.outputs[0]].quantization.zeroPoint = np.array([zero_point], dtype=np.int64)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("zero_point", [0, 40])
def test_transpose_conv_fused_relu_range(zero_point):
    case = (True, (3, 3, 2), 3, (2, 2), (2, 2), "same", True, "relu", 14)
    path = cached_model(f"tconv relu zp {zero_point} {case}", lambda: tconv_act_model(case, zero_point))
    assert_bitexact(path, n_inputs=3, seed=zero_point)


def _targets_case(path, target):
    info = read_model(path)
    interp = oracle.interpreter(path)
    x = runner.random_inputs(info, seed=1)
    got = runner.invoke(path, x, target)
    want = oracle.invoke(path, x, interp)
    for g, w in zip(got, want):
        assert g.tobytes() == w.tobytes(), f"{path} on {target}"


DEVICE_MODELS = {
    "reduce_max": lambda: global_max_model((True, (5, 4, 3), False, 7), "int8"),
    "unpack": lambda: unpack_model(((3, 4), 1, 8), "int8"),
    "resize_nearest_neighbor": lambda: resize_model(("v1_align", (3, 5, 2), (7, 4), 11), "int8"),
    "transpose_conv": lambda: tconv_model((True, (4, 3, 5), 6, (3, 2), (2, 1), "same", True, "relu", 12), "int8"),
    "transpose_conv_float": lambda: tconv_model((True, (5, 3, 3), 4, (3, 2), (2, 3), "valid", True, None, 13), "float"),
    "quantize_int16": lambda: int16_io_model(((4, 5), 9)),
    "requantize_int16": lambda: cached_model("requant device", lambda: requant_model(
        (INT8, INT16, (3, 7), ((0.05, 3), (0.0004, -7)), 1))),
}


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
@pytest.mark.parametrize("name", sorted(DEVICE_MODELS))
def test_on_targets(name, target):
    _targets_case(DEVICE_MODELS[name](), target)
