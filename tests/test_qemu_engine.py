"""The engine on emulated Cortex-M cores (this project's MicroPython firmware under qemu-system-arm):
whole reference models bit-exact against TFLM, the Thumb-1 (armv6m) and no-FPU (armv7m) builds on a
soft-float Cortex-M3 board, a firmware without floats, modules for another arch refused, and exact
instruction counts per inference.

MicroPython loads armv6m and armv7m modules on an armv7m firmware (Thumb-1 is a subset of the M3's Thumb-2),
so the Cortex-M0 build's code -- Thumb-1 only, soft-float, its own division and 64-bit helpers -- really
runs on the emulated M3, with the float ABI it was built for. Nothing is skipped: a missing QEMU or compiler
fails with the apt-get command, and a model needing a kernel the engine lacks fails with the engine's
message."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import oracle, runner  # noqa: E402
from tinyml.build import build_module, model_module  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.paths import DEVICE  # noqa: E402
from tinyml.targets import TargetError, get_target  # noqa: E402
from tinyml.targets import qemu  # noqa: E402
from conftest import MODELS  # noqa: E402

ALL_MODELS = sorted(p.stem for p in MODELS.glob("*.tflite"))
SMALL_MODELS = ["ad01_int8", "hello_world"]


@pytest.fixture(scope="module", autouse=True)
def firmware():
    return qemu.build_firmware()


def _model(name):
    return MODELS / f"{name}.tflite"


def _run_module(arch, name, inputs, target="qemu-m4"):
    """invoke.py on the target with the engine built for `arch` (which need not be the target's own)."""
    path = _model(name)
    info = read_model(path)
    module = build_module(arch, info.op_names)
    fetch = [f"out{i}.bin" for i in range(len(info.outputs))]
    result = get_target(target).run((DEVICE / "invoke.py").read_text(),
                                    runner._device_files(path, module, inputs), fetch)
    return [np.frombuffer(result.files[f], dtype=t.dtype).reshape(t.shape) for f, t in zip(fetch, info.outputs)]


def _assert_same(got, want, what):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, what
        diff = np.flatnonzero(g.ravel() != w.ravel())
        assert diff.size == 0, f"{what}: output {i} differs from TFLM at {diff.size} of {g.size} values"


@pytest.mark.parametrize("name", ALL_MODELS)
def test_reference_model_bit_exact_on_m4(name):
    """runner.invoke on qemu-m4 (armv7emsp module, hardware float) equals the TFLM wheel, bit for bit."""
    info = read_model(_model(name))
    inputs = runner.random_inputs(info, seed=1)
    got = runner.invoke(_model(name), inputs, "qemu-m4")
    _assert_same(got, oracle.invoke(_model(name), inputs), f"{name} on qemu-m4")


@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"])
def test_small_build_bit_exact_on_m4(name):
    """`--small` (portable C at -Os instead of the DSP assembly) computes the same bytes, in far less code."""
    info = read_model(_model(name))
    inputs = runner.random_inputs(info, seed=6)
    _assert_same(runner.invoke(_model(name), inputs, "qemu-m4", small=True), oracle.invoke(_model(name), inputs),
                 f"{name} --small on qemu-m4")
    from tinyml.build import module_text_bytes
    assert module_text_bytes(model_module("armv7emsp", info, small=True)) < 0.75 * module_text_bytes(
        model_module("armv7emsp", info))


def _fc_model(depth, units, act, use_bias_false, seed):
    """The single-op FULLY_CONNECTED models of test_ops_core.py (same recipes, so the same cached files)."""
    from opcheck import cached_model, int8_keras_model

    def build(x):
        import tensorflow as tf
        return tf.keras.layers.Dense(units, activation=act, use_bias=not use_bias_false)(x)
    return cached_model(f"fc {depth} {units} {act} {use_bias_false} {seed}",
                        lambda: int8_keras_model(build, [(depth,)], seed=seed))


def _fc_cases():
    from test_ops_core import fc_cases
    return list(fc_cases()) + [(64, 7, None, False, 5), (3, 2, "relu", True, 6), (130, 33, None, False, 7)]


@pytest.mark.parametrize("depth,units,act,use_bias_false,seed", _fc_cases())
def test_fully_connected_shapes_bit_exact_on_m4(depth, units, act, use_bias_false, seed):
    """FULLY_CONNECTED on the M4 (its DSP path: SMLAD over 4 depth steps x 2 units, then tails) for depths
    and unit counts of every remainder, against TFLM."""
    path = _fc_model(depth, units, act, use_bias_false, seed)
    info = read_model(path)
    inputs = runner.random_inputs(info, seed=seed)
    _assert_same(runner.invoke(path, inputs, "qemu-m4"), oracle.invoke(path, inputs), f"fc {depth}x{units}")


@pytest.mark.parametrize("name", SMALL_MODELS)
def test_model_on_m7(name):
    info = read_model(_model(name))
    inputs = runner.random_inputs(info, seed=2)
    _assert_same(runner.invoke(_model(name), inputs, "qemu-m7"), oracle.invoke(_model(name), inputs),
                 f"{name} on qemu-m7")


@pytest.mark.parametrize("arch", ["armv6m", "armv7m"])
@pytest.mark.parametrize("name", SMALL_MODELS + ["micro_speech"])
def test_no_fpu_builds_run_on_m3(arch, name):
    """The Cortex-M0 (Thumb-1, soft-float, software division) and Cortex-M3 (soft-float) modules on the
    emulated Cortex-M3 board (mps2-an385, soft-float firmware: an armv7m board loads both): TFLM's outputs."""
    info = read_model(_model(name))
    for seed in (3, 4):
        inputs = runner.random_inputs(info, seed=seed)
        _assert_same(_run_module(arch, name, inputs, "qemu-m3"), oracle.invoke(_model(name), inputs),
                     f"{name} as {arch} on qemu-m3")


PREDICT_SCRIPT = """
import tinyml
m = tinyml.Model(open("model.tflite", "rb").read())
print("scale", m.inputs[0]["scale"], "predict", m.predict([1.5]), m.predict([4.0]))
"""


def _printed_floats(out):
    """The numbers of the script's "scale ..." line, as float32 (the unix port prints doubles)."""
    line = [line for line in out.splitlines() if line.startswith("scale")][0]
    return np.array(re.findall(r"-?\d+\.\d+(?:e-?\d+)?", line), dtype=np.float64).astype(np.float32)


def _predict_floats(arch, target):
    path = _model("hello_world")
    files = {"tinyml.mpy": build_module(arch, read_model(path).op_names).read_bytes(),
             "model.tflite": path.read_bytes()}
    return _printed_floats(qemu.QemuTarget(target).run(PREDICT_SCRIPT, files).stdout)


def test_predict_passes_floats_in_each_arch_abi():
    """predict() and the input scale go through MicroPython's float API: hard-float registers on the M4
    (armv7emsp), core registers on soft-float boards (armv7m, armv6m on the M3). All agree with the
    unix port's x64 module, and predict(sin's argument) is near sin."""
    from micropython_run import run_mpy
    path = _model("hello_world")
    unix = _printed_floats(run_mpy(PREDICT_SCRIPT, {"model.tflite": path.read_bytes()},
                                   ops=read_model(path).op_names).stdout)
    assert len(unix) == 3 and abs(unix[1] - np.sin(1.5)) < 0.1 and abs(unix[2] - np.sin(4.0)) < 0.1, unix
    for arch, target in (("armv7emsp", "qemu-m4"), ("armv7m", "qemu-m3"), ("armv6m", "qemu-m3")):
        # MicroPython's float repr keeps 7 significant digits; a wrong float ABI gives 0.0 or garbage.
        np.testing.assert_allclose(_predict_floats(arch, target), unix, rtol=1e-6, err_msg=f"{arch} on {target}")


def test_firmware_without_float_support():
    """On MicroPython built without floats (MICROPY_FLOAT_IMPL_NONE) int8 models run bit-exact; scales read
    None; predict() and float tensors say what to do instead of a bare 'float unsupported' or wrong data."""
    nofloat = qemu.QemuTarget("qemu-m4", float_support=False)
    name = "ad01_int8"
    info = read_model(_model(name))
    inputs = runner.random_inputs(info, seed=5)
    module = build_module("armv7emsp", info.op_names)
    fetch = ["out0.bin"]
    result = nofloat.run((DEVICE / "invoke.py").read_text(), runner._device_files(_model(name), module, inputs),
                         fetch)
    got = [np.frombuffer(result.files["out0.bin"], dtype=np.int8).reshape(info.outputs[0].shape)]
    _assert_same(got, oracle.invoke(_model(name), inputs), f"{name} on a firmware without floats")

    with pytest.raises(TargetError, match=r"predict\(\) needs floats, which this firmware lacks"):
        nofloat.run(PREDICT_SCRIPT.replace("1.5", "1").replace("4.0", "4"), {"tinyml.mpy": build_module("armv7emsp", ["FULLY_CONNECTED", "QUANTIZE",
                                     "DEQUANTIZE"]).read_bytes(), "model.tflite": _model("hello_world").read_bytes()})

    # A float32 input is handed over as its raw bytes (4 per value), never as a truncated view.
    from opcheck import cached_model, float_keras_model
    import tensorflow as tf
    path = cached_model("nofloat dense 3x2", lambda: float_keras_model(lambda x: tf.keras.layers.Dense(2)(x), [(3,)]))
    script = """
import tinyml
m = tinyml.Model(open("model.tflite", "rb").read())
print("info", m.inputs[0]["scale"], m.inputs[0]["dtype"], len(m.input(0)), len(m.output(0)))
"""
    files = {"tinyml.mpy": build_module("armv7emsp", read_model(path).op_names).read_bytes(),
             "model.tflite": path.read_bytes()}
    out = nofloat.run(script, files).stdout
    assert "info None float32 12 8" in out, out


def test_out_of_memory_on_the_board_is_a_clear_memory_error():
    """The emulated M4 with its heap nearly full: loading vww (91 KB arena) raises MemoryError naming the
    arena, and the firmware goes on running (no fault, no reset)."""
    name = "vww_96_int8"
    info = read_model(_model(name))
    files = {"tinyml.mpy": model_module("armv7emsp", info).read_bytes(), "m.tflite": _model(name).read_bytes()}
    out = get_target("qemu-m4").run("""
import gc, os, tinyml
with open('m.tflite', 'rb') as f:
    buf = f.read(os.stat('m.tflite')[6])
hog = []
try:
    while True:                 # fill the heap with 8 KB blocks ...
        hog.append(bytearray(8192))
except MemoryError:
    pass
del hog[-6:]                    # ... and give 48 KB back: room for descriptors, not for the arena
gc.collect()
try:
    tinyml.Model(buf)
except MemoryError as e:
    print('MemoryError:', e)
del hog
gc.collect()
print('still running, arena', tinyml.Model(buf).arena_bytes)
""", files).stdout
    assert "MemoryError: not enough memory for the tensor arena" in out, out
    assert "still running, arena" in out


@pytest.mark.parametrize("arch", ["x64", "xtensawin"])
def test_module_for_another_arch_is_refused(arch):
    """MicroPython checks the .mpy header: an x86-64 or ESP32 module never starts executing on the M4."""
    info = read_model(_model("hello_world"))
    with pytest.raises(TargetError, match="incompatible .mpy arch"):
        _run_module(arch, "hello_world", runner.random_inputs(info))


def test_bench_counts_instructions_per_inference():
    """bench on qemu-m4 reports executed instructions per invoke, identical from run to run."""
    model = _model("ad01_int8")
    _, _, first = runner.bench(model, "qemu-m4", runs=2)
    _, _, again = runner.bench(model, "qemu-m4", runs=2)
    _, _, more = runner.bench(model, "qemu-m4", runs=4)
    macs = read_model(model).macs
    assert first["instructions"] == again["instructions"]
    # The count per invoke includes reading the clocks once per measurement (a few thousand instructions).
    assert abs(more["instructions"] - first["instructions"]) < 0.005 * first["instructions"]
    assert 1.0 < first["instructions"] / macs < 20.0
    assert first["arena_bytes"] > 0


@pytest.mark.parametrize("name", ALL_MODELS)
def test_m4_arena_not_above_tflm(name):
    """The model's RAM on the M4 (arena plus descriptors, as m.arena_bytes reports it, DSP scratch included)
    is at most TFLM's arena with CMSIS-NN on the same core (host/tinyml/reference.py)."""
    from tinyml.reference import TFLM_CMSIS_NN_M4
    _, _, result = runner.bench(_model(name), "qemu-m4", runs=1)
    tflm = TFLM_CMSIS_NN_M4[name][1]
    print(f"{name}: M4 arena {result['arena_bytes']} bytes, TFLM+CMSIS-NN {tflm} bytes")
    assert result["arena_bytes"] <= tflm


def test_missing_firmware_tools_are_named(monkeypatch):
    """Without qemu-system-arm the target says which package to install (never a silent skip)."""
    monkeypatch.setattr(qemu.shutil, "which", lambda tool: None)
    with pytest.raises(TargetError, match="apt-get install qemu-system-arm"):
        get_target("qemu-m4").run("print(1)", {})


# The Cortex-M4 DSP paths of CONV_2D and DEPTHWISE_CONV_2D (kernels/arm_dsp.h) on their edge cases: odd
# channel and pixel counts, row lengths not a multiple of 4, padding borders, strides, dilation, groups and
# depth multipliers 1, 2 (generic loop) and 4 -- small seeded Keras models, bit-exact against TFLM.
def _mixed_scale_kernel(cin, cout):
    import tensorflow as tf
    scale = np.array([1.0, 1e-3, 1e-5, 1.0, 0.0, 1e-6, 1.0, 1.0][:cout], np.float32)
    w = np.random.default_rng(7).normal(size=(1, 1, cin, cout)).astype(np.float32) * scale
    return tf.keras.initializers.Constant(w)


def _mixed_scale_bias(cout):
    import tensorflow as tf
    return tf.keras.initializers.Constant(np.array([0.1, 2.0, 30.0, -0.2, 5.0, -40.0, 0.0, 0.3][:cout], np.float32))


def _dead_channel_conv(cout, kernel, cin, live, **options):
    """Conv2D whose channels outside `live` have filters ~1e-7 of the others (constant outputs) and biases
    that put those outputs inside the int8 range, at 0 and far beyond it."""
    import tensorflow as tf
    scale = np.array([1.0 if c in live else 1e-7 for c in range(cout)], np.float32)
    w = np.random.default_rng(11).normal(size=(kernel, kernel, cin, cout)).astype(np.float32) * scale
    dead = [0.0, 2.5, -1.5, 100.0, -100.0, 0.7]
    bias = np.array([0.1 * (c % 3) if c in live else dead[c % len(dead)] for c in range(cout)], np.float32)
    const = tf.keras.initializers.Constant
    return tf.keras.layers.Conv2D(cout, kernel, kernel_initializer=const(w), bias_initializer=const(bias),
                                  **options)


def _dsp_spatial_cases():
    import tensorflow as tf
    L = tf.keras.layers
    return {
        "conv3x3_same_odd": (lambda x: L.Conv2D(5, 3, padding="same", activation="relu")(x), (7, 9, 3)),
        "conv1x1_odd_pixels": (lambda x: L.Conv2D(7, 1)(x), (5, 3, 12)),
        "conv_stride2_valid": (lambda x: L.Conv2D(8, (3, 2), strides=2, activation="relu6")(x), (11, 8, 6)),
        "conv_dilated": (lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="same")(x), (9, 9, 4)),
        "conv_groups": (lambda x: L.Conv2D(6, 3, padding="same", groups=2)(x), (6, 6, 4)),
        # rows of 27 values (not whole words): the filter's last pair runs from its padded copy
        "conv3x3_cin3_stride2": (lambda x: L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x),
                                 (9, 9, 3)),
        # channels with tiny or zero weights (huge shifts, M = 0, big biases) next to normal ones: the
        # requantization's slow channels, alone and paired with fast ones
        "conv1x1_mixed_scales": (lambda x: L.Conv2D(8, 1, kernel_initializer=_mixed_scale_kernel(16, 8),
                                                    bias_initializer=_mixed_scale_bias(8))(x), (5, 3, 16)),
        # channels whose output is constant (filters ~1e-7 of the others): only the live ones are computed,
        # over a template of the constants; an odd number of live channels, 16 (word copies) and 10 channels
        "conv1x1_dead_channels": (lambda x: _dead_channel_conv(16, 1, 24, {0, 3, 4, 9, 13})(x), (5, 3, 24)),
        "conv3x3_dead_channels": (lambda x: _dead_channel_conv(10, 3, 4, {1, 2, 6, 7}, padding="same",
                                                               activation="relu")(x), (6, 5, 4)),
        "dw3x3_same": (lambda x: L.DepthwiseConv2D(3, padding="same", activation="relu")(x), (6, 5, 12)),
        "dw3x3_odd_channels": (lambda x: L.DepthwiseConv2D(3, padding="same")(x), (5, 4, 7)),
        "dw3x3_stride2": (lambda x: L.DepthwiseConv2D(3, strides=2, padding="same")(x), (9, 8, 8)),
        "dw5x3_valid": (lambda x: L.DepthwiseConv2D((5, 3), activation="relu6")(x), (9, 6, 8)),
        "dw_dilated": (lambda x: L.DepthwiseConv2D(3, dilation_rate=2, padding="same")(x), (8, 8, 4)),
        "dw_mult4": (lambda x: L.DepthwiseConv2D((4, 3), strides=2, depth_multiplier=4, padding="same")(x),
                     (9, 7, 2)),
        "dw_mult2": (lambda x: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x), (5, 5, 3)),
        # one input channel, rows of a multiple of 4 taps: the SMLAD tap-pair path (micro_speech's layer)
        "dw_cin1_mult8": (lambda x: L.DepthwiseConv2D((5, 8), strides=2, depth_multiplier=8, padding="same",
                                                      activation="relu")(x), (13, 11, 1)),
        "dw_cin1_dilated": (lambda x: L.DepthwiseConv2D((3, 4), dilation_rate=(2, 1), depth_multiplier=4,
                                                        padding="same")(x), (9, 10, 1)),
        # 3x3 on int16 planes: a ring of rows (wide), a tail of 3, the clamp at ReLU6's top
        "dw3_ring_relu6": (lambda x: L.DepthwiseConv2D(3, padding="same", activation="relu6")(x), (7, 19, 8)),
        # swept along the height (tall and narrow), stride 2, VALID
        "dw3_tall_valid_s2": (lambda x: L.DepthwiseConv2D(3, strides=2, activation="relu")(x), (21, 7, 4)),
        "dw3_strides_1x2": (lambda x: L.DepthwiseConv2D(3, strides=(1, 2), padding="same")(x), (6, 11, 8)),
        # one input channel (person_detection's first layer), and a multiplier not a multiple of four
        "dw3_cin1_mult8": (lambda x: L.DepthwiseConv2D(3, strides=2, depth_multiplier=8, padding="same",
                                                       activation="relu6")(x), (11, 14, 1)),
        "dw3_cin1_mult3": (lambda x: L.DepthwiseConv2D(3, depth_multiplier=3, padding="same")(x), (7, 9, 1)),
        # biases so large that SMMLAR's sums could overflow: those channels take the C loop
        "dw3_big_bias": (lambda x: L.DepthwiseConv2D(
            3, padding="same", bias_initializer=tf.keras.initializers.RandomUniform(-1e5, 1e5))(x), (5, 6, 8)),
        # K x 1 and 1 x K lines on int16 planes (str_ww's temporal layers): stride 1 with groups of four and
        # a tail of 1-3, stride 2, SAME and VALID, odd lengths, several lines, clamped activations
        "dwl_kx1_valid": (lambda x: L.DepthwiseConv2D((5, 1))(x), (15, 1, 8)),
        # (the concatenation's wider scale makes ReLU6 clamp at both ends inside int8)
        "dwl_kx1_relu6_clamped": (lambda x: L.Concatenate()([L.DepthwiseConv2D((4, 1), padding="same",
                                                                            activation="relu6")(x), x * 8.0]),
                               (13, 1, 12)),
        # a bias of 5 puts many sums above 6: ReLU6's top clamp inside int8 is reached
        "dwl_kx1_relu6_top": (lambda x: L.Concatenate()([L.DepthwiseConv2D(
            (4, 1), padding="same", activation="relu6", bias_initializer=tf.keras.initializers.Constant(5.0))(x),
            x * 8.0]), (13, 1, 12)),
        "dwl_kx1_stride2_same": (lambda x: L.DepthwiseConv2D((3, 1), strides=(2, 1), padding="same",
                                                             activation="relu")(x), (11, 1, 4)),
        "dwl_kx1_cols_stride2": (lambda x: L.DepthwiseConv2D((6, 1), strides=2)(x), (14, 5, 4)),
        "dwl_1xk_same_long": (lambda x: L.DepthwiseConv2D((1, 7), padding="same")(x), (3, 41, 8)),
        "dwl_1xk_stride2_valid": (lambda x: L.DepthwiseConv2D((1, 4), strides=(1, 2), activation="relu")(x),
                                  (2, 17, 4)),
        # one output per line (K = the length), and biases so large the C loop takes those channels
        "dwl_kx1_single_output": (lambda x: L.DepthwiseConv2D((9, 1))(x), (9, 1, 8)),
        "dwl_short_same_stride2": (lambda x: L.DepthwiseConv2D((5, 1), strides=(2, 1), padding="same",
                                                               activation="relu")(x), (5, 3, 8)),
        "dwl_kx1_big_bias": (lambda x: L.DepthwiseConv2D((3, 1), padding="same", bias_initializer=
                             tf.keras.initializers.RandomUniform(-1e5, 1e5))(x), (10, 1, 8)),
    }


@pytest.mark.parametrize("case", sorted(["conv3x3_same_odd", "conv1x1_odd_pixels", "conv_stride2_valid",
                                         "conv_dilated", "conv_groups", "conv3x3_cin3_stride2",
                                         "conv1x1_mixed_scales", "conv1x1_dead_channels",
                                         "conv3x3_dead_channels", "dw3x3_same", "dw3x3_odd_channels",
                                         "dw3x3_stride2", "dw5x3_valid", "dw_dilated", "dw_mult4", "dw_mult2",
                                         "dw_cin1_mult8", "dw_cin1_dilated", "dw3_ring_relu6", "dw3_tall_valid_s2",
                                         "dw3_strides_1x2", "dw3_cin1_mult8", "dw3_cin1_mult3", "dw3_big_bias",
                                         "dwl_kx1_valid", "dwl_kx1_relu6_clamped", "dwl_kx1_relu6_top", "dwl_kx1_stride2_same",
                                         "dwl_kx1_cols_stride2", "dwl_1xk_same_long", "dwl_1xk_stride2_valid",
                                         "dwl_kx1_single_output", "dwl_short_same_stride2",
                                         "dwl_kx1_big_bias"]))
def test_spatial_dsp_paths_bit_exact_on_m4(case):
    sys.path.insert(0, str(REPO / "tests"))
    from opcheck import cached_model
    from test_ops_spatial import keras_model
    build, shape = _dsp_spatial_cases()[case]
    for seed in (1, 2):
        path = cached_model(f"qemu dsp {case} {seed}", lambda: keras_model(build, [shape], seed))
        info = read_model(path)
        inputs = runner.random_inputs(info, seed)
        got = runner.invoke(path, inputs, "qemu-m4")
        _assert_same(got, oracle.invoke(path, inputs), f"{case} seed {seed} on qemu-m4")


# ADD and SUB on the M4 (add.c's DSP path: same-shape inputs, the larger-scale input rescaled exactly and the
# other by SMMLAR; which input is larger, equal scales, clamped activations) and the broadcasting fallback.
def _add_sub_cases():
    import tensorflow as tf
    act = tf.keras.layers.Activation
    return {
        "add_same_relu": (lambda a, b: act("relu")(a + b), [(6, 5, 8), (6, 5, 8)]),
        "add_first_larger": (lambda a, b: a * 3.0 + b, [(4, 9, 7), (4, 9, 7)]),
        "sub_first_larger": (lambda a, b: a * 3.0 - b, [(4, 9, 7), (4, 9, 7)]),
        "sub_second_larger_relu6": (lambda a, b: act("relu6")(a - b * 3.0), [(37,), (37,)]),
        "add_equal_scales": (lambda a: a + a, [(5, 13)]),
        "sub_equal_scales": (lambda a: a[:, :, :6] - a[:, :, 7:], [(5, 13)]),
        "add_broadcast": (lambda a, b: act("relu")(a + b), [(6, 1, 8), (1, 5, 8)]),
        # the concatenation gives the ADD its own scale and a zero point above -128: a ReLU that clamps
        "add_relu_clamped": (lambda a, b: tf.keras.layers.Concatenate()([act("relu")(a + b), a]),
                             [(3, 11), (3, 11)]),
    }


@pytest.mark.parametrize("case", sorted(["add_same_relu", "add_first_larger", "sub_first_larger",
                                         "sub_second_larger_relu6", "add_equal_scales", "sub_equal_scales",
                                         "add_broadcast", "add_relu_clamped"]))
def test_add_sub_dsp_paths_bit_exact_on_m4(case):
    sys.path.insert(0, str(REPO / "tests"))
    from opcheck import cached_model, int8_keras_model
    build, shapes = _add_sub_cases()[case]
    for seed in (1, 2):
        path = cached_model(f"qemu add {case} {seed}", lambda: int8_keras_model(build, shapes, seed=seed))
        info = read_model(path)
        inputs = runner.random_inputs(info, seed)
        got = runner.invoke(path, inputs, "qemu-m4")
        _assert_same(got, oracle.invoke(path, inputs), f"{case} seed {seed} on qemu-m4")


# FULLY_CONNECTED with per-tensor weights (as in every reference model; Keras' converter quantizes Dense per
# channel unless told not to): the M4 fast path's remainders -- 1 to 3 units after groups of 4, depths with
# single and double 4-input steps, a byte tail, and multiples of 16.
@pytest.mark.parametrize("depth,units,act,seed", [(20, 7, None, 1), (27, 6, "relu", 2), (48, 5, "relu", 3),
                                                  (13, 9, None, 4), (8, 2, None, 5)])
def test_fully_connected_per_tensor_bit_exact_on_m4(depth, units, act, seed, monkeypatch):
    sys.path.insert(0, str(REPO / "tests"))
    import tensorflow as tf
    from opcheck import cached_model, int8_keras_model
    from_keras = tf.lite.TFLiteConverter.from_keras_model

    def per_tensor(model):
        conv = from_keras(model)
        conv._experimental_disable_per_channel = True
        return conv
    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_keras_model", staticmethod(per_tensor))

    def build(x):
        return tf.keras.layers.Dense(units, activation=act)(x)
    path = cached_model(f"fc per-tensor {depth} {units} {act} {seed}",
                        lambda: int8_keras_model(build, [(depth,)], seed=seed))
    interp = tf.lite.Interpreter(model_path=str(path))
    assert all(len(t["quantization_parameters"]["scales"]) <= 1 for t in interp.get_tensor_details())
    info = read_model(path)
    for trial in (seed, seed + 10):
        inputs = runner.random_inputs(info, seed=trial)
        _assert_same(runner.invoke(path, inputs, "qemu-m4"), oracle.invoke(path, inputs), f"fc {depth}x{units}")


# CONV_2D layers whose every output channel is provably constant (issue 13): the load-time plan must survive
# having no live channel at all. The seven models a differential run found, and Keras-built layers of the
# same class: all-zero filters with biases inside and beyond the int8 range, and a stride-2 layer whose
# outputs all saturate.
REGRESSIONS = REPO / "tests" / "data" / "m4_conv_regressions"


@pytest.mark.parametrize("case", range(1, 8))
def test_conv_all_channels_constant_regressions_on_m4(case):
    path = REGRESSIONS / f"case{case}.tflite"
    inputs = [np.load(REGRESSIONS / f"case{case}_input.npy")]
    _assert_same(runner.invoke(path, inputs, "qemu-m4"), oracle.invoke(path, inputs), f"case{case} on qemu-m4")


def _constant_conv(cout, kernel, strides, bias, weight_scale, activation=None):
    import tensorflow as tf
    const = tf.keras.initializers.Constant
    w = np.random.default_rng(5).normal(size=(kernel, kernel, 8, cout)).astype(np.float32) * weight_scale
    return lambda x: tf.keras.layers.Conv2D(cout, kernel, strides=strides, padding="same", activation=activation,
                                            kernel_initializer=const(w), bias_initializer=const(bias))(x)


@pytest.mark.parametrize("case", ["zero_filters_4", "zero_filters_16_relu", "tiny_filters_odd", "saturated_3x3_s2"])
def test_conv_every_channel_constant_on_m4(case):
    from opcheck import cached_model, int8_keras_model
    cases = {
        "zero_filters_4": (4, 1, 1, [1.0, -2.0, 3.0, 0.5], 0.0, None),
        "zero_filters_16_relu": (16, 1, 1, list(np.linspace(-3, 3, 16)), 0.0, "relu"),
        "tiny_filters_odd": (7, 3, 1, [0.0, 2.5, -1.5, 100.0, -100.0, 0.7, 1.0], 1e-7, None),
        # huge biases: every output saturates at 127 or -128 whatever the input
        "saturated_3x3_s2": (16, 3, 2, [1e4 if c % 2 else -1e4 for c in range(16)], 1e-3, "relu6"),
    }
    cout, kernel, strides, bias, scale, act = cases[case]
    build = _constant_conv(cout, kernel, strides, np.array(bias, np.float32), scale, act)
    path = cached_model(f"qemu constant conv {case} {cases[case]}",
                        lambda: int8_keras_model(build, [(6, 5, 8)], seed=3))
    info = read_model(path)
    for seed in (1, 2):
        inputs = runner.random_inputs(info, seed)
        _assert_same(runner.invoke(path, inputs, "qemu-m4"), oracle.invoke(path, inputs), f"{case} on qemu-m4")
