"""int16 (16x8 quantization: int16 activations, int8 weights) ADD, SUB, MUL, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN,
PAD, PADV2, CONCATENATION and RESHAPE (issue 9): seeded random single-op models from the real TF converter with
int16 inputs and outputs (numpy broadcasting, differing input scales, fused RELU/RELU6), the engine's host build
against the TFLM runtime byte for byte; one batched run of one model per op in the MicroPython unix port and on
the emulated Cortex-M4. What the converter never writes is built directly with the same schema: PADV2 with an
int16 constant (the converter leaves the constant float32, which TFLM refuses), CONCATENATION of inputs with
different int16 scales (TFLM copies their values unchanged), and nonzero int16 zero points that TFLM refuses
and so must the engine."""

import operator

import numpy as np
import pytest

from opcheck import cached_model, random_inputs
from test_ops_elementwise import binary_cases
from m4diff.tflite_writer import ModelBuilder
from micropython_run import READ_FILE

from tinyml import TinymlError, oracle
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model

INT16 = 7


def int16_model(fn, shapes, seed):
    """Bytes of a 16x8 model of tf.function `fn` over float32 inputs of `shapes` (batch 1 added), int16 in and
    out, calibrated on seeded random data whose range differs per input (so input scales differ)."""
    import tensorflow as tf
    from tinyml.quiet import quiet
    specs = [tf.TensorSpec((1,) + tuple(s), tf.float32) for s in shapes]
    conc = tf.function(fn, input_signature=specs).get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([conc], trackable_obj=None)
    rng = np.random.default_rng(seed)
    ranges = [float(rng.uniform(0.2, 6.0)) for _ in shapes]
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: (
        [rng.uniform(-r, r, size=(1,) + tuple(s)).astype(np.float32) for r, s in zip(ranges, shapes)]
        for _ in range(16))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = tf.int16
    conv.inference_output_type = tf.int16
    with quiet():
        return conv.convert()


def assert_bitexact(path, seed, n_random=3):
    """Engine (host build with only the model's kernels) == TFLM, byte for byte, on `n_random` random int16
    inputs and on inputs all at the int16 limits (every window's maximum at -32768, saturated sums)."""
    info = read_model(path)
    engine = HostEngine(path.read_bytes(), ops=info.op_names)
    interp = oracle.interpreter(path)
    rng = np.random.default_rng(seed)
    trials = [random_inputs(info, rng) for _ in range(n_random)]
    trials += [[np.full(t.shape, v, np.dtype(t.dtype)) for t in info.inputs] for v in (-32768, 32767)]
    for trial, x in enumerate(trials):
        want = oracle.invoke(path, x, interp)
        for k, (w, g) in enumerate(zip(want, engine.invoke(x))):
            g = np.frombuffer(g, dtype=w.dtype).reshape(w.shape)
            diff = np.flatnonzero(w.reshape(-1) != g.reshape(-1))
            assert diff.size == 0, (f"{path} ({', '.join(info.op_names)}) output {k}, trial {trial}: {diff.size} "
                                    f"of {w.size} differ; first at {diff[0]}: TFLM {w.reshape(-1)[diff[0]]} "
                                    f"engine {g.reshape(-1)[diff[0]]}")


def single_op(path, op):
    """The model is the one int16 op (with its constants): nothing else decides the outputs."""
    info = read_model(path)
    assert info.op_names == [op], info.op_names
    assert all(np.dtype(t.dtype) == np.int16 for t in list(info.inputs) + list(info.outputs))
    return path


# ---- ADD, SUB, MUL ----------------------------------------------------------------------------------------

def activation(name, y):
    """`y` through tf.nn.relu or relu6 (which the converter fuses into the op before it), or as it is."""
    import tensorflow as tf
    return {None: lambda v: v, "relu": tf.nn.relu, "relu6": tf.nn.relu6}[name](y)


# TensorFlow is imported inside the model builders only: a cached model needs none of it (seconds saved).
def binary_model(op, s1, s2, const, act, seed):
    fn = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}[op]
    shapes = [s1] if s2 is None else [s1, s2]

    def build(*xs):
        import tensorflow as tf
        b = xs[1] if s2 is not None else tf.constant(
            np.random.default_rng(seed).uniform(-2, 2, size=const).astype(np.float32))
        return activation(act, fn(xs[0], b))
    path = cached_model(f"16x8 {op} {s1} {s2} {const} {act} {seed}", lambda: int16_model(build, shapes, seed))
    return single_op(path, op.upper())


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("case", list(binary_cases(6, seed=61)), ids=str)
def test_binary_int16(op, case):
    assert_bitexact(binary_model(op, *case), seed=case[-1])


def raw_binary_model(op, scales):
    """`op` of two int16 [1, 3, 7] tensors with the given scales (input 1, input 2, output), zero points 0."""
    b = ModelBuilder()
    x1, x2, y = (b.tensor([1, 3, 7], dtype=INT16, scale=s) for s in scales)
    options = {"ADD": "AddOptions", "SUB": "SubOptions"}[op]
    b.op(op, [x1, x2], [y], options, b.options(options))
    return b.finish([x1, x2], [y])


@pytest.mark.parametrize("op", ["ADD", "SUB"])
def test_power_of_two_scales(op):
    """Power-of-two scales are where TF Lite's int16 ADD takes its shortcut (a saturating add of one input
    shifted right); TFLM's kernel never does, and neither does the engine: the general path, bit-exact."""
    path = cached_model(f"16x8 raw {op} pot", lambda: raw_binary_model(op, (2.0 ** -12, 2.0 ** -10, 2.0 ** -10)))
    assert_bitexact(path, seed=13)


def test_fused_activations_are_fused():
    """The relu/relu6 cases above test the int16 activation range only if the converter fused them into the op."""
    from tinyml.model_info import schema
    sch = schema()
    fused = set()
    for case in binary_cases(6, seed=61):
        if case[3]:
            m = sch.ModelT.InitFromPackedBuf(bytearray(binary_model("add", *case).read_bytes()), 0)
            fused.add(m.subgraphs[0].operators[0].builtinOptions.fusedActivationFunction)
    assert fused == {sch.ActivationFunctionType.RELU, sch.ActivationFunctionType.RELU6}


# ---- pools, MEAN --------------------------------------------------------------------------------------------

def pool_cases(n, seed):
    """(avg or max, input HWC, window, strides, padding, activation, seed)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        shape = tuple(int(d) for d in rng.integers(1, 7, size=2)) + (int(rng.integers(1, 5)),)
        window = tuple(int(d) for d in rng.integers(1, 4, size=2))
        strides = tuple(int(d) for d in rng.integers(1, 3, size=2))
        padding = "SAME" if i % 2 == 0 else "VALID"
        if padding == "VALID":
            window = tuple(min(w, s) for w, s in zip(window, shape))
        yield ("avg", "max")[i % 2 if i < 2 else int(rng.integers(2))], shape, window, strides, padding, \
            [None, "relu", "relu6"][i % 3], int(rng.integers(1000))


def pool_model(kind, shape, window, strides, padding, act, seed):
    def build(x):
        import tensorflow as tf
        pool = tf.nn.avg_pool2d if kind == "avg" else tf.nn.max_pool2d
        return activation(act, pool(x, window, strides, padding))
    path = cached_model(f"16x8 pool {kind} {shape} {window} {strides} {padding} {act} {seed}",
                        lambda: int16_model(build, [shape], seed))
    return single_op(path, "AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D")


@pytest.mark.parametrize("case", list(pool_cases(8, seed=62)), ids=str)
def test_pool_int16(case):
    assert_bitexact(pool_model(*case), seed=case[-1])


def mean_cases(n, seed):
    """(input shape, axes (negative ones too), keepdims, seed)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        rank = int(rng.integers(1, 4))
        shape = tuple(int(d) for d in rng.integers(1, 7, size=rank))
        if i == 0:
            shape, axes = (6, 5, 3), (1, 2)            # Keras GlobalAveragePooling2D
        else:
            k = int(rng.integers(1, rank + 1))
            axes = tuple(int(a) - (rank + 1) * int(rng.integers(2)) for a in
                         rng.choice(np.arange(1, rank + 1), size=k, replace=False))
        yield shape, axes, bool(rng.integers(2)), int(rng.integers(1000))


def mean_model(shape, axes, keepdims, seed):
    def build(x):
        import tensorflow as tf
        return tf.reduce_mean(x, axis=list(axes), keepdims=keepdims)
    path = cached_model(f"16x8 mean {shape} {axes} {keepdims} {seed}", lambda: int16_model(build, [shape], seed))
    return single_op(path, "MEAN")


@pytest.mark.parametrize("case", list(mean_cases(5, seed=63)), ids=str)
def test_mean_int16(case):
    assert_bitexact(mean_model(*case), seed=case[-1])


def raw_mean_model(ratio):
    """MEAN of int16 [1, 4, 5, 3] over axes 1 and 2 whose output scale is the input's / `ratio`: a ratio above
    1 (which calibration seldom gives) saturates outputs at both int16 limits."""
    b = ModelBuilder()
    x = b.tensor([1, 4, 5, 3], dtype=INT16, scale=1 / 4096)
    axes = b.tensor([2], dtype=2, data=np.array([1, 2], np.int32))
    y = b.tensor([1, 3], dtype=INT16, scale=1 / 4096 / ratio)
    b.op("MEAN", [x, axes], [y], "ReducerOptions", b.options("ReducerOptions", keepDims=False))
    return b.finish([x], [y])


@pytest.mark.parametrize("ratio", [0.3, 7.0])
def test_mean_int16_scales(ratio):
    assert_bitexact(cached_model(f"16x8 raw mean {ratio}", lambda: raw_mean_model(ratio)), seed=int(ratio * 10))


# ---- PAD, PADV2, CONCATENATION, RESHAPE (data movement) ----------------------------------------------------

def pad_model(shape, pads, seed):
    def build(x):
        import tensorflow as tf
        return tf.pad(x, [[0, 0]] + [list(p) for p in pads])
    path = cached_model(f"16x8 pad {shape} {pads} {seed}", lambda: int16_model(build, [shape], seed))
    return single_op(path, "PAD")


PAD_CASES = [((3, 4), ((1, 2), (0, 1)), 1), ((2, 3, 2), ((0, 0), (2, 1), (1, 0)), 2)]


@pytest.mark.parametrize("case", PAD_CASES, ids=str)
def test_pad_int16(case):
    assert_bitexact(pad_model(*case), seed=case[-1])


def padv2_model(value, zero_point=0):
    """PADV2 of int16 [1, 3, 4] by ((0, 0), (1, 2), (2, 0)) with the int16 constant `value`."""
    b = ModelBuilder()
    q = dict(scale=1 / 4096, zero_point=zero_point)
    x = b.tensor([1, 3, 4], dtype=INT16, **q)
    pads = b.tensor([3, 2], dtype=2, data=np.array([[0, 0], [1, 2], [2, 0]], np.int32))
    c = b.tensor([], dtype=INT16, data=np.array(value, np.int16), **q)
    y = b.tensor([1, 6, 6], dtype=INT16, **q)
    b.op("PADV2", [x, pads, c], [y], "PadV2Options", b.options("PadV2Options"))
    return b.finish([x], [y])


@pytest.mark.parametrize("value", [-1234, 32767])
def test_padv2_int16_constant(value):
    path = cached_model(f"16x8 padv2 {value}", lambda: padv2_model(value))
    assert_bitexact(path, seed=value & 0xff)
    out = HostEngine(path.read_bytes(), ops=["PADV2"]).invoke([np.ones((1, 3, 4), np.int16)])[0]
    out = np.frombuffer(out, np.int16).reshape(6, 6)
    assert out[0, 0] == value and out[1, 2] == 1     # the constant pads, the input sits inside


def concat_model(axis, seed):
    """The converter's int16 CONCATENATION: a second input scaled by 3 gets its own QUANTIZE (int16 -> int16)
    to the output scale first, so the model holds MUL, QUANTIZE and CONCATENATION."""
    def build(a, b):
        import tensorflow as tf
        return tf.concat([a, b * 3.0], axis=axis)
    return cached_model(f"16x8 concat {axis} {seed}", lambda: int16_model(build, [(3, 4), (3, 4)], seed))


@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenation_int16_converter(axis):
    path = concat_model(axis, seed=5 + axis)
    assert "CONCATENATION" in read_model(path).op_names
    assert_bitexact(path, seed=axis % 7)


def raw_concat_model(scales, zero_points=(0, 0, 0)):
    """CONCATENATION of int16 [1, 2, 3] and [1, 2, 5] along the last axis, with the given scales and zero
    points (inputs, output)."""
    b = ModelBuilder()
    x1 = b.tensor([1, 2, 3], dtype=INT16, scale=scales[0], zero_point=zero_points[0])
    x2 = b.tensor([1, 2, 5], dtype=INT16, scale=scales[1], zero_point=zero_points[1])
    y = b.tensor([1, 2, 8], dtype=INT16, scale=scales[2], zero_point=zero_points[2])
    b.op("CONCATENATION", [x1, x2], [y], "ConcatenationOptions", b.options("ConcatenationOptions", axis=-1))
    return b.finish([x1, x2], [y])


def test_concatenation_int16_scales_differ():
    """TFLM accepts int16 inputs whose scales differ from the output's and copies their values unchanged."""
    path = cached_model("16x8 concat scales", lambda: raw_concat_model((1 / 1024, 1 / 300, 1 / 2048)))
    assert_bitexact(path, seed=3)


def test_reshape_int16():
    """RESHAPE moves int16 values unchanged (a byte copy for every type)."""
    def build(x):
        import tensorflow as tf
        return tf.reshape(x, (1, 12, 2))
    path = cached_model("16x8 reshape", lambda: int16_model(build, [(4, 6)], 4))
    assert_bitexact(single_op(path, "RESHAPE"), seed=4)


# ---- refusals: what TFLM refuses at load, the engine refuses too ----------------------------------------

def raw_mul_model(zero_point):
    b = ModelBuilder()
    x1 = b.tensor([1, 4], dtype=INT16, scale=1 / 4096, zero_point=zero_point)
    x2 = b.tensor([1, 4], dtype=INT16, scale=1 / 4096)
    y = b.tensor([1, 4], dtype=INT16, scale=1 / 2048)
    b.op("MUL", [x1, x2], [y], "MulOptions", b.options("MulOptions"))
    return b.finish([x1, x2], [y])


REFUSED = {
    "mul": (lambda: raw_mul_model(zero_point=5),
            r"int16 inputs and output need zero point 0 \(as in TFLM\), not 5, 0 and 0"),
    "concat": (lambda: raw_concat_model((1 / 1024,) * 3, zero_points=(0, 0, -3)),
               r"int16 input 0 and the output need zero point 0 \(as in TFLM\), not 0 and -3"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_like_tflm(name, tmp_path):
    make, message = REFUSED[name]
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(make())
    with pytest.raises(TinymlError, match="TFLM cannot load"):
        oracle.interpreter(path)
    with pytest.raises(TinymlError, match=message):
        HostEngine(path.read_bytes(), ops=read_model(path).op_names)


# ---- MicroPython: unix port and the emulated Cortex-M4, one run each for one model per op --------------

DEVICE_SCRIPT = READ_FILE + """for k in range(NMODELS):
    model = tinyml.Model(read_file('m%d.tflite' % k))
    for i in range(len(model.inputs)):
        model.set_input(i, read_file('in%d_%d.bin' % (k, i)))
    model.invoke()
    open('out%d.bin' % k, 'wb').write(b''.join(bytes(model.output(j)) for j in range(len(model.outputs))))
    print('invoked', k)
"""


def device_models():
    """One model of each op; the binary ops broadcast and fuse an activation."""
    return {
        "add": binary_model("add", (2, 3, 4), (1, 3, 1), None, "relu", 7),
        "sub": binary_model("sub", (3, 5), (3, 5), None, "relu6", 8),
        "mul": binary_model("mul", (2, 1, 4), (3, 1), None, None, 9),
        "avg": pool_model("avg", (5, 4, 3), (2, 3), (2, 1), "SAME", None, 10),
        "max": pool_model("max", (5, 4, 3), (3, 2), (1, 2), "VALID", "relu", 11),
        "mean": mean_model((6, 5, 3), (1, 2), False, 12),
        "pad": pad_model(*PAD_CASES[1]),
        "concat": concat_model(-1, 4),
    }


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
def test_on_targets(target):
    from tinyml.build import build_module
    from tinyml.runner import random_inputs
    from tinyml.targets import get_target
    models = device_models()
    files, expected, ops = {}, [], set()
    for k, (name, path) in enumerate(sorted(models.items())):
        info = read_model(path)
        ops |= set(info.op_names)
        x = random_inputs(info, seed=k)
        expected.append(b"".join(w.tobytes() for w in oracle.invoke(path, x)))
        files[f"m{k}.tflite"] = path.read_bytes()
        for i, xi in enumerate(x):
            files[f"in{k}_{i}.bin"] = xi.tobytes()
    tgt = get_target(target)
    # No float32 anywhere in these models: the module without the kernels' float32 paths, as `tinyml pack`
    # builds it for them.
    files["tinyml.mpy"] = build_module("x64" if target == "unix" else tgt.arch, sorted(ops),
                                       float_kernels=False).read_bytes()
    script = DEVICE_SCRIPT.replace("NMODELS", str(len(models)))
    result = tgt.run(script, files, [f"out{k}.bin" for k in range(len(models))])
    for k, name in enumerate(sorted(models)):
        assert result.files[f"out{k}.bin"] == expected[k], f"16x8 {name} on {target} differs from TFLM"
