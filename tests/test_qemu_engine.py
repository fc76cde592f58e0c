"""The engine on emulated Cortex-M cores (this project's MicroPython firmware under qemu-system-arm):
whole reference models bit-exact against TFLM, the Thumb-1 (armv6m) and no-FPU (armv7m) builds executed on
the M4 core, modules for another arch refused, and exact instruction counts per inference.

MicroPython loads armv6m and armv7m modules on an armv7emsp firmware (their instruction sets are subsets of
the M4's), so the Cortex-M0 build's code -- Thumb-1 only, soft-float, its own division and 64-bit helpers --
really runs here, on the M4 core. Nothing is skipped: a missing QEMU or compiler fails with the apt-get
command, and a model needing a kernel the engine lacks fails with the engine's message."""

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import oracle, runner  # noqa: E402
from tinyml.build import build_module  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.paths import DEVICE  # noqa: E402
from tinyml.targets import TargetError, get_target  # noqa: E402
from tinyml.targets import qemu  # noqa: E402

MODELS = REPO.parent / "shared" / "models"
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
@pytest.mark.parametrize("name", SMALL_MODELS)
def test_no_fpu_builds_run_on_m4(arch, name):
    """The Cortex-M0 (Thumb-1, soft-float, software division) and Cortex-M3 (soft-float) modules executed
    on the emulated M4: the same outputs as TFLM."""
    info = read_model(_model(name))
    for seed in (3, 4):
        inputs = runner.random_inputs(info, seed=seed)
        _assert_same(_run_module(arch, name, inputs), oracle.invoke(_model(name), inputs), f"{name} as {arch}")


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
def _dsp_spatial_cases():
    import tensorflow as tf
    L = tf.keras.layers
    return {
        "conv3x3_same_odd": (lambda x: L.Conv2D(5, 3, padding="same", activation="relu")(x), (7, 9, 3)),
        "conv1x1_odd_pixels": (lambda x: L.Conv2D(7, 1)(x), (5, 3, 12)),
        "conv_stride2_valid": (lambda x: L.Conv2D(8, (3, 2), strides=2, activation="relu6")(x), (11, 8, 6)),
        "conv_dilated": (lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="same")(x), (9, 9, 4)),
        "conv_groups": (lambda x: L.Conv2D(6, 3, padding="same", groups=2)(x), (6, 6, 4)),
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
    }


@pytest.mark.parametrize("case", sorted(["conv3x3_same_odd", "conv1x1_odd_pixels", "conv_stride2_valid",
                                         "conv_dilated", "conv_groups", "dw3x3_same", "dw3x3_odd_channels",
                                         "dw3x3_stride2", "dw5x3_valid", "dw_dilated", "dw_mult4", "dw_mult2",
                                         "dw_cin1_mult8", "dw_cin1_dilated", "dw3_ring_relu6", "dw3_tall_valid_s2",
                                         "dw3_strides_1x2", "dw3_cin1_mult8", "dw3_cin1_mult3", "dw3_big_bias"]))
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
