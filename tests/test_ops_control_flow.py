"""Control flow over subgraphs (issue 9): WHILE (tf.while_loop) and IF (tf.cond), with the ops their
subgraphs need (LESS/GREATER/... comparisons, int32 ADD for the loop counter): seeded random models from the
real TF converter, int8 and float32, the engine's host build against the TFLM runtime byte for byte; one WHILE
and one IF model also in the MicroPython unix port and on the emulated Cortex-M4.

A Keras LSTM/GRU without unroll=True converts to WHILE with GATHER (the time step) and LOGICAL_AND (two
bounds) in its subgraphs; those run in float32 (tested here). TF 2.21 cannot quantize them to int8: its
calibration crashes (a segfault in the calibrator's TF Lite interpreter), so tf.while_loop is the loop
tested in int8."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, keras_model
from test_ops_data import function_model

from tinyml import TinymlError, oracle, runner
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model

DTYPES = ["int8", "float"]


def while_cases(n, seed):
    """(iterations, scale, shift, seed): a counting loop whose body is y = tanh(y * scale + shift)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield int(rng.integers(0, 5)), round(float(rng.uniform(0.3, 1.5)), 3), round(float(rng.uniform(-0.5, 0.5)), 3), \
            int(rng.integers(1000))


WHILE_DEVICE_CASE = (3, 0.9, 0.1, 5)


def while_model(case, dtype):
    import tensorflow as tf
    iterations, scale, shift, seed = case

    def fn(x):
        body = lambda i, y: (i + 1, tf.tanh(y * scale + shift))  # noqa: E731
        return tf.while_loop(lambda i, y: i < iterations, body, (tf.constant(0), x))[1]
    return cached_model(f"while {dtype} {case}", lambda: function_model(
        fn, [tf.TensorSpec((1, 5), tf.float32)], dtype == "int8", seed))


@pytest.mark.parametrize("case, dtype", [(WHILE_DEVICE_CASE, "int8"), (WHILE_DEVICE_CASE, "float")] +
                         [(case, "int8") for case in while_cases(1, seed=101)], ids=str)
def test_while(case, dtype):
    path = while_model(case, dtype)
    assert "WHILE" in read_model(path).op_names
    assert_bitexact(path, n_inputs=3, seed=case[-1])


@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
def test_keras_rnn_loop_float(layer):
    """Keras 3's LSTM/GRU as it converts by default (a WHILE over the sequence), float32."""
    import tensorflow as tf
    shape, units, seed = ((6, 3), 5, 21) if layer == "LSTM" else ((4, 2), 3, 22)
    path = cached_model(f"keras {layer} loop float", lambda: keras_model(
        lambda x: getattr(tf.keras.layers, layer)(units)(x), [shape], seed, "float"))
    assert {"WHILE", "GATHER", "LOGICAL_AND"} <= set(read_model(path).op_names)
    assert_bitexact(path, n_inputs=3, seed=seed)


def gather_cases(seed):
    """(input shape, indices, axis, batch_dims, seed)."""
    rng = np.random.default_rng(seed)
    for axis, batch_dims in [(1, 0), (2, 1), (-1, 0)]:
        shape = tuple(int(d) for d in rng.integers(2, 5, size=3))
        full = (1,) + shape                                         # with the batch dimension
        idx_shape = full[:batch_dims] + (int(rng.integers(1, 4)),)
        indices = rng.integers(0, full[axis % 4], size=idx_shape).tolist()
        yield shape, indices, axis, batch_dims, int(rng.integers(1000))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(gather_cases(seed=103)), ids=str)
def test_gather(dtype, case):
    import tensorflow as tf
    shape, indices, axis, batch_dims, seed = case
    if dtype == "float" and axis != 1:
        return      # one float case: the copy is the same for every type
    path = cached_model(f"gather {dtype} {case}", lambda: function_model(
        lambda x: tf.gather(x, tf.constant(indices, tf.int32), axis=axis, batch_dims=batch_dims),
        [tf.TensorSpec((1,) + shape, tf.float32)], dtype == "int8", seed))
    assert "GATHER" in read_model(path).op_names
    assert_bitexact(path, n_inputs=2, seed=seed)


def cond_cases(n, seed):
    """(threshold, seed): then-branch x * 0.5 + 1, else-branch x * 2 - 0.5, chosen by x[0, 0] > threshold
    (an int8 GREATER between inputs of different scales: the threshold is a constant of its own)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield round(float(rng.uniform(-0.5, 0.5)), 3), int(rng.integers(1000))


def cond_model(case, dtype):
    import tensorflow as tf
    threshold, seed = case

    def fn(x):
        return tf.cond(x[0, 0] > threshold, lambda: x * 0.5 + 1.0, lambda: x * 2.0 - 0.5)
    return cached_model(f"cond {dtype} {case}", lambda: function_model(
        fn, [tf.TensorSpec((1, 4), tf.float32)], dtype == "int8", seed))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(cond_cases(1, seed=102)), ids=str)
def test_if(dtype, case):
    path = cond_model(case, dtype)
    assert {"IF", "GREATER"} <= set(read_model(path).op_names)
    assert_bitexact(path, n_inputs=4, seed=case[-1])


COMPARISONS = ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal"]


def comparison_model(name, dtype, shapes, seed):
    """A comparison of two inputs that broadcast; int8 inputs get different scales (calibrated on different
    ranges), so TFLM's rescaling decides; int32 compares raw values."""
    import tensorflow as tf
    op = getattr(tf.math, name)
    if dtype == "int32":
        specs = [tf.TensorSpec((1,) + s, tf.int32) for s in shapes]
        return cached_model(f"cmp {name} {dtype} {shapes}", lambda: function_model(
            lambda a, b: op(a, b), specs, False, seed))
    specs = [tf.TensorSpec((1,) + s, tf.float32) for s in shapes]
    # Rounded to coarse steps so that float32 inputs compare equal often enough to test EQUAL.
    return cached_model(f"cmp {name} {dtype} {shapes}", lambda: function_model(
        lambda a, b: op(a, b * 0.5), specs, dtype == "int8", seed))


# Each op once (a model per op and type would cost a conversion each); int8, whose rescaling is the arithmetic,
# for half of them; every other case broadcasts.
COMPARISON_CASES = [(name, ["int8", "float", "int8", "int32", "int8", "float"][i],
                     [(3, 4), (1, 4)] if i % 2 else [(2, 3), (2, 3)]) for i, name in enumerate(COMPARISONS)]


@pytest.mark.parametrize("name, dtype, shapes", COMPARISON_CASES, ids=str)
def test_comparison(name, dtype, shapes):
    path = comparison_model(name, dtype, shapes, seed=COMPARISONS.index(name))
    assert name.upper() in read_model(path).op_names
    assert_bitexact(path, n_inputs=3, seed=7)


def test_comparison_int8_ties():
    """int8 inputs of equal value on a coarse grid: the rescaled comparison must agree with TFLM at ties."""
    path = comparison_model("greater_equal", "int8", [(2, 3), (2, 3)], seed=COMPARISONS.index("greater_equal"))
    info = read_model(path)
    engine = HostEngine(path.read_bytes())
    interp = oracle.interpreter(path)
    rng = np.random.default_rng(5)
    specs = [(o.dtype, o.shape) for o in info.outputs]
    for _ in range(3):
        a = rng.integers(-128, 128, size=(1, 2, 3)).astype(np.int8)
        b = (a.astype(np.int32) + rng.integers(-1, 2, size=a.shape)).clip(-128, 127).astype(np.int8)
        x = [a, b]
        want = oracle.invoke(path, x, interp)[0]
        got = engine.invoke(x, specs)[0]
        assert want.tobytes() == got.tobytes()


def changing_loop_model():
    """A WHILE whose body returns a loop variable of another size than it takes (TF Lite runs such loops
    with dynamic tensors; TFLM fails the copy): the engine refuses it at load with the sizes."""
    import flatbuffers
    from tinyml.model_info import schema
    sch = schema()
    base = while_model(WHILE_DEVICE_CASE, "float").read_bytes()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(base, 0))
    body = model.subgraphs[2]
    out = body.tensors[body.outputs[1]]
    out.shape = np.array([1, 3], dtype=np.int32)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_while_refuses_changing_shapes():
    path = cached_model("while changing shape", changing_loop_model)
    with pytest.raises(TinymlError, match=r"\(WHILE\): body output 1: 12 bytes of float32 passed where the "
                                          r"subgraph has 20 bytes"):
        HostEngine(path.read_bytes())


def loop_then_cond_model():
    """One model with both (one pack per target instead of two): a counting loop, then a tf.cond on its result."""
    import tensorflow as tf

    def fn(x):
        y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.tanh(y * 0.9 + 0.1)), (tf.constant(0), x))[1]
        return tf.cond(y[0, 0] > 0.2, lambda: y * 0.5 + 1.0, lambda: y * 2.0 - 0.5)
    return cached_model("while then cond", lambda: function_model(fn, [tf.TensorSpec((1, 5), tf.float32)], True, 8))


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
def test_on_targets(target):
    path = loop_then_cond_model()
    info = read_model(path)
    assert {"WHILE", "IF"} <= set(info.op_names)
    interp = oracle.interpreter(path)
    for seed in range(3):
        x = runner.random_inputs(info, seed=seed)
        got = runner.invoke(path, x, target)
        want = oracle.invoke(path, x, interp)
        for g, w in zip(got, want):
            assert g.tobytes() == w.tobytes(), f"{path} on {target}, inputs seed {seed}"
