"""Messages about models the engine cannot run: every missing op named at once (on the host by `tinyml check`,
on the device by tinyml.Model), advice that leads to ops that exist, hybrid (dynamic-range) models refused
with the converter setting that fixes them, and custom ops named by the TensorFlow op they wrap."""

import re

import numpy as np
import pytest

from m4diff.tflite_writer import INT32, INT8, ModelBuilder
from micropython_run import run_mpy
from tinyml.check import check
from tinyml.model_info import op_names
from tinyml.ops import ADVICE, INT16_ADVICE, KERNEL_TYPES, KERNELS, kernel_takes
from tinyml.targets import TargetError

FLOAT32 = 0
Q = dict(scale=0.05, zero_point=3)


def missing_ops_model():
    """TILE, ADD, TILE again and EXP: two ops the engine has no kernel for, one of them twice."""
    b = ModelBuilder()
    x = b.tensor([1, 8], **Q)
    mult = b.tensor([2], INT32, data=np.array([1, 2], np.int32))
    y, z = b.tensor([1, 16], **Q), b.tensor([1, 16], **Q)
    w, v = b.tensor([1, 32], **Q), b.tensor([1, 32], **Q)
    b.op("TILE", [x, mult], [y], "TileOptions", b.options("TileOptions"))
    b.op("ADD", [y, y], [z], "AddOptions", b.options("AddOptions"))
    b.op("TILE", [z, mult], [w], "TileOptions", b.options("TileOptions"))
    b.op("EXP", [w], [v], "ExpOptions", b.options("ExpOptions"))
    return b.finish([x], [v])


def test_device_names_every_missing_op():
    """The generic module (every kernel) carries the names of all builtins: each missing op once, by name,
    with the first operator that uses it."""
    with pytest.raises(TargetError) as err:
        run_mpy("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())", {"m.tflite": missing_ops_model()})
    assert str(err.value) == ("ValueError: unsupported ops (no kernel in this engine build): TILE (operator 0), "
                              "EXP (operator 3)")


def test_per_model_build_points_to_check():
    """A per-model build (what `tinyml pack` makes; on the ESP32 its every byte counts) has no name table:
    builtin codes and a pointer to `tinyml check`."""
    with pytest.raises(TargetError) as err:
        run_mpy("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())", {"m.tflite": missing_ops_model()},
                ops=["FULLY_CONNECTED"])  # the build test_device_api uses: no second build
    assert str(err.value) == ("ValueError: unsupported ops (`tinyml check` names them): builtin 69 (operator 0), "
                              "builtin 0 (operator 1), builtin 47 (operator 3)")


def test_check_names_every_missing_op(tmp_path, capsys):
    path = tmp_path / "m.tflite"
    path.write_bytes(missing_ops_model())
    assert not check(path)
    out = capsys.readouterr().out
    assert "PROBLEM: 2 unsupported ops: EXP, TILE" in out
    assert re.search(r"TILE +v1 +int8 +x2 +UNSUPPORTED: .*RESIZE_NEAREST_NEIGHBOR", out)


def test_advice_names_only_ops_that_run():
    """An alternative the advice points to must exist: "unroll loops" once led to SPLIT/UNPACK, then missing."""
    # Keras layer names that are also builtin names: the advice names the layer, not the op.
    builtins = set(op_names().values()) - {"LSTM", "RNN"}
    for op, advice in ADVICE.items():
        named = {w for w in re.findall(r"[A-Z][A-Z0-9_]+", advice) if w in builtins} - {op}
        assert named <= set(KERNELS), f"the advice for {op} names {named - set(KERNELS)}, which has no kernel"
    for op in ("SLICE",):   # RNNs: unrolled, they convert to ops that run
        assert {"SPLIT", "UNPACK", "FULLY_CONNECTED"} <= set(re.findall(r"[A-Z_]+", ADVICE[op]))
        assert "unroll=True" in ADVICE[op]


def hybrid_model():
    """What the converter makes with optimizations=[DEFAULT] and no representative dataset: FULLY_CONNECTED
    with float32 input and output and int8 constant weights."""
    b = ModelBuilder()
    x = b.tensor([1, 64], FLOAT32)
    w = b.tensor([8, 64], INT8, scale=0.01, zero_point=0, data=np.ones((8, 64), np.int8))
    y = b.tensor([1, 8], FLOAT32)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions", b.options("FullyConnectedOptions"))
    return b.finish([x], [y])


def test_hybrid_model_refused_with_the_converter_fix(tmp_path, capsys):
    path = tmp_path / "hybrid.tflite"
    path.write_bytes(hybrid_model())
    assert not check(path)
    out = capsys.readouterr().out
    assert "PROBLEM: hybrid (dynamic-range) quantized model: FULLY_CONNECTED (operator 0) takes float32" in out
    assert "representative_dataset" in out and "TFLITE_BUILTINS_INT8" in out


def custom_model(custom_code):
    b = ModelBuilder()
    x, y = b.tensor([1, 8], **Q), b.tensor([1, 8], **Q)
    b.op("ADD", [x, x], [y], "AddOptions", b.options("AddOptions"))
    data_model = b.s.ModelT.InitFromPackedBuf(bytearray(b.finish([x], [y])), 0)
    code = data_model.operatorCodes[0]
    code.builtinCode = code.deprecatedBuiltinCode = 32
    code.customCode = custom_code.encode()
    data_model.subgraphs[0].operators[0].builtinOptionsType = 0
    data_model.subgraphs[0].operators[0].builtinOptions = None
    import flatbuffers
    fb = flatbuffers.Builder(1024)
    fb.Finish(data_model.Pack(fb), file_identifier=b"TFL3")
    return bytes(fb.Output())


@pytest.mark.parametrize("custom_code,expected", [
    ("FlexRFFT", "CUSTOM FlexRFFT .*UNSUPPORTED: the TensorFlow op RFFT kept by the converter's SELECT_TF_OPS"),
    ("MyOp", "CUSTOM MyOp .*UNSUPPORTED: custom op 'MyOp': only the application that registered it"),
])
def test_custom_op_named(custom_code, expected, tmp_path, capsys):
    path = tmp_path / "custom.tflite"
    path.write_bytes(custom_model(custom_code))
    assert not check(path)
    out = capsys.readouterr().out
    assert re.search(expected, out), out
    assert f"PROBLEM: 1 unsupported op: CUSTOM {custom_code}" in out


def test_dilated_conv1d_dynamic_batch_noted(capsys):
    """Keras' dilated Conv1D under a dynamic batch runs (the engine follows TF Lite; TFLM differs:
    tests/test_keras_defaults.py), and check says so, with the conversion both run identically."""
    from test_keras_defaults import dilated_conv1d_model
    assert check(dilated_conv1d_model("int8"))
    out = capsys.readouterr().out
    assert "note: a dilated Conv1D converted with Keras' dynamic batch" in out, out
    assert "tinyml follows TF Lite" in out and "keras.Input(shape=..., batch_size=1)" in out
    assert "PROBLEM" not in out and "verdict: ok" in out, out


INT16 = 7


def int16_model():
    """int16 SOFTMAX (a kernel exists), then RELU and REDUCE_MAX in int16 (their kernels compute int8 and
    float32 only): check must not call these ok."""
    b = ModelBuilder()
    x, y = b.tensor([1, 8], INT16, scale=1e-3, zero_point=0), b.tensor([1, 8], INT16, scale=2.0 ** -15, zero_point=0)
    z, w = b.tensor([1, 8], INT16, scale=2.0 ** -15, zero_point=0), b.tensor([1], INT16, scale=2.0 ** -15, zero_point=0)
    axis = b.tensor([1], INT32, data=np.array([1], np.int32))
    b.op("SOFTMAX", [x], [y], "SoftmaxOptions", b.options("SoftmaxOptions", beta=1.0))
    b.op("RELU", [y], [z], "NONE", None)
    b.op("REDUCE_MAX", [z, axis], [w], "ReducerOptions", b.options("ReducerOptions"))
    return b.finish([x], [w])


def test_kernel_types_are_declared():
    """Every kernel file that computes (rather than copies bytes) names its types; RELU's excludes int16."""
    assert KERNEL_TYPES["SOFTMAX"] >= {"int8", "int16", "float32"}
    assert "int16" not in KERNEL_TYPES["RELU"] and KERNEL_TYPES["RESHAPE"] is None


def test_int16_advice_names_ops_that_take_int16():
    """A 16x8 model's alternatives must run in int16 (else the advice leads to the next refusal)."""
    builtins = set(op_names().values()) - {"LSTM", "RNN"}     # Keras layer names, as above
    for op, advice in INT16_ADVICE.items():
        assert not kernel_takes(op, "int16"), f"{op} has an int16 kernel now: drop its INT16_ADVICE"
        named = {w for w in re.findall(r"[A-Z][A-Z0-9_]+", advice) if w in builtins} - {op}
        assert all(kernel_takes(o, "int16") for o in named), f"the int16 advice for {op} names {named}"


def test_check_names_ops_without_a_kernel_for_their_type(tmp_path, capsys):
    path = tmp_path / "m.tflite"
    path.write_bytes(int16_model())
    assert not check(path)
    out = capsys.readouterr().out
    assert "PROBLEM: 2 unsupported ops: int16 REDUCE_MAX, int16 RELU" in out
    assert re.search(r"RELU +v1 +int16 +x1 +UNSUPPORTED: no int16 kernel yet \(RELU computes float32, int8\): "
                     r"an activation fused into the layer before it .*, or convert the model full-int8", out)
    assert re.search(r"REDUCE_MAX .*UNSUPPORTED: .*: GlobalAveragePooling \(MEAN\) runs in int16, or convert", out)
    assert re.search(r"SOFTMAX +v1 +int16 +x1 +ok", out)


def test_device_names_op_and_type_it_refuses():
    """The engine's refusal names the op and the type (never "TFLite builtin N")."""
    with pytest.raises(TargetError) as err:
        run_mpy("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())", {"m.tflite": int16_model()})
    assert str(err.value) == "ValueError: operator 1 (RELU): input is int16, expected int8"


def int32_sub_model():
    """SUB of two int32 tensors: add.c's ADD takes int32 (WHILE loop counters), its SUB does not."""
    b = ModelBuilder()
    x, y, z = b.tensor([1, 4], INT32), b.tensor([1, 4], INT32), b.tensor([1, 4], INT32)
    b.op("SUB", [x, y], [z], "SubOptions", b.options("SubOptions"))
    return b.finish([x, y], [z])


def test_per_op_types_line():
    """add.c's `// tinyml-types: SUB int8 int16 float32` narrows SUB alone: check calls int32 SUB unsupported,
    as the engine does at load."""
    assert "int32" in KERNEL_TYPES["ADD"] and KERNEL_TYPES["SUB"] == {"int8", "int16", "float32"}


def test_check_and_device_refuse_int32_sub(tmp_path, capsys):
    path = tmp_path / "m.tflite"
    path.write_bytes(int32_sub_model())
    assert not check(path)
    out = capsys.readouterr().out
    assert re.search(r"SUB +v\d +int32 +x1 +UNSUPPORTED: no int32 kernel yet \(SUB computes float32, int16, int8\)",
                     out), out
    with pytest.raises(TargetError) as err:
        run_mpy("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())", {"m.tflite": path.read_bytes()})
    assert "SUB" in str(err.value) and "int32" in str(err.value), err.value
