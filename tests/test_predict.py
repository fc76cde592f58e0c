"""`model.predict()`, the easy path, in the real MicroPython unix port: every input form a user has (lists,
nested lists, tuples, array('f'/'d'/'b'/'h'...), bytearray, memoryview), every output dtype, results equal to
TFLM's dequantized outputs, `out=` that allocates nothing, and `keep_inputs=True`."""

import struct

import numpy as np
import pytest

from conftest import MODELS
from m4diff.tflite_writer import ModelBuilder
from micropython_run import run_mpy
from tinyml import oracle
from tinyml.model_info import read_model

AD01 = MODELS / "ad01_int8.tflite"
TFLITE_TYPES = {"float32": 0, "int32": 2, "uint8": 3, "int64": 4, "bool": 6, "int16": 7, "int8": 9}


def _ad01_reference(x_float):
    """TFLM's first output of ad01 for float inputs, quantized and dequantized as predict() does."""
    info = read_model(AD01)
    i, o = info.inputs[0], info.outputs[0]
    q = np.clip(np.round(x_float / np.float32(i.scale)) + i.zero_point, -128, 127).astype(np.int8)
    y = oracle.invoke(AD01, [q.reshape(i.shape)])[0].astype(np.float32)
    return (np.float32(o.scale) * (y - np.float32(o.zero_point))).ravel()


def _floats(line):
    return np.array([float(v) for v in line.split()], np.float32)


def test_every_input_form_gives_tflms_result():
    # values on the quantization grid's half steps would round differently in float32 and float64:
    # quarter steps keep the test about the API, not about the last bit of a division
    info = read_model(AD01)
    step = info.inputs[0].scale
    x = (np.random.default_rng(4).integers(-100, 100, size=640) + 0.25).astype(np.float32) * np.float32(step)
    want = _ad01_reference(x)
    res = run_mpy("""
import tinyml, array
m = tinyml.Model(open('m.tflite', 'rb').read())
xs = array.array('f', open('x.bin', 'rb').read())
forms = [
    xs,
    list(xs),
    tuple(xs),
    [list(xs[i:i + 10]) for i in range(0, 640, 10)],        # nested: 64 rows of 10
    [tuple(xs[i:i + 2]) for i in range(0, 640, 2)],         # a list of pairs
    array.array('d', xs),
    memoryview(xs),
]
for x in forms:
    y = m.predict(x)
    print(type(y).__name__, ' '.join(repr(v) for v in y))
""", {"m.tflite": AD01.read_bytes(), "x.bin": x.tobytes()})
    lines = res.stdout.splitlines()
    assert len(lines) == 7
    for line in lines:
        kind, values = line.split(" ", 1)
        assert kind == "array"
        np.testing.assert_array_equal(_floats(values), want)


def test_integer_inputs():
    """A buffer of the input's own type (int8 here) is copied unchanged; other integers are real values and
    are quantized."""
    q = np.random.default_rng(5).integers(-128, 128, size=(1, 640)).astype(np.int8)
    info = read_model(AD01)
    o = info.outputs[0]
    want = (np.float32(o.scale) * (oracle.invoke(AD01, [q])[0].astype(np.float32) - np.float32(o.zero_point))).ravel()
    ints = np.random.default_rng(6).integers(-3, 4, size=640)
    want_ints = _ad01_reference(ints.astype(np.float32))
    res = run_mpy("""
import tinyml, array
m = tinyml.Model(open('m.tflite', 'rb').read())
q = array.array('b', open('q.bin', 'rb').read())
print(' '.join(repr(v) for v in m.predict(q)))
print(bytes(m.input(0)) == bytes(q) or 'input reused')
ints = %r
for x in (ints, array.array('h', ints), array.array('i', ints), bytearray([v & 0xff for v in ints])):
    print(' '.join(repr(v) for v in m.predict(x)))
""" % [int(v) for v in ints], {"m.tflite": AD01.read_bytes(), "q.bin": q.tobytes()})
    lines = res.stdout.splitlines()
    np.testing.assert_array_equal(_floats(lines[0]), want)
    for line in lines[2:5]:
        np.testing.assert_array_equal(_floats(line), want_ints)
    # a bytearray holds numbers 0..255: the negative ints wrapped, so its result differs, but it runs
    assert len(_floats(lines[5])) == 640


def _reshape_model(dtype, scale, zero_point, shape=(2, 3)):
    """One RESHAPE from `shape` to a flat vector, in and out of `dtype`, quantized when scale is given."""
    b = ModelBuilder()
    t = TFLITE_TYPES[dtype]
    x = b.tensor(shape, t, scale, zero_point)
    y = b.tensor((int(np.prod(shape)),), t, scale, zero_point)
    b.op("RESHAPE", [x], [y], "ReshapeOptions", b.options("ReshapeOptions", newShape=[int(np.prod(shape))]))
    return b.finish([x], [y])


@pytest.mark.parametrize("dtype,scale,zero_point,values", [
    ("int8", 0.5, -3, [-128, -1, 0, 1, 100, 127]),
    ("uint8", 0.25, 128, [0, 1, 127, 128, 200, 255]),
    ("int16", 0.001, 0, [-32768, -1, 0, 5, 1000, 32767]),
    ("int32", None, None, [-2147483648, -70000, 0, 3, 16777217, 2147483647]),
    ("int32", 0.5, 10, [-1000, -1, 0, 1, 11, 1 << 30]),
    ("int64", None, None, [-(1 << 62), -5, 0, 7, 1 << 40, (1 << 63) - 1]),
    ("bool", None, None, [0, 1, 1, 0, 1, 0]),
    ("float32", None, None, [-1.5, 0.0, 1e-30, 3.25, 1e30, -7.0]),
])
def test_every_output_dtype(dtype, scale, zero_point, values):
    """predict() dequantizes every output dtype the engine runs (scale x (q - zero point), or the value itself
    when the tensor has no scale); a buffer of the tensor's own type passes through unchanged."""
    np_type = np.dtype(dtype if dtype != "bool" else np.uint8)
    raw = np.array(values, dtype=np_type)
    code = {"int8": "b", "uint8": "B", "int16": "h", "int32": "i", "int64": "q", "bool": "B", "float32": "f"}[dtype]
    res = run_mpy("""
import tinyml, array
m = tinyml.Model(open('m.tflite', 'rb').read())
raw = open('raw.bin', 'rb').read()
m.set_input(0, raw)
m.invoke()
print(bytes(m.output(0)) == raw)
y = m.predict(array.array('%s', raw) if %r != 'bool' else list(raw))
print(' '.join(repr(v) for v in y))
""" % (code, dtype), {"m.tflite": _reshape_model(dtype, scale, zero_point), "raw.bin": raw.tobytes()})
    lines = res.stdout.splitlines()
    assert lines[0] == "True"
    got = _floats(lines[1])
    if scale is None:
        want = raw.astype(np.float64).astype(np.float32)
    else:
        want = np.float32(scale) * (raw.astype(np.int64) - zero_point).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_out_allocates_nothing_and_predict_allocates_one_array():
    """With out=, predict() allocates nothing: gc.mem_free() is the same after 1,000 calls. Without it, each
    call allocates the result array and nothing else (measured: one array of 640 floats)."""
    res = run_mpy("""
import tinyml, array, gc
m = tinyml.Model(open('m.tflite', 'rb').read())
x = array.array('f', [0.5] * 640)
out = array.array('f', [0.0] * 640)
y = m.predict(x, out=out)
print(y is out)
def run(form, loop):
    gc.collect()
    gc.disable()
    before = gc.mem_free()
    for i in loop:
        m.predict(form, out=out)
    used = before - gc.mem_free()
    gc.enable()
    return used
for form in (x, [0.5] * 640):
    run(form, range(10))                        # warm-up: the VM's first pass through run() allocates once
    print(run(form, range(1000)))
r = m.predict(x)                                # (a new global would grow the globals dict)
gc.collect()
gc.disable()
before = gc.mem_free()
r = m.predict(x)
print(before - gc.mem_free() <= 640 * 4 + 160 or before - gc.mem_free())   # 2,688 measured
gc.enable()
print(list(r) == list(out))
""", {"m.tflite": AD01.read_bytes()})
    # (each run() allocates its range object: 32 bytes on the unix port, the same for 10 or 1,000 calls)
    out = res.stdout.split()
    assert out[0] == "True" and out[3:] == ["True", "True"]
    assert int(out[1]) <= 32 and int(out[2]) <= 32, out


def test_keep_inputs_preserves_the_input_across_invokes():
    """By default invoke() may reuse the inputs' storage (ad01's input is overwritten, as in TFLM); with
    keep_inputs=True it never does, results are the same, and the arena grows by what that costs. repr shows
    the mode."""
    q = np.random.default_rng(8).integers(-128, 128, size=(1, 640)).astype(np.int8)
    want = oracle.invoke(AD01, [q])[0].tobytes()
    res = run_mpy("""
import tinyml
data = open('m.tflite', 'rb').read()
q = open('q.bin', 'rb').read()
for keep in (False, True):
    m = tinyml.Model(data, keep_inputs=keep)
    m.set_input(0, q)
    m.invoke()
    kept = bytes(m.input(0)) == q
    m.invoke()                                  # a second run on whatever the input holds now
    open('y%d.bin' % keep, 'wb').write(bytes(m.output(0)))
    print(keep, kept, m.keep_inputs, 'keep_inputs=%s' % keep in repr(m), m.arena_bytes)
""", {"m.tflite": AD01.read_bytes(), "q.bin": q.tobytes()}, ["y0.bin", "y1.bin"])
    default, keep = [line.split() for line in res.stdout.splitlines()]
    assert default[:4] == ["False", "False", "False", "True"]
    assert keep[:4] == ["True", "True", "True", "True"]
    assert int(keep[4]) > int(default[4])
    assert res.files["y1.bin"] == want             # kept: the second run sees the same input
    assert res.files["y0.bin"] != want             # reused: the second run sees clobbered input


def test_float_conversions_in_native_code_match_the_host():
    """float64 and int64 values become float32 in the module's own integer code (no libgcc): spot checks at
    the edges (rounding ties, subnormals, infinities, NaN, the int64 extremes) against the host's casts."""
    doubles = [0.1, -2.5, 1.0 + 2 ** -24, 1.0 + 3 * 2 ** -24, 3.4028235e38, 3.5e38, -1e300, 1e-40, 1.4e-45,
               7e-46, 2.0 ** -150, 5e-324, float("inf"), float("-inf"), 16777217.0, -0.0]
    res = run_mpy("""
import tinyml, array
m = tinyml.Model(open('m.tflite', 'rb').read())
d = array.array('d', open('d.bin', 'rb').read())
out = array.array('f', [0.0] * 16)
m.predict(d, out=out)
print(bytes(out).hex())
""", {"m.tflite": _reshape_model("float32", None, None, shape=(4, 4)),
      "d.bin": struct.pack("<16d", *doubles)})
    want = np.array(doubles, np.float64).astype(np.float32).tobytes().hex()
    assert res.stdout.strip() == want
