"""UNIDIRECTIONAL_SEQUENCE_LSTM (issue 9): the fused LSTM that legacy Keras (tf_keras) converts to, full-int8
(TFLM's integer LSTM: int8 activations, int16 cell state and gates) and float32, against the TFLM runtime byte
for byte on the host build, the MicroPython unix port and the emulated Cortex-M4.

The op's hidden and cell states are variable tensors: TFLM carries them from one invoke to the next and resets
them only with the interpreter, so every test here invokes several times on one instance (a state the engine
dropped or reset per invoke fails at the second invoke), and test_lstm_reset checks Model.reset()."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, random_inputs

from tinyml import oracle
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model
from tinyml.stream import stream

OP = "UNIDIRECTIONAL_SEQUENCE_LSTM"


def legacy_lstm(units, steps, features, return_sequences, seed, dtype, batch=1, time_major=False):
    """Bytes of a tf_keras LSTM over (steps, features) with a fixed batch, converted by TF 2.21 (Keras 3's LSTM
    converts to WHILE instead; only legacy Keras gives the fused op). time_major: the input is
    (steps, batch, features)."""
    try:
        import tf_keras
    except ImportError:
        raise AssertionError("tf_keras is not installed: run `make setup`") from None
    import tensorflow as tf
    from tinyml.quiet import quiet
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(seed)
    shape = (steps, batch, features) if time_major else (batch, steps, features)
    x = tf_keras.Input(shape=shape[1:], batch_size=shape[0])
    model = tf_keras.Model(x, tf_keras.layers.LSTM(units, return_sequences=return_sequences,
                                                   time_major=time_major)(x))
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if dtype == "int8":     # (tinyml.convert.to_int8_tflite calibrates with a batch of 1; this takes any shape)
        rng = np.random.default_rng(seed)
        calib = [rng.uniform(-2, 2, size=shape).astype(np.float32) for _ in range(32)]
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([c] for c in calib)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
    with quiet():
        return conv.convert()


def lstm_model(case, dtype):
    return cached_model(f"legacy lstm {dtype} {case}", lambda: legacy_lstm(*case, dtype))


# (units, steps, features, return_sequences, seed): 4 to 16 units over 3 to 8 steps, both output forms.
CASES = [(8, 5, 3, True, 1), (16, 8, 6, False, 2), (4, 3, 2, True, 3)]


@pytest.mark.parametrize("dtype, case", [("int8", c) for c in CASES] + [("float", CASES[1])], ids=str)
def test_lstm(dtype, case):
    path = lstm_model(case, dtype)
    assert OP in read_model(path).op_names
    assert_bitexact(path, n_inputs=4, seed=case[-1])


def test_lstm_time_major_batch2():
    """A batch of 2 sequences, time-major (input (steps, batch, features)): one state row per sequence."""
    path = cached_model("legacy lstm time major batch 2", lambda: legacy_lstm(6, 4, 3, True, 5, "int8", 2, True))
    info = read_model(path)
    assert OP in info.op_names and tuple(info.inputs[0].shape) == (4, 2, 3)
    assert_bitexact(path, n_inputs=3, seed=5)


def test_lstm_reset():
    """Model.reset() returns the states to TFLM's initial values (int8 hidden state: its zero point, cell: 0):
    the first outputs again, which differ from those of the second invoke."""
    path = lstm_model(CASES[0], "int8")
    info = read_model(path)
    engine = HostEngine(path.read_bytes())
    specs = [(o.dtype, o.shape) for o in info.outputs]
    x = random_inputs(info, np.random.default_rng(0))
    first = engine.invoke(x, specs)[0].tobytes()
    assert engine.invoke(x, specs)[0].tobytes() != first
    engine.reset()
    assert engine.invoke(x, specs)[0].tobytes() == first
    assert first == oracle.invoke(path, x)[0].tobytes()


def with_options(model_bytes, **options):
    """The model with its LSTM's options changed (Keras never sets a cell clip; TF1 models may)."""
    import flatbuffers
    from tinyml.model_info import schema
    sch = schema()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(model_bytes, 0))
    for op in model.subgraphs[0].operators:
        if op.builtinOptions is not None and hasattr(op.builtinOptions, "cellClip"):
            for name, value in options.items():
                setattr(op.builtinOptions, name, value)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("dtype", ["int8", "float"])
def test_lstm_cell_clip(dtype):
    """A clip that bites (the cell state of these inputs exceeds 0.05): int16 clipping at the quantized clip."""
    base = lstm_model(CASES[1], dtype)
    path = cached_model(f"legacy lstm clip {dtype}", lambda: with_options(base.read_bytes(), cellClip=0.05))
    assert_bitexact(path, n_inputs=3, seed=4)


def test_lstm_refuses_other_cell_activations():
    """The schema has no SIGMOID activation and TFLM computes RELU & co. wrongly there: only TANH is taken."""
    from tinyml import TinymlError
    base = lstm_model(CASES[0], "int8")
    with pytest.raises(TinymlError, match=r"cell activation 1 is not supported: only TANH"):
        HostEngine(with_options(base.read_bytes(), fusedActivationFunction=1))


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
def test_lstm_on_targets(target):
    """One model instance on the device over three invokes (the state carried between them), as TFLM."""
    path = lstm_model(CASES[0], "int8")
    info = read_model(path)
    rng = np.random.default_rng(9)
    frames = [np.stack([random_inputs(info, rng)[0] for _ in range(3)])]
    got = stream(path, frames, target)[0]
    interp = oracle.interpreter(path)
    for k in range(3):
        want = oracle.invoke(path, [frames[0][k]], interp)[0]
        assert got[k].tobytes() == want.tobytes(), f"{target}: invoke {k} differs from TFLM"


def test_check_says_it_runs(capsys):
    """`tinyml check` lists the fused LSTM as ok (its advice once sent users to unroll=True instead) and
    reports its MACs (5 steps x 4 gates x 8 units x (3 features + 8 units) = 1760) and its state: LSTM(8),
    batch 1, int8 hidden and int16 cell state, 24 bytes."""
    import re
    from tinyml.check import check
    assert check(lstm_model(CASES[0], "int8"))
    out = capsys.readouterr().out
    assert ", 1 ops, 1760 MACs;" in out
    assert re.search(f"{OP} +v\\d +int8 +x1 +ok", out)
    assert "state: the fused LSTM's hidden and cell states, 24 bytes, kept across invoke()" in out


def test_lstm_refuses_cifg():
    """An LSTM without input-gate weights (CIFG) is refused at load with the reason, as TFLM refuses it."""
    import flatbuffers
    from tinyml import TinymlError
    from tinyml.model_info import schema
    sch = schema()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(lstm_model(CASES[2], "int8").read_bytes(), 0))
    for op in model.subgraphs[0].operators:
        if len(op.inputs) == 24:
            op.inputs = np.array([-1 if i == 1 else t for i, t in enumerate(op.inputs)], dtype=np.int32)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(TinymlError, match=r"UNIDIRECTIONAL_SEQUENCE_LSTM\): input 1 is missing \(CIFG LSTMs"):
        HostEngine(bytes(b.Output()))


def test_lstm_refuses_huge_cell_scale():
    """A cell scale whose tanh input scaling would overflow int32 is refused at load (TFLM overflows)."""
    import flatbuffers
    from tinyml import TinymlError
    from tinyml.model_info import schema
    sch = schema()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(lstm_model(CASES[2], "int8").read_bytes(), 0))
    g = model.subgraphs[0]
    g.tensors[g.operators[0].inputs[19]].quantization.scale = np.array([2.0 ** 4], np.float32)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(TinymlError, match=r"cell state scale 2\^4 is out of range"):
        HostEngine(bytes(b.Output()))
