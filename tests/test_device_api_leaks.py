"""No leaks: a million invokes and predicts, and ten thousand models created and dropped, leave gc.mem_free()
where it was, on the unix port; a shorter run on the emulated Cortex-M4 board. The counts are the test: a
leak of one byte per call would show as a megabyte."""

from conftest import MODELS
from micropython_run import run_mpy
from tinyml.build import build_module
from tinyml.targets import get_target

HELLO = (MODELS / "hello_world.tflite").read_bytes()
AD01 = (MODELS / "ad01_int8.tflite").read_bytes()

# Prints the heap drift of each phase (bytes; 0 is no leak). gc.collect() before each reading.
SCRIPT = """
import tinyml, gc, array
data = open('m.tflite', 'rb').read()
INVOKES, CYCLES = %d, %d
def free():
    gc.collect()
    return gc.mem_free()
def invokes(m, n):
    for i in range(n):
        m.invoke()
def predicts(m, n):
    x = array.array('f', [0.5])
    out = array.array('f', [0.0])
    for i in range(n):
        m.predict(x, out=out)
        m.predict([0.25])
def cycles(n, buf):
    for i in range(n):
        m = tinyml.Model(buf)
        m.input(0)[0] = i & 0x7f
        m.invoke()
        v = m.output(0)
        m = v = None
        if i %% 100 == 0:
            gc.collect()
m = tinyml.Model(data)
invokes(m, 10)
predicts(m, 10)
cycles(10, data)
cycles(10, bytearray(data))
start = free()
invokes(m, INVOKES)
print('invokes', start - free())
start = free()
predicts(m, INVOKES // 10)
print('predicts', start - free())
start = free()
cycles(CYCLES, data)
print('cycles', start - free())
start = free()
cycles(CYCLES // 10, bytearray(data))
print('copies', start - free())
"""


def _drift(stdout):
    return {k: int(v) for k, v in (line.split() for line in stdout.splitlines())}


def _assert_no_drift(drift):
    # The GC scans the stack conservatively, so a stale pointer can keep a block or two alive across a
    # reading (or free one the start reading counted): a few hundred bytes either way are noise; a leak of
    # one byte per call would be tens of kilobytes here.
    assert set(drift) == {"invokes", "predicts", "cycles", "copies"}
    assert all(abs(v) <= 4096 for v in drift.values()), drift


def test_no_leaks_on_the_unix_port():
    """1,000,000 invokes, 200,000 predict() calls (half into out=, half returning arrays), 10,000 models
    created and dropped, 1,000 loaded from a bytearray (each copied): gc.mem_free() does not drift."""
    res = run_mpy(SCRIPT % (1_000_000, 10_000), {"m.tflite": HELLO})
    _assert_no_drift(_drift(res.stdout))


def test_no_leaks_on_the_emulated_m4():
    files = {"tinyml.mpy": build_module("armv7emsp", None).read_bytes(), "m.tflite": HELLO}
    res = get_target("qemu-m4").run(SCRIPT % (20_000, 300), files)
    _assert_no_drift(_drift(res.stdout))
