"""CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, PAD/PADV2, SPACE_TO_BATCH_ND and
BATCH_TO_SPACE_ND: seeded random single-layer Keras models (shapes, kernels, strides, paddings, dilations,
depth multipliers, activations, calibration ranges) converted by the real TF converter, int8 and float32, run
by the engine's host build and compared with the TFLM runtime byte for byte."""

import numpy as np
import pytest

from opcheck import cached_model, random_inputs

from tinyml import oracle
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model

ACTIVATIONS = [None, "relu", "relu6"]


def keras_model(build, input_shapes, seed, float_model=False, n_calib=24):
    """Bytes of a .tflite from `build(*inputs) -> output`. int8 models are calibrated on data drawn from a
    seeded random range, so that input scales and zero points differ from seed to seed."""
    import tensorflow as tf
    from tinyml.convert import to_float_tflite, to_int8_tflite
    tf.keras.backend.clear_session()  # a conversion depends only on its recipe, not on earlier models
    tf.keras.utils.set_random_seed(seed)
    # Names that sort in input order: the converter orders a model's inputs by name, and the
    # calibration samples follow our order (automatic names like input_layer_10 < input_layer_9 did not).
    inputs = [tf.keras.Input(shape=s, batch_size=1, name=f"input_{i:02d}") for i, s in enumerate(input_shapes)]
    model = tf.keras.Model(inputs, build(*inputs))
    if float_model:
        return to_float_tflite(model)
    rng = np.random.default_rng(seed)
    lo = -float(rng.uniform(0.2, 4.0)) if rng.random() < 0.8 else 0.0
    hi = float(rng.uniform(0.2, 4.0))
    calib = [[rng.uniform(lo, hi, size=s).astype(np.float32) for s in input_shapes] for _ in range(n_calib)]
    return to_int8_tflite(model, calib)


def assert_bitexact(path, n_inputs=3, seed=0):
    """opcheck.assert_bitexact with an engine built from only the model's kernels, so that these tests do not
    depend on unrelated kernels (fewer builds to break, faster to compile)."""
    info = read_model(path)
    engine = HostEngine(path.read_bytes(), ops=info.op_names)
    interp = oracle.interpreter(path)
    rng = np.random.default_rng(seed)
    for trial in range(n_inputs):
        x = random_inputs(info, rng)
        want = oracle.invoke(path, x, interp)
        got = engine.invoke(x)
        for k, (w, g) in enumerate(zip(want, got)):
            g = np.frombuffer(g, dtype=w.dtype).reshape(w.shape)
            if w.tobytes() != g.tobytes():
                diff = np.flatnonzero(w.reshape(-1).view(np.uint8 if w.dtype.itemsize == 1 else np.uint32) !=
                                      g.reshape(-1).view(np.uint8 if w.dtype.itemsize == 1 else np.uint32))
                raise AssertionError(f"{path} ({', '.join(info.op_names)}) output {k}, trial {trial}: "
                                     f"{len(diff)} of {w.size} differ; first at {diff[0]}: TFLM "
                                     f"{w.reshape(-1)[diff[0]]} engine {g.reshape(-1)[diff[0]]}")


def check(recipe, build, input_shapes, seed, float_model=False, n_inputs=3):
    kind = "f32" if float_model else "i8"
    path = cached_model(f"spatial {kind} {recipe} {input_shapes} {seed}",
                        lambda: keras_model(build, input_shapes, seed, float_model))
    assert_bitexact(path, n_inputs=n_inputs, seed=seed)


def init(seed):
    """Kernel and bias initializers whose spread depends on the seed (varied weight scales, nonzero bias)."""
    import tensorflow as tf
    rng = np.random.default_rng(seed + 1000)
    return dict(kernel_initializer=tf.keras.initializers.RandomNormal(stddev=float(rng.uniform(0.05, 1.0)), seed=seed),
                bias_initializer=tf.keras.initializers.RandomNormal(stddev=float(rng.uniform(0.0, 1.0)), seed=seed))


def out_ok(size, k, stride, dil, padding):
    return padding == "same" or (k - 1) * dil + 1 <= size


# ---------------------------------------------------------------------------------------------------- CONV_2D

def conv_cases(n, seed, max_side=14, max_cin=20, max_cout=24, dilations=(1, 4)):
    """n random CONV_2D cases (h, w, cin, cout, kh, kw, stride, dil, padding, act, bias, seed): sides below
    max_side, channels below max_cin/max_cout, a dilation in range(*dilations) for 30% of them (the 16x8 tests
    draw smaller ones: tests/test_ops_int16_conv.py)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        h, w = int(rng.integers(1, max_side)), int(rng.integers(1, max_side))
        cin, cout = int(rng.integers(1, max_cin)), int(rng.integers(1, max_cout))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        padding = ["same", "valid"][int(rng.integers(0, 2))]
        dil = int(rng.integers(*dilations)) if rng.random() < 0.3 else 1
        stride = 1 if dil > 1 else int(rng.integers(1, 4))
        if not (out_ok(h, kh, stride, dil, padding) and out_ok(w, kw, stride, dil, padding)):
            continue
        act = ACTIVATIONS[len(cases) % 3]
        cases.append((h, w, cin, cout, kh, kw, stride, dil, padding, act, bool(rng.random() < 0.85),
                      int(rng.integers(0, 10000))))
    return cases


@pytest.mark.parametrize("float_model,h,w,cin,cout,kh,kw,stride,dil,padding,act,bias,seed",
                         [(False, *c) for c in conv_cases(26, 11)] + [(True, *c) for c in conv_cases(5, 21)])
def test_conv2d(float_model, h, w, cin, cout, kh, kw, stride, dil, padding, act, bias, seed):
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Conv2D(cout, (kh, kw), strides=stride, dilation_rate=dil, padding=padding,
                                      activation=act, use_bias=bias, **init(seed))(x)
    check(f"conv {h} {w} {cin} {cout} {kh} {kw} {stride} {dil} {padding} {act} {bias}", build, [(h, w, cin)],
          seed, float_model=float_model)


@pytest.mark.parametrize("groups,cin,cout", [(2, 4, 6), (3, 6, 3)])
def test_conv2d_groups(groups, cin, cout):
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Conv2D(cout, 3, padding="same", groups=groups, activation="relu", **init(groups))(x)
    check(f"conv groups {groups} {cin} {cout}", build, [(7, 6, cin)], groups)


@pytest.mark.parametrize("length,cin,cout,k,stride,padding,seed", [
    (20, 3, 8, 3, 1, "same", 1), (31, 5, 4, 5, 2, "valid", 2), (16, 1, 6, 4, 1, "causal", 3),
    (12, 8, 8, 3, 1, "causal", 4)])
def test_conv1d(length, cin, cout, k, stride, padding, seed):
    """Keras Conv1D: the converter wraps a CONV_2D in reshapes ("causal" adds a PAD)."""
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.Conv1D(cout, k, strides=stride, padding=padding, activation="relu", **init(seed))(x)
    check(f"conv1d {length} {cin} {cout} {k} {stride} {padding}", build, [(length, cin)], seed)


# ---------------------------------------------------------------------------------------- DEPTHWISE_CONV_2D

def depthwise_cases(n, seed, max_side=14, max_cin=24, multipliers=(1, 1, 2, 3, 8)):
    """n random DEPTHWISE_CONV_2D cases (h, w, cin, kh, kw, dm, stride, dil, padding, act, seed): sides below
    max_side, channels below max_cin, a depth multiplier drawn from `multipliers`."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        h, w, cin = int(rng.integers(1, max_side)), int(rng.integers(1, max_side)), int(rng.integers(1, max_cin))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        dm = multipliers[int(rng.integers(0, len(multipliers)))]
        padding = ["same", "valid"][int(rng.integers(0, 2))]
        dil = int(rng.integers(2, 4)) if rng.random() < 0.3 else 1
        stride = 1 if dil > 1 else int(rng.integers(1, 4))
        if not (out_ok(h, kh, stride, dil, padding) and out_ok(w, kw, stride, dil, padding)):
            continue
        act = ACTIVATIONS[len(cases) % 3]
        cases.append((h, w, cin, kh, kw, dm, stride, dil, padding, act, int(rng.integers(0, 10000))))
    return cases


def depthwise_layer(kh, kw, dm, stride, dil, padding, act, seed):
    import tensorflow as tf
    i = init(seed)
    return tf.keras.layers.DepthwiseConv2D((kh, kw), strides=stride, depth_multiplier=dm, dilation_rate=dil,
                                           padding=padding, activation=act,
                                           depthwise_initializer=i["kernel_initializer"],
                                           bias_initializer=i["bias_initializer"])


@pytest.mark.parametrize("float_model,h,w,cin,kh,kw,dm,stride,dil,padding,act,seed",
                         [(False, *c) for c in depthwise_cases(24, 12)] + [(True, *c) for c in depthwise_cases(5, 22)])
def test_depthwise(float_model, h, w, cin, kh, kw, dm, stride, dil, padding, act, seed):
    def build(x):
        return depthwise_layer(kh, kw, dm, stride, dil, padding, act, seed)(x)
    check(f"dw {h} {w} {cin} {kh} {kw} {dm} {stride} {dil} {padding} {act}", build, [(h, w, cin)], seed,
          float_model=float_model)


# ----------------------------------------------------------------------------------------------- the pools

def pool_cases(n, seed):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        h, w, c = int(rng.integers(1, 16)), int(rng.integers(1, 16)), int(rng.integers(1, 20))
        ph, pw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        padding = ["same", "valid"][int(rng.integers(0, 2))]
        if not (out_ok(h, ph, sh, 1, padding) and out_ok(w, pw, sw, 1, padding)):
            continue
        cases.append((h, w, c, ph, pw, sh, sw, padding, int(rng.integers(0, 10000))))
    return cases


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("h,w,c,ph,pw,sh,sw,padding,seed", pool_cases(12, 13))
def test_pool(kind, h, w, c, ph, pw, sh, sw, padding, seed):
    import tensorflow as tf
    layer = tf.keras.layers.AveragePooling2D if kind == "avg" else tf.keras.layers.MaxPooling2D

    def build(x):
        return layer((ph, pw), strides=(sh, sw), padding=padding)(x)
    check(f"pool {kind} {h} {w} {c} {ph} {pw} {sh} {sw} {padding}", build, [(h, w, c)], seed)


@pytest.mark.parametrize("kind,act", [("avg", "relu"), ("max", "relu6")])
def test_pool_fused_activation(kind, act):
    """The converter fuses a following ReLU into the pool."""
    import tensorflow as tf
    layer = tf.keras.layers.AveragePooling2D if kind == "avg" else tf.keras.layers.MaxPooling2D

    def build(x):
        y = tf.keras.layers.Conv2D(6, 3, padding="same", **init(5))(x)
        return tf.keras.layers.Activation(act)(layer(2, padding="same")(y))
    check(f"pool act {kind} {act}", build, [(9, 7, 3)], 5)


# ---------------------------------------------------------------------------------------------------- MEAN

@pytest.mark.parametrize("h,w,c,seed", [(5, 5, 8, 1), (7, 3, 16, 2), (1, 9, 3, 3), (6, 6, 64, 4)])
def test_global_average_pooling(h, w, c, seed):
    import tensorflow as tf

    def build(x):
        y = tf.keras.layers.Conv2D(c, 3, padding="same", activation="relu", **init(seed))(x)
        return tf.keras.layers.GlobalAveragePooling2D()(y)
    check(f"gap {h} {w} {c}", build, [(h, w, 3)], seed)


@pytest.mark.parametrize("shape,axes,keepdims,seed", [
    ((6, 5), 1, False, 1), ((4, 5, 6), (1, 2), True, 2), ((4, 5, 6), 2, False, 3), ((3, 4, 5), (0, 2), False, 4),
    ((2, 3, 4, 5), (1, 3), True, 5), ((10, 7), -1, True, 6)])
def test_mean_axes(shape, axes, keepdims, seed):
    import tensorflow as tf

    def build(x):
        return tf.keras.ops.mean(x, axis=axes, keepdims=keepdims)
    check(f"mean {shape} {axes} {keepdims}", build, [shape], seed)


# ------------------------------------------------------------------------------------------------------ PAD

@pytest.mark.parametrize("pads,seed", [(((1, 2), (0, 3)), 1), (((0, 0), (2, 2)), 2), (((3, 1), (1, 0)), 3)])
def test_zero_padding(pads, seed):
    import tensorflow as tf

    def build(x):
        y = tf.keras.layers.Conv2D(5, 1, **init(seed))(x)
        return tf.keras.layers.ZeroPadding2D(pads)(y)
    check(f"zeropad {pads}", build, [(4, 5, 3)], seed)


@pytest.mark.parametrize("value,seed", [(0.0, 1), (0.5, 2), (-1.0, 3)])
def test_pad_constant(value, seed):
    import tensorflow as tf

    def build(x):
        return tf.keras.ops.pad(x, [[0, 0], [1, 2], [2, 0], [0, 1]], constant_values=value)
    check(f"pad const {value}", build, [(3, 4, 2)], seed)


# ---------------------------------------------------------------------------- SPACE_TO_BATCH / BATCH_TO_SPACE

@pytest.mark.parametrize("h,w,c,rate,crops,seed", [(12, 12, 3, 2, ((0, 0), (0, 0)), 1),
                                                    (9, 15, 4, 3, ((1, 0), (2, 1)), 2),
                                                    (10, 8, 2, 2, ((0, 3), (1, 1)), 3)])
def test_space_to_batch_and_back(h, w, c, rate, crops, seed):
    """SPACE_TO_BATCH_ND -> CONV_2D -> MAX_POOL_2D -> BATCH_TO_SPACE_ND (the pool keeps the converter from
    fusing the pattern into a dilated CONV_2D). Sizes are multiples of the block, so no padded position
    exists: TFLM leaves those uninitialised."""
    import tensorflow as tf
    kernel = np.random.default_rng(seed).normal(0, 0.5, size=(3, 3, c, 4)).astype(np.float32)

    def body(t):
        y = tf.nn.conv2d(tf.compat.v1.space_to_batch_nd(t, [rate, rate], [[0, 0], [0, 0]]), kernel, 1, "SAME")
        y = tf.nn.max_pool2d(y, 2, 1, "SAME")
        return tf.compat.v1.batch_to_space_nd(y, [rate, rate], crops)

    def build(x):
        return tf.keras.layers.Lambda(body)(x)
    path = cached_model(f"s2b {h} {w} {c} {rate} {crops} {seed}", lambda: keras_model(build, [(h, w, c)], seed))
    ops = read_model(path).op_names
    assert "SPACE_TO_BATCH_ND" in ops and "BATCH_TO_SPACE_ND" in ops, ops
    assert_bitexact(path, seed=seed)


# -------------------------------------------------------------------------------------------------- float32

@pytest.mark.parametrize("seed", [1, 2])
def test_pools_mean_pad_float(seed):
    import tensorflow as tf

    def build(x):
        y = tf.keras.layers.ZeroPadding2D(((1, 0), (2, 1)))(x)
        a = tf.keras.layers.AveragePooling2D(3, strides=2, padding="same")(y)
        b = tf.keras.layers.MaxPooling2D(2, padding="same")(y)
        return [tf.keras.layers.GlobalAveragePooling2D()(a), tf.keras.layers.Flatten()(b),
                tf.keras.ops.mean(y, axis=(1, 3))]
    check("float pools", build, [(7 + seed, 6, 5)], seed, float_model=True)
