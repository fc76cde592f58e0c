"""The Python-facing API under abuse, inside the real MicroPython unix port (tests/fuzz_api.py):

- named scenarios, one hand-written script each, for the cases most likely to crash (a model whose source
  bytearray changes, views kept after their model is collected, profile() with bad clocks, the new
  predict(out=) and keep_inputs=, memory exhaustion, many models);
- a quick seeded random run (fixed seeds, a fixed number of batches) of the call-sequence fuzzer, with a small
  heap. `make fuzz TARGET=api MINUTES=n` runs the same fuzzer for longer, with the known-failing kinds too.

Scenarios in FAILS_WITH_MODTINYML_34d31f6 crashed or misbehaved with the modtinyml.c of that commit (checked
by building the module from it and running them with TINYML_FUZZ_API_MODULE=that.mpy; see docs/testing.md);
the device-API rework (6d70c45) fixed them all, so they must pass. With TINYML_FUZZ_API_MODULE set (examining
another module), they are xfail instead, and the random run leaves out the kinds that failed then."""

import os

import pytest

import fuzz_api
from fuzz_api import PRELUDE, MODEL_FILES, NSLOT, run_script, verdict

MS = "micro_speech.tflite"
HW = "hello_world.tflite"

SCENARIOS = {
    # The model reads shapes, quantization and weights from its buffer in place: change it, then invoke.
    "mutate_bytearray_then_invoke": f"""
load(1, 0, {MS!r}, 'bytearray', 0, 0)
b = SRC[0]
for i in range(0, len(b), 3):
    b[i] = 255
run(2, 0, lambda: M[0].invoke())
check(3, 0)
""",
    "zero_bytearray_then_invoke": f"""
load(1, 0, {HW!r}, 'bytearray', 0, 0)
SRC[0][:] = bytes(len(SRC[0]))
run(2, 0, lambda: M[0].invoke())
check(3, 0)
""",
    "extend_bytearray_then_invoke": f"""
load(1, 0, {MS!r}, 'bytearray', 0, 0)
SRC[0].extend(bytes(50000))   # the bytearray's storage moves; the old block is freed
gc.collect()
sentinel(len(SRC0[{MS!r}]), 0x5a)
run(2, 0, lambda: M[0].invoke())
check(3, 0)
""",
    "mutate_array_then_predict": f"""
load(1, 0, {MS!r}, 'array_B', 0, 0)
a = SRC[0]
for i in range(0, len(a), 2):
    a[i] = 0x80
run(2, 0, lambda: pred(2, 0, PX[NM[0]], NOOUT, True))
check(3, 0)
""",
    # A view must keep its model alive (or stop working): writes must not land in reused heap memory.
    "write_through_view_of_collected_model": f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
vo = M[0].output(0)   # not at the arena's start: the view alone does not keep the arena block alive today
M[0] = None
gc.collect()
for i in range(400):         # fill the heap (and the model's freed blocks) with sentinels
    if not sentinel(256, 0xa5):
        break
def w():
    for i in range(len(vo)):
        vo[i] = 3
run(2, None, w)
check_sentinels(3)
SENT.clear()
gc.collect()
load(4, 1, {HW!r}, 'bytes', 0, 0)
check(5, 1)
""",
    "write_through_input_view_of_collected_model": f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
vi = M[0].input(0)
M[0] = None
gc.collect()
for i in range(400):
    if not sentinel(256, 0xa5):
        break
def w():
    for i in range(len(vi)):
        vi[i] = -1
run(2, None, w)
check_sentinels(3)
""",
    "read_view_of_collected_model_after_new_model": f"""
load(1, 0, {HW!r}, 'bytes', 0, 0)
v = M[0].output(0)
M[0] = None
gc.collect()
load(2, 1, {MS!r}, 'bytes', 0, 0)
run(3, None, lambda: bytes(v))
v[0] = 1
check(4, 1)
""",
}
# profile() with clocks that fail: the model must work afterwards (same output as a fresh model).
for name, clock in {"int": "123", "raising": "raiser", "float": "lambda: 1.5", "str": "'clock'",
                    "none": "None", "wrong_arity": "lambda x: 0"}.items():
    SCENARIOS[f"profile_bad_clock_{name}_then_invoke"] = f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
run(2, 0, lambda: M[0].profile({clock}))
run(3, 0, lambda: M[0].invoke())
check(4, 0)
run(5, 0, lambda: pred(5, 0, PX[NM[0]], NOOUT, True), valid=True)
run(6, 0, lambda: M[0].profile(), valid=True)
check(7, 0)
"""
SCENARIOS.update({
    "profile_clock_collects_garbage": f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
run(2, 0, lambda: M[0].profile(clock_gc), valid=True)
check(3, 0)
""",
    "profile_clock_drops_the_model": f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
m = M[0]
def killer():
    M[0] = None
    gc.collect()
    return 1
run(2, None, lambda: m.profile(killer))
M[0] = m
check(3, 0)
""",
    # The new signature: predict(x, out=None) returns array('f'), written into `out` when given.
    "predict_out_array": f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
o = array.array('f', [0] * len(M[0].output(0)))
def p():
    r = M[0].predict(PX[NM[0]], out=o)
    if list(o) != REFP[NM[0]]:
        fail(2, 'out= not filled')
run(2, 0, p, valid=True)
check(3, 0)
""",
    "keep_inputs_keeps_inputs": f"""
def k():
    m = tinyml.Model(SRC0[{MS!r}], keep_inputs=True)
    m.set_input(0, REF[{MS!r}][0])
    m.invoke()
    if bytes(m.input(0)) != REF[{MS!r}][0]:
        fail(1, 'invoke() changed an input of a keep_inputs model')
run(1, None, k, valid=True)
""",
    # Cases that work today and must keep working.
    "predict_every_argument_kind": f"""
load(1, 0, {HW!r}, 'bytes', 0, 0)
load(1, 1, {MS!r}, 'bytes', 0, 0)
n = 2
for k in (0, 1):
    N = len(M[k].input(0))
    for x in ([0.5] * N, tuple([0.5] * N), bytearray(N), bytes(N), memoryview(bytearray(N)), [0.1] * (N + 1),
              [], [[0.1]] * N, None, 'a' * N, [None] * N, [10 ** 30] * N, [float('nan')] * N, [1e38] * N,
              range(N), {{}}, 12, [True] * N):
        run(n, k, lambda: pred(n, k, x, NOOUT, False))
        n += 1
    for tc in 'bBhHiIlLqQfd':
        run(n, k, lambda: pred(n, k, array.array(tc, [1] * N), NOOUT, False))
        n += 1
    for out in (None, array.array('f'), bytearray(3), [0.0], 'out', array.array('d', [0] * 8)):
        run(n, k, lambda: pred(n, k, PX[NM[k]], out, False))
        n += 1
    run(n, k, lambda: pred(n, k, PX[NM[k]], NOOUT, True), valid=True)
check_all(n)
""",
    "set_input_and_indexes_out_of_range": f"""
load(1, 0, {MS!r}, 'bytes', 0, 0)
n = 2
for i in (1, -1, 2 ** 31, 2 ** 70, -(2 ** 70), 'a', None, 0.0):
    for f in (lambda: M[0].set_input(i, REF[NM[0]][0]), lambda: M[0].input(i), lambda: M[0].output(i)):
        run(n, 0, f)
        n += 1
for buf in (b'', REF[NM[0]][0][1:], REF[NM[0]][0] + b'x', 'abc', None, 12, array.array('h', [0] * 1960)):
    run(n, 0, lambda: M[0].set_input(0, buf))
    n += 1
v = M[0].input(0)
for idx in (len(v), -len(v) - 1, 2 ** 31, 2 ** 70):
    def w():
        v[idx] = 1
    run(n, 0, w)
    n += 1
check(n, 0)
""",
    "constructor_junk": f"""
n = 1
for how in ('unaligned', 'truncated', 'flipped', 'junk', 'empty', 'str', 'int', 'none', 'list', 'array_i'):
    for j in range(8):
        run(n, None, lambda: load(n, 0, {MS!r}, how, j * 7919 + 1, 0))
        n += 1
run(n, None, lambda: tinyml.Model())
run(n, None, lambda: tinyml.Model(SRC0[{HW!r}], SRC0[{HW!r}]))
for meth in ('invoke', 'input', 'output', 'predict', 'profile', 'set_input'):
    run(n, None, lambda: getattr(tinyml.Model, meth)(5))
load(n, 1, {HW!r}, 'bytes', 0, 0)
check(n, 1)
""",
    "memory_exhaustion": f"""
n = 1
for size in (1 << 20, 65536, 8192, 1024):
    hog(size)
    run(n, None, lambda: load(n, 0, {MS!r}, 'bytearray', 0, 0))
    run(n, 0, lambda: M[0].predict(PX[NM[0]]))
    run(n, 0, lambda: M[0].profile())
    run(n, 0, lambda: M[0].inputs)
    n += 1
    unhog()
load(n, 0, {MS!r}, 'bytearray', 0, 0)
check(n, 0)
""",
    "many_models_and_sources_dropped": f"""
ms = []
for i in range(12):
    try:
        ms.append((tinyml.Model(bytearray(SRC0[NAMES[i % 2]])), NAMES[i % 2]))
    except MemoryError:
        break
gc.collect()
sentinel(20000, 0x33)
for m, nm in ms:
    m.set_input(0, REF[nm][0])
    m.invoke()
    if bytes(m.output(0)) != REF[nm][1]:
        fail(2, 'a model among many gives a different output')
ms = None
gc.collect()
""",
})

FAILS_WITH_MODTINYML_34d31f6 = {  # measured: the module built from that modtinyml.c (unchanged up to 9b7dcc3)
    "mutate_bytearray_then_invoke": "segfault",
    "zero_bytearray_then_invoke": "no crash, but the output changes",
    "extend_bytearray_then_invoke": "segfault (the model reads the freed block)",
    "mutate_array_then_predict": "segfault",
    "write_through_input_view_of_collected_model": "segfault (the writes land in sentinels' headers)",
    "profile_bad_clock_int_then_invoke": "every later invoke() raises TypeError",
    "profile_bad_clock_raising_then_invoke": "every later invoke() raises OSError",
    "profile_bad_clock_float_then_invoke": "every later invoke() raises TypeError",
    "profile_bad_clock_str_then_invoke": "every later invoke() raises TypeError",
    "profile_bad_clock_none_then_invoke": "every later invoke() raises TypeError",
    "profile_bad_clock_wrong_arity_then_invoke": "every later invoke() raises TypeError",
    "predict_out_array": "new API: predict() takes no out=",
    "keep_inputs_keeps_inputs": "new API: Model() takes no keep_inputs=",
}


def scenario_script(body):
    return (PRELUDE % {"nslot": NSLOT, "names": list(MODEL_FILES)} + body
            + "\ncheck_sentinels(-1)\nprint('DONE', FAILED[0])\n")


# (Against the pre-hardening module, TINYML_FUZZ_API_MODULE=old.mpy, the scenarios named in
# FAILS_WITH_MODTINYML_34d31f6 fail: that is how they were shown to catch the old crashes.)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_api_scenario(name):
    script = scenario_script(SCENARIOS[name])
    for heap in ("256k", "4M"):
        rc, out, err = run_script(script, heap)
        why = verdict(script, rc, out, err)
        assert why is None, f"heap {heap}: {why}\n{err[-2000:]}"


SEED = int(os.environ.get("TINYML_FUZZ_API_SEED", "1000"))
BATCHES = int(os.environ.get("TINYML_FUZZ_API_BATCHES", "120"))


def test_api_fuzz_quick():
    """BATCHES random call sequences of 150 steps, seeds SEED.. (fixed, so a failure repeats), without the
    kinds in fuzz_api.known_failing()."""
    failures = []
    for s in range(SEED, SEED + BATCHES):
        why, script, heap = fuzz_api.run_batch(s, 150, avoid=fuzz_api.known_failing())
        if why:
            failures.append(f"seed {s} (heap {heap}): {why}")
    assert not failures, (f"{len(failures)} of {BATCHES} batches failed (repeat one: python -c 'import fuzz_api; "
                          f"print(fuzz_api.generate(SEED)[0])' in tests/):\n" + "\n".join(failures[:10]))
