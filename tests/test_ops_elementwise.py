"""ADD, SUB, MUL (with numpy broadcasting), LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, ELU and float
SOFTMAX: single-op models from the TF converter over seeded random shapes, quantizations and activations, the
engine's host build against the TFLM runtime byte for byte."""

import numpy as np
import pytest

from opcheck import assert_bitexact, cached_model, keras_model

ACTIVATIONS = [None, "relu", "relu6", None]


def binary_cases(n, seed):
    """(shape1, shape2 or None, const_shape or None, activation, seed): shapes broadcast against each other;
    a constant second operand may have a lower rank."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        rank = int(rng.integers(1, 5))
        out = [int(d) for d in rng.integers(1, 7, size=rank)]
        s1 = tuple(d if rng.random() > 0.3 else 1 for d in out)
        s2 = tuple(d if rng.random() > 0.3 else 1 for d in out)
        if i % 3 == 2:
            yield s1, None, s2[int(rng.integers(0, rank)):] or (1,), ACTIVATIONS[i % 4], int(rng.integers(1000))
        else:
            yield s1, s2, None, ACTIVATIONS[i % 4], int(rng.integers(1000))


def binary_model(op, s1, s2, const, act, seed, dtype):
    import tensorflow as tf
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}[op]

    def build(*xs):
        b = xs[1] if s2 is not None else tf.constant(
            np.random.default_rng(seed).uniform(-2, 2, size=const).astype(np.float32))
        y = fn(xs[0], b)
        return tf.keras.layers.Activation(act)(y) if act else y
    shapes = [s1] if s2 is None else [s1, s2]
    return cached_model(f"{op} {dtype} {s1} {s2} {const} {act} {seed}", lambda: keras_model(build, shapes, seed, dtype))


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("case", list(binary_cases(9, seed=11)), ids=str)
def test_binary_int8(op, case):
    assert_bitexact(binary_model(op, *case, "int8"), seed=case[-1])


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("case", list(binary_cases(3, seed=12)), ids=str)
def test_binary_float(op, case):
    assert_bitexact(binary_model(op, *case, "float"), seed=case[-1])


def unary_cases(n, seed):
    """(shape, input multiplier, seed): the multiplier (a MUL in front, into which the converter may fuse a
    RELU) varies the op's input scale; the first case has none."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        shape = tuple(int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 4))))
        yield shape, 1 if i == 0 else float(np.round(2.0 ** rng.uniform(-3, 3), 3)), int(rng.integers(1000))


def unary_model(name, layer, shape, mult, seed, dtype):
    def build(x):
        return layer()(x * mult if mult != 1 else x)
    return cached_model(f"{name} {dtype} {shape} {mult} {seed}", lambda: keras_model(build, [shape], seed, dtype))


def layers():
    import tensorflow as tf
    return {
        "logistic": lambda: tf.keras.layers.Activation("sigmoid"),
        "tanh": lambda: tf.keras.layers.Activation("tanh"),
        "relu": lambda: tf.keras.layers.ReLU(),
        "relu6": lambda: tf.keras.layers.ReLU(6.0),
        "leaky_relu": lambda: tf.keras.layers.LeakyReLU(negative_slope=0.2),
        "leaky_relu_neg": lambda: tf.keras.layers.Lambda(lambda x: tf.nn.leaky_relu(x, alpha=-0.7)),
        "hard_swish": lambda: tf.keras.layers.Activation("hard_swish"),
        "elu": lambda: tf.keras.layers.ELU(),
        "softmax": lambda: tf.keras.layers.Softmax(),
    }


INT8_UNARY = ["logistic", "tanh", "relu", "relu6", "leaky_relu", "leaky_relu_neg", "hard_swish", "elu"]
FLOAT_UNARY = ["logistic", "tanh", "relu", "relu6", "leaky_relu", "hard_swish", "elu", "softmax"]


@pytest.mark.parametrize("name", INT8_UNARY)
@pytest.mark.parametrize("case", list(unary_cases(4, seed=21)), ids=str)
def test_unary_int8(name, case):
    path = unary_model(name, layers()[name], *case, "int8")
    assert_bitexact(path, n_inputs=2, seed=case[-1])


@pytest.mark.parametrize("name", FLOAT_UNARY)
@pytest.mark.parametrize("case", list(unary_cases(3, seed=22)), ids=str)
def test_unary_float(name, case):
    path = unary_model(name, layers()[name], *case, "float")
    assert_bitexact(path, n_inputs=2, seed=case[-1])


def int8_elu_model(shape, mult, seed):
    """The converter leaves ELU in float (DEQUANTIZE, ELU, QUANTIZE): rewire ELU to int8 in and out to test the
    int8 kernel (TFLM's lookup table)."""
    import flatbuffers
    from tinyml.model_info import schema
    sch = schema()
    base = unary_model("elu", layers()["elu"], shape, mult, seed, "int8").read_bytes()
    model = sch.ModelT.InitFromObj(sch.Model.GetRootAs(base, 0))
    g = model.subgraphs[0]
    codes = [c.builtinCode if c.builtinCode else c.deprecatedBuiltinCode for c in model.operatorCodes]
    deq = next(op for op in g.operators if codes[op.opcodeIndex] == sch.BuiltinOperator.DEQUANTIZE)
    elu = next(op for op in g.operators if codes[op.opcodeIndex] == sch.BuiltinOperator.ELU)
    quant = next(op for op in g.operators if codes[op.opcodeIndex] == sch.BuiltinOperator.QUANTIZE
                 and list(op.inputs) == list(elu.outputs))
    elu.inputs, elu.outputs = list(deq.inputs), list(quant.outputs)
    g.operators = [op for op in g.operators if op is not deq and op is not quant]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("case", list(unary_cases(3, seed=23)), ids=str)
def test_elu_int8_kernel(case):
    path = cached_model(f"elu int8 kernel {case}", lambda: int8_elu_model(*case))
    assert_bitexact(path, n_inputs=2, seed=case[-1])
