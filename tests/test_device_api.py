"""The MicroPython API of the engine, exercised inside the real MicroPython unix port."""

import numpy as np
import pytest

from conftest import MODELS
from micropython_run import run_mpy
from tinyml import oracle
from tinyml.targets import TargetError

AD01 = (MODELS / "ad01_int8.tflite").read_bytes()
HELLO = (MODELS / "hello_world.tflite").read_bytes()


def test_model_attributes_repr_and_views():
    out = run_mpy("""
import tinyml
m = tinyml.Model(open('m.tflite', 'rb').read())
print(repr(m))
print(m.inputs[0]['shape'], m.inputs[0]['dtype'], m.outputs[0]['zero_point'])
print(m.arena_bytes > 0, m.model_bytes)
v = m.input(0)
v[0] = -5
print(len(v), v[0], m.input()[0])
print(sorted(tinyml.ops()))
""", {"m.tflite": AD01}).stdout.splitlines()
    assert out[0].startswith("<Model: 10 ops, input (1, 640) int8, output (1, 640) int8, arena")
    assert out[1] == "(1, 640) int8 96"
    assert out[2] == f"True {len(AD01)}"
    assert out[3] == "640 -5 -5"
    assert "FULLY_CONNECTED" in out[4]


def test_set_input_invoke_output_match_tflm():
    x = np.random.default_rng(5).integers(-128, 128, size=(1, 640)).astype(np.int8)
    res = run_mpy("""
import tinyml
m = tinyml.Model(open('m.tflite', 'rb').read())
m.set_input(0, open('x.bin', 'rb').read())
m.invoke()
open('y.bin', 'wb').write(bytes(m.output(0)))
""", {"m.tflite": AD01, "x.bin": x.tobytes()}, ["y.bin"])
    want = oracle.invoke(MODELS / "ad01_int8.tflite", [x])[0]
    assert res.files["y.bin"] == want.tobytes()


def test_predict_quantizes_and_dequantizes_like_tflm():
    from tinyml.train import quantize_inputs as quantize_like_tflm
    from tinyml.model_info import read_model
    info = read_model(MODELS / "hello_world.tflite")
    xs = np.linspace(0, 6, 7, dtype=np.float32)
    res = run_mpy("""
import tinyml
m = tinyml.Model(open('m.tflite', 'rb').read())
for x in %r:
    print(m.predict([x])[0])
""" % [float(v) for v in xs], {"m.tflite": HELLO})
    got = [float(v) for v in res.stdout.split()]
    interp = oracle.interpreter(MODELS / "hello_world.tflite")
    i, o = info.inputs[0], info.outputs[0]
    want = []
    for v in xs:
        q = quantize_like_tflm(np.array([[v]], np.float32), i.scale, i.zero_point)
        y = oracle.invoke(MODELS / "hello_world.tflite", [q], interp)[0][0, 0]
        want.append(float(np.float32(o.scale) * np.float32(int(y) - o.zero_point)))
    assert np.allclose(got, want, rtol=0, atol=1e-6)  # printed floats: same values to print precision
    assert abs(got[1] - np.sin(1.0)) < 0.2


def test_profile_reports_every_op():
    out = run_mpy("""
import tinyml
m = tinyml.Model(open('m.tflite', 'rb').read())
p = m.profile()
print(len(p), p[0][0], p[-1][2])
""", {"m.tflite": AD01}).stdout.split()
    assert out == ["10", "FULLY_CONNECTED", "640"]


@pytest.mark.parametrize("script,message", [
    ("m.set_input(0, b'123')", "ValueError: input needs 640 bytes (640 x int8), got 3"),
    ("m.input(3)", "IndexError: input index 3 out of range: the model has 1"),
    ("m.predict([1.0, 2.0])", "ValueError: input has 2 values, the model takes 640"),
    ("tinyml.Model(b'abc')", "ValueError: model is empty or truncated (3 bytes)"),
    ("tinyml.Model(b'x' * 64)", "ValueError: not a TensorFlow Lite model (no TFL3 identifier): give a .tflite file"),
    ("tinyml.Model(open('m.tflite', 'rb').read()[:5000])", "ValueError: model is truncated or corrupt"),
    ("tinyml.Model(12)", "TypeError"),
])
def test_bad_use_raises_clear_errors(script, message):
    with pytest.raises(TargetError) as err:
        run_mpy("import tinyml\nm = tinyml.Model(open('m.tflite', 'rb').read())\n" + script, {"m.tflite": AD01})
    assert str(err.value).startswith(message)


def test_unsupported_op_is_named():
    kws = (MODELS / "kws_ref_model.tflite").read_bytes()
    # A build without the model's kernels and without the table of all names (tm_registry.c): codes, every one.
    with pytest.raises(TargetError, match=r"ValueError: unsupported ops \(`tinyml check` names them\): builtin 3 "
                                          r"\(operator 0\), builtin 4 \(operator 1\)"):
        run_mpy("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())", {"m.tflite": kws},
                ops=["FULLY_CONNECTED"])


def test_int8_only_build_names_a_float_op():
    """A module packed for an int8 model (no float32 kernel paths) refuses a float32 model at load, naming
    the operator, instead of computing garbage."""
    import tensorflow as tf
    from opcheck import cached_model, float_keras_model
    from tinyml.build import build_module
    from tinyml.targets import get_target
    path = cached_model("float dense 3x2 for int8-only build",
                        lambda: float_keras_model(lambda x: tf.keras.layers.Dense(2)(x), [(3,)]))
    files = {"m.tflite": path.read_bytes(),
             "tinyml.mpy": build_module("x64", ["FULLY_CONNECTED"], float_kernels=False).read_bytes()}
    with pytest.raises(TargetError, match=r"operator 0 \(FULLY_CONNECTED\) is float32, and this int8-only build"):
        get_target("unix").run("import tinyml\ntinyml.Model(open('m.tflite', 'rb').read())", files)


def test_models_are_freed_by_the_gc():
    out = run_mpy("""
import gc, tinyml
buf = open('m.tflite', 'rb').read()
gc.collect()
before = gc.mem_free()
for i in range(200):
    m = tinyml.Model(buf)
    m.invoke()
m = None
gc.collect()
print(before - gc.mem_free())
""", {"m.tflite": AD01}).stdout.split()
    assert int(out[-1]) < 2048  # nothing leaks (200 models would hold ~600 KB)


def test_mutated_models_never_crash_micropython():
    """Hostile bytes: every load either works or raises a Python exception; MicroPython never dies."""
    rng = np.random.default_rng(11)
    models = []
    for base in (AD01, HELLO):
        for _ in range(60):
            d = bytearray(base)
            for _ in range(int(rng.integers(1, 8))):
                pos = int(rng.integers(0, min(len(d), 4096)))  # headers, vtables and offsets live up front
                d[pos] = int(rng.integers(0, 256))
            models.append(bytes(d))
        models.append(base[: int(rng.integers(8, len(base)))])
    files = {f"m{i}.tflite": m for i, m in enumerate(models)}
    out = run_mpy("""
import tinyml
ok = err = 0
for i in range(%d):
    try:
        m = tinyml.Model(open('m%%d.tflite' %% i, 'rb').read())
        m.invoke()
        ok += 1
    except (ValueError, RuntimeError, MemoryError) as e:
        err += 1
print(ok, err)
""" % len(models), files).stdout.split()
    assert int(out[0]) + int(out[1]) == len(models)
    assert int(out[1]) > 0


def test_help_and_listing_for_the_repl():
    out = run_mpy("import tinyml\ntinyml.help()\nprint(sorted(dir(tinyml)))").stdout
    assert "m.predict(x)" in out and "out=" in out and "keep_inputs" in out and "tinyml.ops()" in out
    assert "'Model'" in out and "'help'" in out


def test_out_of_memory_is_a_clear_memory_error():
    """A model too big for the board's heap: MemoryError naming what did not fit, and MicroPython goes on."""
    from tinyml.build import build_module
    from tinyml.targets.unix import UnixTarget
    small_board = UnixTarget()
    small_board.heap = "420K"   # room for the 333 KB model file, not for its 92 KB arena
    vww = (MODELS / "vww_96_int8.tflite").read_bytes()
    ops = ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX",
           "QUANTIZE", "DEQUANTIZE"]
    out = small_board.run("""
import os, tinyml
with open('m.tflite', 'rb') as f:
    buf = f.read(os.stat('m.tflite')[6])
try:
    tinyml.Model(buf)
except MemoryError as e:
    print('MemoryError:', e)
print('still running')
""", {"m.tflite": vww, "tinyml.mpy": build_module("x64", ops).read_bytes()}).stdout
    assert "MemoryError: not enough memory for the tensor arena" in out, out
    assert "still running" in out


def test_model_from_a_memoryview_is_read_in_place():
    """A read-only memoryview (a file mapped from ROMFS, here a view of bytes) is read in place; a writable one
    (of a bytearray) is copied, as is one the engine cannot read in place (not 4-byte aligned)."""
    out = run_mpy("""
import tinyml
data = bytes(8) + open('m.tflite', 'rb').read()
for buf in (memoryview(data)[8:], memoryview(bytearray(data))[8:], memoryview(b'123' + data)[11:]):
    m = tinyml.Model(buf)
    m.invoke()
    print(m.model_bytes, m.model_copied)
""", {"m.tflite": AD01}).stdout.splitlines()
    assert out == [f"{len(AD01)} False", f"{len(AD01)} True", f"{len(AD01)} True"]
