"""A fuzzer for the Python-facing API: random sequences of calls on tinyml.Model objects, run inside the real
MicroPython unix port with a small heap (-X heapsize) so that MemoryError paths run too.

The host generates each batch's script from a seed (`generate(seed)`), so any failure is repeatable from its
seed alone. The script itself checks what it can (see PRELUDE): it prints `F <step> <reason>` when

- a valid call (right input length, valid index, working clock) raises anything but MemoryError;
- after any exception a model gives a different output than a fresh model of the same bytes on the same input
  (`check`), or a valid predict() differs from a fresh model's;
- a sentinel bytearray allocated after a model died changes: a write through a view of a collected model
  landed in memory the heap had handed out again (a use after free that would not crash by itself);

and the host fails the batch when MicroPython dies from a signal (segfault, abort), exits with an error, or
never reaches the end.

Kinds of step that crash or misbehave with the module under test can be listed in KNOWN_FAILING:
`generate(..., avoid=known_failing())` leaves them out (the quick run in `make test`), `make fuzz TARGET=api`
includes them. The kinds that failed before the device-API rework (6d70c45) are in FAILING_BEFORE_6d70c45.

predict() is called both as predict(x) and as predict(x, out=buf) (the new signature, returning array('f')):
a TypeError about the keyword is accepted, so the fuzzer works with the old and the new module."""

import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from refmodels import MODELS  # noqa: E402 (the one definition, also conftest's; tests/ is on sys.path)
MODEL_FILES = ("hello_world.tflite", "micro_speech.tflite")
HEAPS = ("192k", "256k", "384k", "1M", "4M")
NSLOT = 6

# Kinds of step that crashed or broke the model with modtinyml.c up to 34d31f6, fixed by 6d70c45 (the device-API
# rework: private copies of mutable buffers, views that keep the arena alive, profile() that restores its
# state). Left out of the random run only when TINYML_FUZZ_API_MODULE names an older module to examine.
FAILING_BEFORE_6d70c45 = {
    "mutate": "mutating or resizing the bytearray a model was loaded from, then invoking: the model reads "
              "its shapes and weights in place (segfault, or a changed result)",
    "stale_view": "writing through m.input()/m.output() after the model was collected: the view does not "
                  "keep the model alive (heap corruption, segfault)",
    "bad_clock": "profile() with a clock that raises or returns a non-int: the clock stays installed, every "
                 "later invoke() fails (and can segfault)",
}
# Kinds that fail with the current module: none. Add a kind here (with why) to keep a known bug out of the
# quick run in `make test` until it is fixed; `make fuzz TARGET=api` still generates it.
KNOWN_FAILING = {}


def known_failing():
    return FAILING_BEFORE_6d70c45 if os.environ.get("TINYML_FUZZ_API_MODULE") else KNOWN_FAILING


PRELUDE = r'''
import tinyml, gc, array, sys
try:
    import time
    ticks = time.ticks_us
except Exception:
    ticks = None
NSLOT = %(nslot)d
NAMES = %(names)r
SRC0 = {}
for _nm in NAMES:
    SRC0[_nm] = open(_nm, 'rb').read()
M = [None] * NSLOT
NM = [None] * NSLOT
SRC = [None] * NSLOT
TAINT = [False] * NSLOT
V = []
SENT = []
HOG = []
REF = {}
REFP = {}
PX = {}
FAILED = [0]
NOOUT = object()

def fail(n, msg):
    FAILED[0] += 1
    print('F', n, msg)

def setup_refs():
    for nm in NAMES:
        m = tinyml.Model(SRC0[nm])
        nb = len(bytes(m.input(0)))
        pat = bytearray(nb)
        for i in range(nb):
            pat[i] = (i * 37 + 11) & 255
        pat = bytes(pat)
        m.set_input(0, pat)
        m.invoke()
        REF[nm] = (pat, bytes(m.output(0)))
        nv = len(m.input(0))
        vals = [(v - 5) * 0.25 for v in range(11)]  # shared float objects: a small heap holds the list
        PX[nm] = [vals[(i * 7) %% 11] for i in range(nv)]
        gc.collect()
        REFP[nm] = list(m.predict(PX[nm]))
        del m
    gc.collect()

def check(n, k):
    # The model still works: same output as a fresh model on the same input.
    m = M[k]
    if m is None:
        return
    nm = NM[k]
    try:
        m.set_input(0, REF[nm][0])
        m.invoke()
        got = bytes(m.output(0))
    except MemoryError:
        return
    except Exception as e:
        if not TAINT[k]:
            fail(n, 'model %%d unusable after an exception: %%s: %%s' %% (k, type(e).__name__, e))
        return
    if got != REF[nm][1] and not TAINT[k]:
        fail(n, 'model %%d output differs from a fresh model' %% k)

def check_all(n):
    for k in range(NSLOT):
        check(n, k)

def sentinel(size, byte):
    # A bytearray with a known content and its copy; False when the heap is full.
    try:
        b = bytearray(bytes([byte]) * size)
        SENT.append((b, bytes(b)))
        return True
    except MemoryError:
        return False

def check_sentinels(n):
    for b, ref in SENT:
        if b != ref:
            fail(n, 'heap corruption: a sentinel changed (write through a view of a freed model?)')
            SENT.clear()
            return

def hog(total):
    got = 0
    try:
        while got < total:
            HOG.append(bytearray(min(4096, total - got)))
            got += 4096
    except MemoryError:
        pass

def unhog():
    HOG.clear()
    gc.collect()

def make_buf(nm, how, junk):
    d = SRC0[nm]
    if how == 'bytes':
        return bytes(d)
    if how == 'bytearray':
        return bytearray(d)
    if how == 'memoryview':
        return memoryview(d)
    if how == 'mv_bytearray':
        return memoryview(bytearray(d))
    if how == 'array_B':
        return array.array('B', d)
    if how == 'array_b':
        a = array.array('b', bytes(len(d)))
        memoryview(a)[:] = memoryview(bytearray(d))
        return a
    if how == 'array_i':
        a = array.array('i', bytes(4 * ((len(d) + 3) // 4)))
        return a
    if how == 'unaligned':
        return memoryview(bytearray(b'\0' + d))[1:]
    if how == 'truncated':
        return d[:junk %% (len(d) + 1)]
    if how == 'flipped':
        b = bytearray(d)
        r = junk
        for _ in range(1 + junk %% 4):
            r = (r * 1103515245 + 12345) & 0x7fffffff
            b[r %% len(b)] = (r >> 8) & 255
        return b
    if how == 'junk':
        r = junk
        b = bytearray(junk %% 600)
        for i in range(len(b)):
            r = (r * 1103515245 + 12345) & 0x7fffffff
            b[i] = (r >> 16) & 255
        if len(b) >= 8 and junk & 1:
            b[4:8] = b'TFL3'
        return b
    if how == 'empty':
        return b''
    if how == 'str':
        return 'TFL3' * 8
    if how == 'int':
        return 12345
    if how == 'none':
        return None
    if how == 'list':
        return list(d[:64])
    raise ValueError(how)

def load(n, k, nm, how, junk, kw):
    M[k] = None
    NM[k] = nm
    TAINT[k] = False
    SRC[k] = None
    b = make_buf(nm, how, junk)
    SRC[k] = b
    if kw == 1:
        try:
            M[k] = tinyml.Model(b, keep_inputs=True)
        except TypeError:
            M[k] = tinyml.Model(b)
    elif kw == 2:
        M[k] = tinyml.Model(b, b)
    else:
        M[k] = tinyml.Model(b)
    if how in ('flipped', 'truncated', 'junk', 'array_i'):
        TAINT[k] = True  # a damaged model may load and give any result; it must only not crash

def mutate(k, mode, pos, val):
    b = SRC[k]
    TAINT[k] = True
    if mode == 0:
        b[pos %% len(b)] = val
    elif mode == 1:
        p = pos %% len(b)
        b[p:p + 64] = bytes(len(b[p:p + 64]))
    elif mode == 2:
        b.extend(bytes(4096))  # the buffer moves
        gc.collect()
    elif mode == 3:
        for i in range(0, len(b), 3):
            b[i] = 255
    elif mode == 4:
        b[:] = bytes(len(b))  # zero everything

def pred(n, k, x, out, valid):
    m = M[k]
    nm = NM[k]
    r = None
    if out is NOOUT:
        r = m.predict(x)
    else:
        try:
            r = m.predict(x, out=out)
        except TypeError as e:
            if 'keyword' not in str(e) and 'argument' not in str(e):
                raise
            if valid:
                r = m.predict(x)
            else:
                raise
    if valid and not TAINT[k]:
        got = list(r)
        if got != REFP[nm]:
            fail(n, 'predict() differs from a fresh model: %%r... vs %%r...' %% (got[:3], REFP[nm][:3]))
        if out is not NOOUT and out is not None and r is out and list(out) != got:
            fail(n, 'predict(out=) result and out differ')
    return r

def raiser():
    raise OSError(5)

def clock_gc():
    gc.collect()
    bytearray(100)
    return 7

def run(n, k, fn, valid=False, stale=False):
    print('S', n)
    try:
        fn()
    except MemoryError:
        gc.collect()
        if k is not None:
            check(n, k)
    except Exception as e:
        print('E', n, type(e).__name__)
        if valid and (k is None or M[k] is not None and not TAINT[k]):
            fail(n, 'a valid call raised %%s: %%s' %% (type(e).__name__, e))
        if k is not None:
            check(n, k)
    check_sentinels(n)

try:
    setup_refs()
except MemoryError:
    print('DONE heap too small for the references')
    sys.exit(0)
'''

TYPECODES = "bBhHiIlLqQfd"


class Gen:
    """Host-side state of a batch: which slots hold a model (as far as the host can tell), the views and
    which model generation they belong to, so that `avoid` can leave out the known-failing kinds."""

    def __init__(self, rng, avoid):
        self.rng = rng
        self.avoid = set(avoid)
        self.gen = [0] * NSLOT
        self.views = []  # (slot, generation)
        self.lines = []
        self.n = 0
        self.mutable = [False] * NSLOT
        self.live = [False] * NSLOT  # a good load went into the slot (the host's best guess)

    def slot(self):
        """Mostly a slot that holds a model, sometimes any (None: AttributeError, also a path)."""
        live = [k for k in range(NSLOT) if self.live[k]]
        if live and self.rng.random() < 0.9:
            return self.rng.choice(live)
        return self.rng.randrange(NSLOT)

    def step(self, k, body, valid=False, kind="misc"):
        self.n += 1
        # One name for every step's function: the globals dict must not grow (it could not, with the heap hogged).
        self.lines.append("def step():\n" + "".join(f"    {l}\n" for l in body.splitlines()))
        self.lines.append(f"run({self.n}, {k!r}, step, {valid})  # {kind}\n")

    def kill(self, k):
        self.gen[k] += 1
        self.mutable[k] = False
        self.live[k] = False

    # --- step kinds ---------------------------------------------------------------------------------
    def s_load(self):
        r = self.rng
        k = r.randrange(NSLOT)
        nm = r.choice(MODEL_FILES)
        good = ["bytes", "bytearray", "memoryview", "mv_bytearray", "array_B", "array_b"]
        bad = ["unaligned", "truncated", "flipped", "junk", "empty", "str", "int", "none", "list", "array_i"]
        how = r.choice(good) if r.random() < 0.7 else r.choice(bad)
        kw = r.choice([0, 0, 0, 0, 0, 1, 1, 2])
        self.kill(k)
        self.mutable[k] = how in ("bytearray", "mv_bytearray", "array_B", "array_b", "flipped")
        self.live[k] = how in good and kw != 2
        self.step(k, f"load({self.n + 1}, {k}, {nm!r}, {how!r}, {r.randrange(1 << 30)}, {kw})",
                  kind=f"load {how}")

    def s_mutate(self):
        if "mutate" in self.avoid:
            return
        r = self.rng
        k = self.slot()
        if not self.mutable[k]:
            return
        self.step(k, f"mutate({k}, {r.randrange(5)}, {r.randrange(1 << 20)}, {r.randrange(256)})\n"
                     f"M[{k}].invoke()", kind="mutate")

    def s_drop_src(self):
        k = self.slot()
        self.step(k, f"SRC[{k}] = None\ngc.collect()\nsentinel({self.rng.choice([64, 600, 4096])}, 0x5a)",
                  kind="drop source")

    def s_del(self):
        r = self.rng
        k = r.randrange(NSLOT)
        self.kill(k)
        body = f"M[{k}] = None"
        if r.random() < 0.7:
            body += "\ngc.collect()"
            for _ in range(r.randrange(1, 4)):
                body += f"\nsentinel({r.choice([16, 64, 256, 640, 1960, 4000, 8000])}, {r.randrange(256)})"
        self.step(None, body, kind="del model")

    def s_invoke(self):
        k = self.slot()
        self.step(k, f"M[{k}].invoke()", kind="invoke")

    def s_check(self):
        self.step(None, f"check_all({self.n + 1})", kind="check all")

    def s_gc(self):
        self.step(None, "gc.collect()", kind="gc")

    def s_predict(self):
        r = self.rng
        k = self.slot()
        N = f"len(M[{k}].input(0))"
        choices = [
            (f"PX[NM[{k}]]", True), (f"tuple(PX[NM[{k}]])", True), (f"[0.5] * {N}", False),
            (f"array.array({r.choice(TYPECODES)!r}, [1] * {N})", False), (f"bytearray({N})", False),
            (f"bytes({N})", False), (f"memoryview(bytearray({N}))", False),
            (f"array.array('f', PX[NM[{k}]])", False), (f"[0.1] * ({N} + 1)", False),
            (f"[0.1] * ({N} - 1)", False), ("[]", False), (f"[[0.1]] * {N}", False), ("None", False),
            (f"'a' * {N}", False), (f"[None] * {N}", False), (f"['x'] * {N}", False),
            (f"[10 ** 30] * {N}", False), (f"[-(2 ** 63)] * {N}", False), (f"[float('nan')] * {N}", False),
            (f"[float('inf')] * {N}", False), (f"[-1e38] * {N}", False), (f"range({N})", False), ("{}", False),
            (f"(x for x in [0.0] * {N})", False), ("12", False), (f"[True] * {N}", False),
        ]
        x, valid = r.choice(choices)
        NO = f"len(M[{k}].output(0))"
        out = r.choice(["NOOUT", "NOOUT", "NOOUT", "None", f"array.array('f', [0] * {NO})",
                        f"array.array('f', [0] * ({NO} + 1))", "array.array('f')", f"bytearray(4 * {NO})",
                        f"[0.0] * {NO}", "'out'", f"array.array('d', [0] * {NO})", f"array.array('b', [0] * {NO})"])
        if out not in ("NOOUT", "None", f"array.array('f', [0] * {NO})"):
            valid = False
        self.step(k, f"pred({self.n + 1}, {k}, {x}, {out}, {valid})", valid=False, kind="predict")

    def s_set_input(self):
        r = self.rng
        k = self.slot()
        i = r.choice(["0", "0", "0", "1", "-1", "2 ** 31", "2 ** 70", "'a'", "None", "0.0"])
        buf = r.choice(["REF[NM[%d]][0]" % k, "REF[NM[%d]][0]" % k, "REF[NM[%d]][0][1:]" % k,
                        "REF[NM[%d]][0] + b'x'" % k, "b''", "'abc'", "None", "12",
                        "bytearray(REF[NM[%d]][0])" % k, "memoryview(REF[NM[%d]][0])" % k,
                        "array.array('b', REF[NM[%d]][0])" % k, "array.array('h', [0] * len(REF[NM[%d]][0]))" % k])
        valid = i == "0" and buf in ("REF[NM[%d]][0]" % k, "bytearray(REF[NM[%d]][0])" % k,
                                     "memoryview(REF[NM[%d]][0])" % k, "array.array('b', REF[NM[%d]][0])" % k)
        self.step(k, f"M[{k}].set_input({i}, {buf})", valid=valid, kind="set_input")

    def s_view(self):
        r = self.rng
        k = self.slot()
        which = r.choice(["input", "output"])
        i = r.choice(["", "", "0", "1", "-1", "2 ** 40", "'x'", "None"])
        self.views.append((k, self.gen[k]))
        # Always one entry per view step (None when the call raises), so host and script agree on indexes.
        self.step(k, f"V.append(None)\nV[-1] = M[{k}].{which}({i})", kind="view")

    def s_view_write(self):
        r = self.rng
        if not self.views:
            return
        j = r.randrange(len(self.views))
        slot, g = self.views[j]
        stale = self.gen[slot] != g
        if stale and "stale_view" in self.avoid:
            return
        idx = r.choice(["0", "len(V[j]) - 1", "len(V[j])", "-1", "2 ** 31", "-(2 ** 40)"])
        val = r.choice(["0", "127", "-128", "128", "1000", "1.5", "'x'", "None", "-7"])
        if r.random() < 0.3:
            body = "V[j][:] = bytes(len(bytes(V[j])))"
        elif r.random() < 0.2:
            body = "x = bytes(V[j])"
        else:
            body = f"V[j][{idx}] = {val}"
        self.step(None, f"j = {j}\n{body}",
                  kind="stale view write" if stale else "view write")

    def s_profile(self):
        r = self.rng
        k = self.slot()
        good = ["", "ticks", "lambda: -1", "lambda: 2 ** 80", "clock_gc"]
        bad = ["123", "raiser", "lambda: 1.5", "'clock'", "None", "lambda x: 0"]
        pool = good if "bad_clock" in self.avoid else good + bad
        clock = r.choice(pool)
        self.step(k, f"p = M[{k}].profile({clock})\nif p is not None and len(p) < 1:\n    fail({self.n + 1}, 'empty profile')",
                  kind="profile bad clock" if clock in bad else "profile")

    def s_attrs(self):
        k = self.slot()
        self.step(k, f"m = M[{k}]\nx = (repr(m), m.inputs, m.outputs, m.arena_bytes, m.model_bytes, tinyml.ops())",
                  kind="attrs")

    def s_hog(self):
        r = self.rng
        if r.random() < 0.5:
            self.step(None, f"hog({r.choice([16384, 65536, 1 << 20, 1 << 24])})", kind="hog")
        else:
            self.step(None, "unhog()", kind="unhog")

    def s_unbound(self):
        r = self.rng
        meth = r.choice(["invoke", "input", "output", "predict", "profile", "set_input"])
        if "unbound" in self.avoid:
            return
        arg = r.choice(["5", "None", "b'abc'", "[]"])
        self.step(None, f"tinyml.Model.{meth}({arg})", kind="unbound")


WEIGHTS = {"s_load": 10, "s_mutate": 2, "s_drop_src": 2, "s_del": 4, "s_invoke": 8, "s_check": 2, "s_gc": 3,
           "s_predict": 14, "s_set_input": 6, "s_view": 5, "s_view_write": 6, "s_profile": 4, "s_attrs": 3,
           "s_hog": 3, "s_unbound": 1}


def generate(seed, steps=120, avoid=()):
    """The MicroPython script of one batch, and the heap size to run it with."""
    rng = random.Random(seed)
    g = Gen(rng, avoid)
    for k in range(NSLOT):  # start with a few good models
        if rng.random() < 0.6:
            g.step(k, f"load(0, {k}, {rng.choice(MODEL_FILES)!r}, {rng.choice(['bytes', 'bytearray'])!r}, 0, 0)",
                   kind="load")
            g.mutable[k] = g.live[k] = True
    kinds, weights = zip(*WEIGHTS.items())
    while g.n < steps:
        getattr(g, rng.choices(kinds, weights)[0])()
    g.step(None, "unhog()\ncheck_all(-1)", kind="final check")
    script = PRELUDE % {"nslot": NSLOT, "names": list(MODEL_FILES)} + "".join(g.lines) + \
        "check_sentinels(-1)\nprint('DONE', FAILED[0])\n"
    return script, rng.choice(HEAPS)


_MODULE = None


def module_bytes():
    """The x64 module built from this tree, or the .mpy named by TINYML_FUZZ_API_MODULE (e.g. one built
    from an older commit, to see which scenarios it fails)."""
    global _MODULE
    if _MODULE is None:
        override = os.environ.get("TINYML_FUZZ_API_MODULE")
        if override:
            _MODULE = Path(override).read_bytes()
        else:
            from tinyml.build import build_module
            _MODULE = build_module("x64").read_bytes()
    return _MODULE


def run_script(script, heap="256k", timeout=120):
    """(returncode, stdout, stderr) of the script in MicroPython with the module and the models next to it."""
    from tinyml.paths import venv_tool
    with tempfile.TemporaryDirectory(prefix="tinyml-fuzzapi-") as tmp:
        work = Path(tmp)
        (work / "tinyml.mpy").write_bytes(module_bytes())
        for nm in MODEL_FILES:
            (work / nm).write_bytes((MODELS / nm).read_bytes())
        (work / "main.py").write_text(script)
        try:
            proc = subprocess.run([venv_tool("micropython"), "-X", f"heapsize={heap}", "main.py"], cwd=work,
                                  capture_output=True, text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "", f"timeout after {timeout} s"
        return proc.returncode, proc.stdout, proc.stderr


def verdict(script, rc, out, err):
    """None when the batch passed, else a one-paragraph description: how it failed and at which step."""
    lines = out.splitlines()
    fails = [l for l in lines if l.startswith("F ")]
    done = any(l.startswith("DONE") for l in lines)
    if rc == 0 and done and not fails:
        return None
    steps = [l for l in lines if l.startswith("S ")]
    last = int(steps[-1].split()[1]) if steps else 0
    if rc is None:
        how = err
    elif rc < 0:
        how = f"MicroPython died from signal {-rc}"
    elif fails:
        how = "checks failed: " + "; ".join(fails[:3])
    elif rc != 0:
        how = f"MicroPython exited with {rc}: {(err.strip().splitlines() or ['?'])[-1]}"
    else:
        how = "the script did not reach its end"
    at = int(fails[0].split()[1]) if fails and fails[0].split()[1].lstrip("-").isdigit() else last
    return f"{how} (at step {at}: {step_kind(script, at)})"


def step_kind(script, n):
    tag = f"run({n}, "
    for l in script.splitlines():
        if l.startswith(tag):
            return l.split("# ", 1)[-1]
    return "?"


def run_batch(seed, steps=120, avoid=()):
    script, heap = generate(seed, steps, avoid)
    rc, out, err = run_script(script, heap)
    return verdict(script, rc, out, err), script, heap


def campaign(seed, seconds, log=print, avoid=(), steps=150, out_dir=None):
    """Batches with seeds seed, seed+1, ... until `seconds` elapse; failing scripts saved to out_dir.
    Returns the list of (batch seed, failure)."""
    from tinyml.paths import BUILD
    out_dir = Path(out_dir or BUILD / "fuzz-api")
    out_dir.mkdir(parents=True, exist_ok=True)
    start, batches, failures, last_log = time.time(), 0, [], 0.0
    kinds = {}
    while time.time() - start < seconds:
        s = seed + batches
        why, script, heap = run_batch(s, steps, avoid)
        batches += 1
        if why:
            failures.append((s, why))
            path = out_dir / f"fail-{s}.py"
            path.write_text(script)
            what = "signal" if "signal" in why else "timeout" if "timeout" in why else "check/exit"
            kind = f"{what} at a {why.rsplit(': ', 1)[-1].rstrip(')')} step"
            kinds[kind] = kinds.get(kind, 0) + 1
            log(f"fuzz api: batch seed {s} (heap {heap}) FAILED: {why}; script {path}")
        if time.time() - last_log > 30:
            last_log = time.time()
            log(f"fuzz api: {batches} batches, {len(failures)} failing")
    log(f"fuzz api: {batches} batches of {steps} steps in {time.time() - start:.0f} s, {len(failures)} failing")
    for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
        log(f"fuzz api:   {count:4d} x {kind}")
    return failures
