"""int16 (16x8) SOFTMAX, LOGISTIC and TANH against the TFLM runtime, byte for byte: single-op models from the TF
converter (16x8 quantization, float I/O, random shapes and input ranges), and models written directly with
int16 I/O, where every int16 input value goes through LOGISTIC and TANH at power-of-two scales (TFLM's
shortcut), scales it takes for powers of two (within 1e-3 in log2) and others, and SOFTMAX runs random rows
at random input scales and betas. Cases TFLM refuses are refused at load, with the reason. One batched run of
a model of each op in the MicroPython unix port and on the emulated Cortex-M4. The constant tables are checked
against their generator (tools/int16_activation_tables.py, which reads the sigmoid table back from TFLM)."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from m4diff.tflite_writer import ModelBuilder
from opcheck import REPO, assert_bitexact, cached_model
from test_ops_keras_layers import int16_keras_model

from tinyml import TinymlError, oracle
from tinyml.build import build_module
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model
from tinyml.targets import TargetError, get_target

INT16 = 7
OPS = ["softmax", "logistic", "tanh"]


def layer(name):
    import tensorflow as tf
    return {"softmax": tf.keras.layers.Softmax, "logistic": lambda: tf.keras.layers.Activation("sigmoid"),
            "tanh": lambda: tf.keras.layers.Activation("tanh")}[name]()


def converter_cases(n, seed):
    """(shape, seed): the seed also picks the calibration range (int16_keras_model), hence the input scale."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        yield tuple(int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 4)))), int(rng.integers(1000))


def converter_model(name, case):
    shape, seed = case
    return cached_model(f"16x8 {name} {case}", lambda: int16_keras_model(lambda x: layer(name)(x), [shape], seed))


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("case", list(converter_cases(4, seed=61)), ids=str)
def test_converter_16x8(name, case):
    path = converter_model(name, case)
    info = read_model(path)
    assert name.upper() in info.op_names
    assert np.int16 in [np.dtype(d).type for d in info.op_input_types if d is not None]
    assert_bitexact(path, n_inputs=3, seed=case[-1])


def unary_model(op, n, in_scale, out_scale=2.0 ** -15, out_zero_point=0, beta=1.0, shape=None):
    b = ModelBuilder()
    x = b.tensor(shape or [1, n], INT16, scale=in_scale, zero_point=0)
    y = b.tensor(shape or [1, n], INT16, scale=out_scale, zero_point=out_zero_point)
    if op == "SOFTMAX":
        b.op(op, [x], [y], "SoftmaxOptions", b.options("SoftmaxOptions", beta=beta))
    else:
        b.op(op, [x], [y], "NONE", None)
    return b.finish([x], [y])


def compare(data, x):
    """Engine (host build) == TFLM on input x."""
    with __import__("tempfile").TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.tflite"
        path.write_bytes(data)
        want = oracle.invoke(path, [x])[0]
        info = read_model(path)
    got = HostEngine(data).invoke([x], [(o.dtype, o.shape) for o in info.outputs])[0]
    diff = np.flatnonzero(want.reshape(-1) != got.reshape(-1))
    assert not diff.size, (f"{len(diff)} of {want.size} differ; first at input {x.reshape(-1)[diff[0]]}: "
                           f"TFLM {want.reshape(-1)[diff[0]]} engine {got.reshape(-1)[diff[0]]}")


# Input scales: TFLM's power-of-two shortcut (2^-12; 2^-11 for TANH only), scales CheckedLog2 takes for powers
# of two (1e-3 in log2 either side, e.g. the converter's 8/32767), other powers of two, and arbitrary scales,
# down to ones whose multiplier needs the maximum shift and up to near the largest TFLM can take.
SCALES = [2.0 ** -12, 2.0 ** -11, 2.0 ** -12 * 1.0006, 2.0 ** -11 * 0.9994, 8 / 32767, 2.0 ** -13, 2.0 ** -10,
          1 / 6000, 3.7e-4, 2.0 ** -12 * 1.0008, 1.3e-9, 0.02, 2.6]
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(1, -1)


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_every_int16_input(op):
    for scale in SCALES:
        compare(unary_model(op, 65536, scale), ALL_INT16)
    # an output scale TFLM takes for 2^-15 (1e-3 in log2)
    compare(unary_model(op, 65536, 1e-4, out_scale=2.0 ** -15 * 1.0005), ALL_INT16)


def softmax_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        shape = [int(d) for d in rng.integers(1, 12, size=int(rng.integers(1, 4)))]
        yield shape, float(10 ** rng.uniform(-5, -1)), float(rng.choice([1.0, 0.5, 2.3, 1e-3])), int(rng.integers(1000))


@pytest.mark.parametrize("case", list(softmax_cases(12, seed=62)), ids=str)
def test_softmax_int16(case):
    shape, scale, beta, seed = case
    rng = np.random.default_rng(seed)
    data = unary_model("SOFTMAX", 0, scale, out_scale=1 / 32768, beta=beta, shape=shape)
    for _ in range(3):
        compare(data, rng.integers(-32768, 32768, size=shape, dtype=np.int16))


def test_softmax_int16_every_difference():
    """Rows (x, 32767): every difference from the row's max in [-65535, 0] at scale*beta 10/65535, where the
    exp table spans its full range, and at other scales."""
    x = np.stack([np.arange(-32768, 32768), np.full(65536, 32767)], axis=1).astype(np.int16)
    for scale in (10 / 65535, 1e-4, 4e-5):
        compare(unary_model("SOFTMAX", 0, scale, out_scale=1 / 32768, shape=[65536, 2]), x)


@pytest.mark.parametrize("op,kw,message", [
    ("LOGISTIC", dict(out_scale=2.0 ** -14), "int16 output must have scale 2^-15"),
    ("TANH", dict(out_zero_point=5), "int16 input and output must have zero point 0"),
    ("SOFTMAX", dict(out_scale=1 / 16384), "int16 output must have scale 1/32768"),
])
def test_refused_as_tflm_refuses(op, kw, message, tmp_path):
    data = unary_model(op, 8, 1e-3, **kw)
    with pytest.raises(TinymlError, match=re.escape(f"({op}): {message}")):
        HostEngine(data)
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    with pytest.raises(TinymlError, match="TFLM cannot load"):
        oracle.interpreter(path)


def test_tables_are_current():
    """The committed tables are what the generator computes now (TFLM's formula, TFLM's sigmoid table)."""
    spec = importlib.util.spec_from_file_location("int16_activation_tables",
                                                  REPO / "tools" / "int16_activation_tables.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    assert tables.HEADER.read_text() == tables.header_text(), \
        "stale tables: run .venv/bin/python tools/int16_activation_tables.py"


def test_build_without_int16_paths_refuses_int16():
    """A module packed for a model without int16 activations (model_module) leaves the int16 paths out
    (TM_INT16_KERNELS=0: 1.2 KB of SOFTMAX code and 2 KB of tables on the ESP32) and says so at load."""
    module = build_module("x64", ["SOFTMAX"], int16_kernels=False)
    with pytest.raises(TargetError, match=re.escape("ValueError: operator 0 (SOFTMAX) is int16, and this build has "
                                                  "no int16 kernels: pack this model")):
        get_target("unix").run("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())",
                           {"m.tflite": unary_model("SOFTMAX", 8, 1e-3, out_scale=1 / 32768),
                            "tinyml.mpy": module.read_bytes()})


DEVICE_SCRIPT = """
import tinyml
for k in range(%d):
    m = tinyml.Model(open('m%%d.tflite' %% k, 'rb').read())
    m.set_input(0, open('in%%d.bin' %% k, 'rb').read())
    m.invoke()
    open('out%%d.bin' %% k, 'wb').write(bytes(m.output(0)))
print('done')
"""


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
def test_on_targets(target, tmp_path):
    """One module with the three kernels, one run: a converter model of each op and the int16-I/O ones."""
    rng = np.random.default_rng(5)
    models = [converter_model(name, next(converter_cases(1, seed=61))) for name in OPS]
    models = [p.read_bytes() for p in models] + [
        unary_model("LOGISTIC", 2048, 3.7e-4), unary_model("TANH", 2048, 2.0 ** -12),
        unary_model("SOFTMAX", 0, 1e-4, out_scale=1 / 32768, shape=[16, 10])]
    files, inputs = {}, []
    for k, data in enumerate(models):
        path = tmp_path / f"m{k}.tflite"
        path.write_bytes(data)
        info = read_model(path)
        t = info.inputs[0]
        x = (rng.uniform(-3, 3, size=t.shape).astype(np.float32) if np.dtype(t.dtype).kind == "f"
             else rng.integers(-32768, 32768, size=t.shape, dtype=np.int16))
        inputs.append((path, x, info))
        files[f"m{k}.tflite"], files[f"in{k}.bin"] = data, x.tobytes()
    tgt = get_target(target)
    files["tinyml.mpy"] = build_module(tgt.arch, ["SOFTMAX", "LOGISTIC", "TANH", "QUANTIZE", "DEQUANTIZE"]
                                       ).read_bytes()
    result = tgt.run(DEVICE_SCRIPT % len(models), files, [f"out{k}.bin" for k in range(len(models))])
    for k, (path, x, info) in enumerate(inputs):
        want = oracle.invoke(path, [x])[0]
        got = np.frombuffer(result.files[f"out{k}.bin"], dtype=want.dtype).reshape(want.shape)
        assert got.tobytes() == want.tobytes(), f"model {k} ({', '.join(info.op_names)}) differs on {target}"
