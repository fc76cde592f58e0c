"""16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int16 activations, int8 weights; issue 9): seeded random
single-layer Keras models (Conv1D, Conv2D, DepthwiseConv2D, Dense: shapes, kernels, strides, paddings,
dilations, groups, depth multipliers, fused activations, keep_num_dims, per-tensor Dense weights, no bias, an
int32 bias) converted by the real TF converter with int16 inputs and outputs, run by the engine's host build
and compared with the TFLM runtime byte for byte on random int16 inputs over the whole range; one model holding
all three ops in the MicroPython unix port and on the emulated Cortex-M4 (its DSP kernels' int16 dispatch)."""

import numpy as np
import pytest

from opcheck import _keras_model, cached_model
from test_ops_keras_layers import _targets_case
from test_ops_spatial import ACTIVATIONS, assert_bitexact, conv_cases, depthwise_cases, depthwise_layer, init

from tinyml.check import check as check_model
from tinyml.model_info import read_model


def int16_model(build, input_shapes, seed, bias32=False, dense_per_tensor=False):
    """Bytes of a 16x8 model with int16 inputs and outputs, calibrated on a seeded random range (so that scales
    differ from seed to seed). bias32: int32 biases instead of the converter's default int64 (TFLM then
    accumulates in int32); dense_per_tensor: one weight scale per Dense layer instead of one per unit."""
    import tensorflow as tf
    from tinyml.quiet import quiet
    model = _keras_model(build, input_shapes, seed)
    rng = np.random.default_rng(seed)
    lo, hi = -float(rng.uniform(0.2, 4.0)), float(rng.uniform(0.2, 4.0))
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: (
        [rng.uniform(lo, hi, size=(1,) + s).astype(np.float32) for s in input_shapes] for _ in range(16))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = tf.int16
    conv.inference_output_type = tf.int16
    if bias32:
        conv._experimental_full_integer_quantization_bias_type = tf.int32
    if dense_per_tensor:
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    with quiet():
        return conv.convert()


def check(recipe, build, input_shape, seed, n_inputs=3, **convert):
    path = cached_model(f"16x8 {recipe} {input_shape} {seed} {convert}",
                        lambda: int16_model(build, [input_shape], seed, **convert))
    assert all(t.dtype == np.int16 for t in read_model(path).inputs)
    assert_bitexact(path, n_inputs=n_inputs, seed=seed)
    return path


# ---------------------------------------------------------------------------------------------------- CONV_2D

# Smaller than test_ops_spatial's cases, dilated ones at 2 or 3.
@pytest.mark.parametrize("h,w,cin,cout,kh,kw,stride,dil,padding,act,bias,seed",
                         conv_cases(8, 31, max_side=10, max_cin=12, max_cout=12, dilations=(2, 4)))
def test_conv2d(h, w, cin, cout, kh, kw, stride, dil, padding, act, bias, seed):
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Conv2D(cout, (kh, kw), strides=stride, dilation_rate=dil, padding=padding,
                                      activation=act, use_bias=bias, **init(seed))(x)
    check(f"conv {h} {w} {cin} {cout} {kh} {kw} {stride} {dil} {padding} {act} {bias}", build, (h, w, cin), seed)


def test_conv2d_groups_and_long_rows():
    """Grouped filters (3 groups), and a receptive field of 3x3x40 = 360 taps (more than one of the kernel's
    256-tap int32 partial sums)."""
    import tensorflow as tf
    check("conv groups", lambda x: tf.keras.layers.Conv2D(6, 3, padding="same", groups=3, activation="relu",
                                                           **init(4))(x), (5, 6, 9), 4)
    check("conv long", lambda x: tf.keras.layers.Conv2D(3, 3, padding="valid", **init(5))(x), (4, 5, 40), 5)


@pytest.mark.parametrize("length,cin,cout,k,stride,dil,padding,seed", [
    (20, 3, 8, 3, 1, 1, "same", 1), (31, 5, 4, 5, 2, 1, "valid", 2), (16, 2, 6, 3, 1, 2, "same", 3),
    (12, 8, 5, 2, 1, 3, "valid", 4)])
def test_conv1d(length, cin, cout, k, stride, dil, padding, seed):
    """Keras Conv1D (a CONV_2D between reshapes), dilated ones included."""
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Conv1D(cout, k, strides=stride, dilation_rate=dil, padding=padding,
                                      activation="relu", **init(seed))(x)
    check(f"conv1d {length} {cin} {cout} {k} {stride} {dil} {padding}", build, (length, cin), seed)


# ---------------------------------------------------------------------------------------- DEPTHWISE_CONV_2D

# Smaller than test_ops_spatial's cases, depth multipliers up to 3.
@pytest.mark.parametrize("h,w,cin,kh,kw,dm,stride,dil,padding,act,seed",
                         depthwise_cases(8, 32, max_side=10, max_cin=12, multipliers=(1, 1, 2, 3)))
def test_depthwise(h, w, cin, kh, kw, dm, stride, dil, padding, act, seed):
    def build(x):
        return depthwise_layer(kh, kw, dm, stride, dil, padding, act, seed)(x)
    check(f"dw {h} {w} {cin} {kh} {kw} {dm} {stride} {dil} {padding} {act}", build, (h, w, cin), seed)


# ------------------------------------------------------------------------------------------ FULLY_CONNECTED

@pytest.mark.parametrize("shape,units,act,per_tensor,seed", [
    ((7,), 5, None, False, 1), ((12,), 3, "relu", True, 2), ((3, 9), 4, "relu6", False, 3),   # keep_num_dims
    ((2, 5), 6, None, True, 4), ((700,), 3, "relu", False, 5), ((1,), 2, None, False, 6)])
def test_dense(shape, units, act, per_tensor, seed):
    """Dense with per-unit (the converter's default) or per-tensor weight scales; on a 2-D input the
    converter keeps the dimensions (keep_num_dims); 700 inputs take three int32 partial sums."""
    import tensorflow as tf
    check(f"dense {shape} {units} {act}",
          lambda x: tf.keras.layers.Dense(units, activation=act, **init(seed))(x), shape, seed,
          dense_per_tensor=per_tensor)


# ------------------------------------------------------------------------------------- int32 bias (TFLM's int32 sums)

def edited(path, edit):
    """The model at `path` with `edit(subgraph)` applied to its first subgraph, cached."""
    import flatbuffers
    from tinyml.model_info import schema
    sch = schema()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(path.read_bytes(), 0))
    edit(model.subgraphs[0])
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("layer", ["conv", "dense"])
def test_int32_bias(layer):
    """Converted with int32 biases, TFLM accumulates in int32 and requantizes as for int8 (other roundings than
    the int64 path's). Without a bias tensor the op's quantized_bias_type option decides: the converter always
    writes a bias (zeros without use_bias), so those models are the converter's with the bias input removed,
    once with the option INT32 and once with it cleared (int64)."""
    import tensorflow as tf

    def build(x):
        if layer == "conv":
            return tf.keras.layers.Conv2D(5, 3, padding="same", **init(7))(x)
        return tf.keras.layers.Dense(6, **init(7))(x)
    path = check(f"bias32 {layer}", build, (5, 4, 3) if layer == "conv" else (11,), 7, bias32=True)
    ops = read_model(path).op_names

    def without_bias(bias_type):
        def edit(g):
            (op,) = [op for op in g.operators if len(op.inputs) == 3]
            assert op.builtinOptions.quantizedBiasType == 2 and g.tensors[op.inputs[2]].type == 2   # INT32
            op.inputs = np.array([op.inputs[0], op.inputs[1], -1], dtype=np.int32)
            op.builtinOptions.quantizedBiasType = bias_type
        return edit
    for bias_type in (2, 0):
        edited_path = cached_model(f"16x8 bias32 {layer} no bias {bias_type}",
                                   lambda: edited(path, without_bias(bias_type)))
        assert read_model(edited_path).op_names == ops
        assert_bitexact(edited_path, n_inputs=2, seed=bias_type)


# --------------------------------------------------------------------------------------------------- refusals

def test_depthwise_int32_bias_refused():
    """The converter can give a 16x8 DEPTHWISE_CONV_2D an int32 bias, which TFLM reads as int64 (past the end
    of the bias: saturated nonsense); the engine refuses it at load."""
    from tinyml import TinymlError
    from tinyml.hostlib import HostEngine
    path = cached_model("16x8 dw bias32", lambda: int16_model(
        lambda x: depthwise_layer(3, 3, 2, 1, 1, "same", None, 8)(x), [(5, 4, 3)], 8, bias32=True))
    with pytest.raises(TinymlError, match=r"\(DEPTHWISE_CONV_2D\): int16 layer's bias must be int64"):
        HostEngine(path.read_bytes(), ops=read_model(path).op_names)


def test_int16_zero_point_refused():
    """16x8 activations are symmetric: an int16 input with a nonzero zero point (which TFLM's CONV_2D would
    ignore) is refused at load."""
    import tensorflow as tf
    from tinyml import TinymlError
    from tinyml.hostlib import HostEngine
    path = check("conv zp", lambda x: tf.keras.layers.Conv2D(2, 2, **init(9))(x), (3, 3, 2), 9, n_inputs=1)

    def edit(g):
        g.tensors[g.inputs[0]].quantization.zeroPoint = np.array([5], dtype=np.int64)
    with pytest.raises(TinymlError, match=r"int16 input and output must have zero point 0"):
        HostEngine(edited(path, edit), ops=["CONV_2D"])


# ------------------------------------------------------------------------------------------------ on targets

def audio_cnn(x):
    """A small keyword-spotting CNN over 49 frames x 10 features (micro_speech's input): Conv2D, a dilated
    grouped Conv2D, DepthwiseConv2D (depth multiplier 2, stride 2), a 1x1 Conv2D, max and average pooling,
    Dense and Softmax. Every 16x8 compute kernel on the targets' dispatch, in the shapes a real model has."""
    import tensorflow as tf
    y = tf.keras.layers.Conv2D(8, (5, 3), strides=(2, 1), padding="same", activation="relu", **init(10))(x)
    y = tf.keras.layers.Conv2D(8, 3, padding="same", dilation_rate=2, groups=2, activation="relu", **init(11))(y)
    y = depthwise_layer(3, 3, 2, 2, 1, "same", "relu6", 12)(y)
    y = tf.keras.layers.Conv2D(16, 1, activation="relu", **init(13))(y)
    y = tf.keras.layers.MaxPooling2D(2)(y)
    y = tf.keras.layers.AveragePooling2D((3, 1))(y)
    y = tf.keras.layers.Dense(16, activation="relu", **init(14))(tf.keras.layers.Flatten()(y))
    return tf.keras.layers.Dense(4, activation="softmax", **init(15))(y)


def trained_16x8(io_type):
    """audio_cnn trained for two epochs on seeded random features (so that its weights are a trained
    model's, not an initializer's), converted 16x8 as a user would: float32 I/O (io_type None) or int16 I/O."""
    import tensorflow as tf
    from tinyml.quiet import quiet
    model = _keras_model(audio_cnn, [(49, 10, 1)], 10)
    rng = np.random.default_rng(10)
    x = rng.normal(size=(128, 49, 10, 1)).astype(np.float32)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, rng.integers(0, 4, len(x)), epochs=2, batch_size=32, verbose=0)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[i:i + 1]] for i in range(32))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    if io_type is not None:
        conv.inference_input_type = conv.inference_output_type = io_type
    with quiet():
        return conv.convert()


def device_model():
    import tensorflow as tf
    return cached_model("16x8 audio cnn int16 io", lambda: trained_16x8(tf.int16))


WHOLE_MODEL_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"}


def test_whole_model_float_io():
    """The same CNN with float32 I/O (QUANTIZE to int16 in, DEQUANTIZE out): the host build matches TFLM."""
    path = cached_model("16x8 audio cnn float io", lambda: trained_16x8(None))
    info = read_model(path)
    assert WHOLE_MODEL_OPS | {"QUANTIZE", "DEQUANTIZE"} <= set(info.op_names)
    assert info.inputs[0].dtype == np.float32
    assert_bitexact(path, n_inputs=2, seed=3)


def test_whole_model_check(capsys):
    """`tinyml check` calls the int16 I/O model ok (its x64 module is the one test_on_targets[unix] builds)."""
    assert check_model(device_model(), arch="x64")
    out = capsys.readouterr().out
    assert "verdict: ok" in out
    assert "note: int16 (16x8) CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: the portable C loops" in out, out


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
def test_on_targets(target):
    path = device_model()
    assert WHOLE_MODEL_OPS <= set(read_model(path).op_names)
    assert_bitexact(path, n_inputs=1, seed=10)
    _targets_case(path, target)
