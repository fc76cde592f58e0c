"""No illegal instruction on any chip that loads xtensawin modules (issue 12): the ESP32 (LX6: MAC16, zero-overhead
loops, FPU), the ESP32-S3 (LX7: the same options) and the ESP32-S2 (LX7: none of them). docs/architecture.md,
"Xtensa: one arch, three cores".

Both cases the issue asks for:
- per-chip builds: tinyml.build.XTENSA_CHIPS gives the ESP32 and ESP32-S3 the MAC16 kernels and the ESP32-S2 a
  soft-float build with the portable kernels (tools/xtensa/xtensa-esp32-elf-gcc -mcpu=esp32s2); `tinyml pack
  --board` and `tinyml deploy` pick it. A static audit disassembles each build's objects (the code mpy_ld.py
  links) for the instructions its chip lacks; the S2 build runs bit-exact on QEMU's de233_fpu core (it executes
  no FPU or MAC16 instruction there, which the audit proves), and its soft-float predict() equals the FPU build's
  bit for bit.
- the import check: a build for the ESP32's FPU refuses an ESP32-S2 at import (modtinyml.c reads
  sys.implementation._machine), before any of its own code runs; here a `sys` with an ESP32-S2's _machine is put
  in sys.modules, which the module's `import sys` finds first.
Not covered: a real ESP32-S2 (no emulator of its core here) and QEMU cores without an FPU (the port's firmware is
built for de233_fpu).
"""

import ctypes
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import TinymlError, oracle, runner  # noqa: E402
from tinyml.build import XTENSA_CHIPS, model_module, module_chips  # noqa: E402
from tinyml.deploy import chip_of_machine, dist_chip_problem, pack_chip_problem  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.pack import pack_target  # noqa: E402
from conftest import MODELS, qemu_xtensa_target  # noqa: E402

RUNTIME = REPO / "native_modules" / "runtime"
KWS = MODELS / "kws_ref_model.tflite"
S2_MACHINE = "Generic ESP32S2 module with ESP32S2"       # mp:ports/esp32/boards/ESP32_GENERIC_S2/mpconfigboard.h

# What each option adds to the ISA, as llvm-objdump-22 --mcpu=esp32 prints it.
MAC16 = re.compile(r"^(u?mul[as]?\.[ad][ad](\.[lh][lh])?(\.ld(inc|dec))?|ld(inc|dec))$")
LOOPS = re.compile(r"^loop(nez|gtz)?$")
FPU = re.compile(r"^([a-z0-9]+\.s|[ls]si(u)?|[ls]sx(u)?|wfr|rfr)$")
BOOLEANS = re.compile(r"^(bt|bf|movt|movf|andbc?|orbc?|xorb|any[48]|all[48])$")
DOUBLE = re.compile(r"^[a-z0-9]+\.d$")
OPTION_REGISTERS = re.compile(r"^(rsr|wsr|xsr|rur|wur)\.?\s*.*\b(acclo|acchi|m[0-3]|lbeg|lend|lcount|fcr|fsr|br)\b")


def _build(chip):
    return model_module("xtensawin", read_model(KWS), chip=chip)


@pytest.fixture(scope="module")
def s2_module():
    return _build("esp32s2")


@pytest.fixture(scope="module")
def esp32_module():
    # The same build as tests/test_qemu_xtensa.py's xtensa_mac16 one (one build directory, one cache).
    return _build("esp32")


LINE = re.compile(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*\t(\S+)(?:\t(.*))?$")
SYMBOL = re.compile(r"^([0-9a-f]+) <")


def _disassemble(objdump, obj, start=None, stop=None):
    """[(mnemonic, operands)] of an object's .text. llvm-objdump's linear sweep loses step on the padding that
    aligns a zero-overhead loop's body (kernels/xtensa/: `j` over 1-3 bytes, then `loopnez`): where it meets bytes
    it cannot decode inside a function right after such a `j`, the sweep restarts at the jump's target (starting
    anywhere else can crash llvm-objdump 22). Undecodable bytes anywhere else stay "<unknown>" (the audit
    refuses them); those before the next function are its alignment padding."""
    cmd = [objdump, "-d", "-j", ".text", "--mcpu=esp32", str(obj)]
    if start is not None:
        cmd += [f"--start-address={start}", f"--stop-address={stop}"]
    lines = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    symbols = sorted(int(m.group(1), 16) for m in map(SYMBOL.match, lines) if m)
    insns = []
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        addr, size, mnemonic, operands = int(m.group(1), 16), len(m.group(2).split()), m.group(3), m.group(4) or ""
        if mnemonic != "<unknown>":
            insns.append((mnemonic, operands))
            hop = re.fullmatch(r"0x([0-9a-f]+)", operands.strip()) if mnemonic == "j" else None
            target = int(hop.group(1), 16) if hop else None
            if target is not None and addr + size < target <= addr + size + 4:
                # A jump over a loop body's alignment padding (1-3 bytes and a filler byte): the padding may
                # decode as an instruction that swallows the loop's first bytes without any "<unknown>", so the
                # sweep restarts at the target, and after this function at the next one.
                following = [a for a in symbols if a > target] + ([stop] if stop is not None else [])
                end = min(following) if following else None
                rest = _disassemble(objdump, obj, target, end if end is not None else target + 0x100000)
                after = _disassemble(objdump, obj, end, stop if stop is not None else end + 0x100000) \
                    if end is not None and end != stop else []
                return insns + rest + after
            continue
        following = [a for a in symbols if a > addr] + ([stop] if stop is not None else [])
        end = min(following) if following else None
        if end is not None and addr + size >= end:
            continue            # padding before the next function, where llvm-objdump restarts by itself
        jump = re.fullmatch(r"0x([0-9a-f]+)", insns[-1][1].strip()) if insns and insns[-1][0] == "j" else None
        target = int(jump.group(1), 16) if jump else None
        if target is None or not addr <= target < addr + 8:
            insns.append((mnemonic, operands))
            continue
        return insns + _disassemble(objdump, obj, target, end if end is not None else target + 0x100000)
    return insns


def _mnemonics(module_path):
    """{mnemonic: count} over the .text of every object the module was linked from (the code mpy_ld.py puts in
    the .mpy); rsr/wsr/xsr/rur/wur come with their operands ("rsr a2, acclo")."""
    objdump = shutil.which("llvm-objdump-22")
    assert objdump, "llvm-objdump-22 not found: run make setup"
    objects = sorted((Path(module_path).parent / "obj").rglob("*.o"))
    assert objects, module_path
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=4) as pool:
        listings = list(pool.map(lambda obj: _disassemble(objdump, obj), objects))
    counts = {}
    for listing in listings:
        for mnemonic, operands in listing:
            key = f"{mnemonic} {operands}" if mnemonic in ("rsr", "wsr", "xsr", "rur", "wur") else mnemonic
            counts[key] = counts.get(key, 0) + 1
    return counts


def _matching(counts, pattern):
    return {m: n for m, n in counts.items() if pattern.match(m.split(" ")[0]) or
            (pattern is OPTION_REGISTERS and pattern.match(m))}


def test_chip_builds_use_only_their_cores_instructions(s2_module, esp32_module):
    """The ESP32-S2's build has no MAC16, zero-overhead loop, FPU, boolean or double-precision instruction (nor a
    read of their registers); the ESP32's build has the MAC16 kernels' mula...ldinc and loops and the FPU's
    instructions, and no double-precision accelerator's, which the ESP32-S3 lacks (it shares this build)."""
    s2, esp32 = _mnemonics(s2_module), _mnemonics(esp32_module)
    for name, pattern in (("MAC16", MAC16), ("loop", LOOPS), ("FPU", FPU), ("boolean", BOOLEANS),
                          ("double", DOUBLE), ("option register", OPTION_REGISTERS)):
        assert not _matching(s2, pattern), (name, _matching(s2, pattern))
    assert "s32c1i" not in s2 and "<unknown>" not in s2
    # Where the ESP32's build needs them, it has them (so the audit's patterns match what the disassembler prints).
    assert sum(_matching(esp32, MAC16).values()) > 20, esp32
    assert any(m.endswith(".ldinc") for m in esp32) and _matching(esp32, LOOPS), esp32
    assert _matching(esp32, FPU), esp32
    assert not _matching(esp32, DOUBLE)
    # The S2's build carries the soft-float helpers the compiler called instead, the ESP32's none of them.
    assert module_chips(s2_module.read_bytes()) == ("esp32s2", "esp32", "esp32s3")
    assert module_chips(esp32_module.read_bytes()) == ("esp32", "esp32s3")


def test_driver_refuses_missing_options_for_the_s2(tmp_path):
    """Hand-written assembly cannot slip a MAC16, loop or FPU instruction into an ESP32-S2 build: the driver's
    -mcpu=esp32s2 makes llvm-mc refuse them, and an unknown chip is named."""
    src = tmp_path / "k.S"
    src.write_text("\t.text\nf:\n\tmula.dd.ll m0, m2\n\tloopnez a3, 1f\n\tnop\n1:\n\tadd.s f0, f1, f2\n")
    driver = str(REPO / "tools" / "xtensa" / "xtensa-esp32-elf-gcc")
    ok = subprocess.run([driver, "-mcpu=esp32", "-c", str(src), "-o", str(tmp_path / "a.o")], capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([driver, "-mcpu=esp32s2", "-c", str(src), "-o", str(tmp_path / "b.o")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stderr.count("error:") == 3, bad.stderr
    unknown = subprocess.run([driver, "-mcpu=esp32c3", "-c", str(src), "-o", str(tmp_path / "c.o")],
                             capture_output=True, text=True)
    assert "unknown -mcpu=esp32c3: choose one of esp32, esp32s3, esp32s2" in unknown.stderr


# ---- the soft-float helpers against the host's FPU ---------------------------------------------------------

HARNESS_C = r"""
#include <stdint.h>
uint32_t __addsf3(uint32_t, uint32_t); uint32_t __subsf3(uint32_t, uint32_t); uint32_t __mulsf3(uint32_t, uint32_t);
float __divsf3(float, float);   /* xtensawin.c: float-typed (the same registers as uint32_t on Xtensa) */
uint32_t __negsf2(uint32_t);
static uint32_t div_bits(uint32_t a, uint32_t b) {
    union { float f; uint32_t u; } x = { .u = a }, y = { .u = b }, r;
    r.f = __divsf3(x.f, y.f);
    return r.u;
}
int __eqsf2(uint32_t, uint32_t); int __nesf2(uint32_t, uint32_t); int __ltsf2(uint32_t, uint32_t);
int __lesf2(uint32_t, uint32_t); int __gtsf2(uint32_t, uint32_t); int __gesf2(uint32_t, uint32_t);
int __unordsf2(uint32_t, uint32_t);
uint32_t __floatsisf(int32_t); uint32_t __floatunsisf(uint32_t); int32_t __fixsfsi(uint32_t);
uint32_t __fixunssfsi(uint32_t);
void run(int n, const uint32_t *a, const uint32_t *b, uint32_t *out) {   /* 17 results per pair */
    for (int i = 0; i < n; i++) {
        uint32_t *o = out + 17 * i;
        o[0] = __addsf3(a[i], b[i]); o[1] = __subsf3(a[i], b[i]); o[2] = __mulsf3(a[i], b[i]);
        o[3] = div_bits(a[i], b[i]); o[4] = __negsf2(a[i]);
        o[5] = __eqsf2(a[i], b[i]); o[6] = __nesf2(a[i], b[i]); o[7] = __ltsf2(a[i], b[i]);
        o[8] = __lesf2(a[i], b[i]); o[9] = __gtsf2(a[i], b[i]); o[10] = __gesf2(a[i], b[i]);
        o[11] = __unordsf2(a[i], b[i]);
        o[12] = __floatsisf((int32_t)a[i]); o[13] = __floatunsisf(a[i]); o[14] = __fixsfsi(a[i]);
        o[15] = __fixunssfsi(a[i]); o[16] = 0;
    }
}
"""


def test_softfloat_helpers_equal_the_host_fpu(tmp_path):
    """native_modules/runtime/xtensa_softfloat.c (and xtensawin.c's __divsf3), compiled for the host: IEEE results
    bit for bit (any NaN result is the default NaN), libgcc's comparison contract (unordered: __lt/__le return
    > 0, __gt/__ge < 0, so every C comparison with a NaN is false), conversions as C casts, on specials (zeros,
    subnormals, infinities, NaN, the int32 limits) crossed with each other and 200,000 random pairs."""
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "no host C compiler: run make setup"
    (tmp_path / "harness.c").write_text(HARNESS_C)
    lib = tmp_path / "libsf.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-I", str(RUNTIME), "-o", str(lib), str(tmp_path / "harness.c"),
                    str(RUNTIME / "xtensa_softfloat.c"), str(RUNTIME / "xtensawin.c")], check=True)
    specials = np.array([0, 0x80000000, 1, 0x80000001, 0x007fffff, 0x00800000, 0x3f800000, 0xbf800000, 0x3f000000,
                         0x4effffff, 0x4f000000, 0xcf000000, 0x4f800000, 0x7f7fffff, 0xff7fffff, 0x7f800000,
                         0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x33800000, 0x4b000001], dtype=np.uint32)
    rng = np.random.default_rng(12)
    rand = rng.integers(0, 2**32, size=(2, 200_000), dtype=np.uint64).astype(np.uint32)
    # Values of like magnitude too: sums that cancel and products near 1.
    near = rng.normal(0, 100, size=(2, 50_000)).astype(np.float32).view(np.uint32)
    a = np.concatenate([np.repeat(specials, len(specials)), rand[0], near[0]])
    b = np.concatenate([np.tile(specials, len(specials)), rand[1], near[1]])
    out = np.zeros((len(a), 17), dtype=np.uint32)
    u32p = ctypes.POINTER(ctypes.c_uint32)
    ctypes.CDLL(str(lib)).run(len(a), a.ctypes.data_as(u32p), b.ctypes.data_as(u32p), out.ctypes.data_as(u32p))
    fa, fb = a.view(np.float32), b.view(np.float32)

    def same(got, want, what):
        want = want.astype(np.float32).view(np.uint32)
        nan = np.isnan(want.view(np.float32))
        assert np.all(got[nan] == 0x7fc00000), what
        bad = np.flatnonzero((got != want) & ~nan)
        assert bad.size == 0, "%s: %d wrong, first a=%08x b=%08x got %08x want %08x" % (
            what, bad.size, a[bad[0]], b[bad[0]], got[bad[0]], want[bad[0]])

    with np.errstate(all="ignore"):
        same(out[:, 0], fa + fb, "add")
        same(out[:, 1], fa - fb, "sub")
        same(out[:, 2], fa * fb, "mul")
        same(out[:, 3], fa / fb, "div")
        assert np.all(out[:, 4] == a ^ 0x80000000)
        r = out[:, 5:12].view(np.int32)
        assert np.all((r[:, 0] == 0) == (fa == fb)) and np.all((r[:, 1] != 0) == (fa != fb))
        assert np.all((r[:, 2] < 0) == (fa < fb)) and np.all((r[:, 3] <= 0) == (fa <= fb))
        assert np.all((r[:, 4] > 0) == (fa > fb)) and np.all((r[:, 5] >= 0) == (fa >= fb))
        assert np.all((r[:, 6] != 0) == (np.isnan(fa) | np.isnan(fb)))
        same(out[:, 12], a.view(np.int32).astype(np.float32), "int32 -> float")
        same(out[:, 13], a.astype(np.float32), "uint32 -> float")
        # float -> int: C's truncation where the value fits (elsewhere C leaves it undefined).
        fits = np.isfinite(fa) & (fa > -2.0**31) & (fa < 2.0**31)
        assert np.array_equal(out[fits, 14].view(np.int32), np.trunc(fa[fits]).astype(np.int32))
        fits = np.isfinite(fa) & (fa > -1.0) & (fa < 2.0**32)
        assert np.array_equal(out[fits, 15], np.trunc(fa[fits]).astype(np.uint32))


# ---- both builds loaded by MicroPython on the emulated core ---------------------------------------------------

QEMU_SCRIPT = """
import os, sys, board

def read(name):
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])

# An ESP32-S2 as the module sees it: its `import sys` finds sys.modules['sys'] first.
class _Impl:
    _machine = S2_MACHINE
class _Sys:
    implementation = _Impl
sys.modules["sys"] = _Sys
try:
    import esp32_on_s2
    print("esp32 build on an S2: imported")
except ImportError as e:
    print("esp32 build on an S2: ImportError:", e)
import s2_on_s2
print("s2 build on an S2: imported", type(s2_on_s2.Model).__name__)
del sys.modules["sys"]

import s2, esp32
for name in NAMES:
    m = s2.Model(read(name + ".tflite"))
    for i in range(len(m.inputs)):
        m.set_input(i, read(name + ".in%d" % i))
    t0 = board.instructions()
    m.invoke()
    print("instructions", name, board.instructions() - t0)
    for i in range(len(m.outputs)):
        with open(name + ".out%d" % i, "wb") as f:
            f.write(bytes(m.output(i)))
# predict(): float in, quantized, invoked, dequantized: soft float against the FPU, bit for bit.
h = read("hello_world.tflite")
for x in (-0.25, 0.3, 0.9, 1.5707964, 2.2, 3.14159, 4.0, 4.712389, 5.5):
    a, b = s2.Model(h).predict([x]), esp32.Model(h).predict([x])
    print("predict", x, bytes(a) == bytes(b), bytes(a).hex())
"""


@pytest.fixture(scope="module")
def target():
    return qemu_xtensa_target()


def test_s2_build_bit_exact_and_import_check_on_qemu(target, s2_module, esp32_module):
    """One QEMU run: the ESP32's build refuses a board whose _machine names an ESP32-S2 (ImportError naming
    `--board esp32s2`) while the S2's imports there; the S2's build runs kws and hello_world bit-exact with TFLM
    (about as many instructions per MAC as the portable ESP32 build: the soft float only runs while preparing),
    and its predict() equals the FPU build's bit for bit."""
    names = ["kws_ref_model", "hello_world"]
    files = {"s2.mpy": s2_module.read_bytes(), "s2_on_s2.mpy": s2_module.read_bytes(),
             "esp32.mpy": esp32_module.read_bytes(), "esp32_on_s2.mpy": esp32_module.read_bytes()}
    expected, infos = {}, {}
    for name in names:
        info = infos[name] = read_model(MODELS / f"{name}.tflite")
        files[f"{name}.tflite"] = (MODELS / f"{name}.tflite").read_bytes()
        inputs = runner.random_inputs(info, seed=31)
        for i, x in enumerate(inputs):
            files[f"{name}.in{i}"] = np.ascontiguousarray(x).tobytes()
        expected[name] = oracle.invoke(MODELS / f"{name}.tflite", inputs)
    script = QEMU_SCRIPT.replace("S2_MACHINE", repr(S2_MACHINE)).replace("NAMES", repr(names))
    fetch = [f"{n}.out{i}" for n in names for i in range(len(infos[n].outputs))]
    result = target.run(script, files, fetch, timeout=600)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("esp32 build on an S2: ImportError: tinyml: this module is built for the ESP32's "
                               "FPU (tinyml-chips: esp32 esp32s3)"), result.stdout
    assert "--board esp32s2" in lines[0]
    assert lines[1] == "s2 build on an S2: imported type", result.stdout
    for name in names:
        for i, (want, t) in enumerate(zip(expected[name], infos[name].outputs)):
            got = np.frombuffer(result.files[f"{name}.out{i}"], dtype=t.dtype).reshape(t.shape)
            assert np.array_equal(got, want), (name, i)
    kws = next(int(l.split()[2]) for l in lines if l.startswith("instructions kws_ref_model"))
    assert 8.0 < kws / infos["kws_ref_model"].macs < 10.0, kws / infos["kws_ref_model"].macs
    predicts = [l for l in lines if l.startswith("predict")]
    assert len(predicts) == 9 and all(l.split()[2] == "True" for l in predicts), predicts
    assert len({l.split()[3] for l in predicts}) >= 7, predicts       # a sine: not one constant output


# ---- choosing the build: pack --board and deploy ----------------------------------------------------------

def test_pack_and_deploy_pick_the_build_per_chip(tmp_path, s2_module, esp32_module):
    """`tinyml pack --board` builds for the board's chip (the S2's build carries its chips' marker, which deploy
    reads); deploy takes the chip from _machine and refuses a pack built for the ESP32's FPU on an ESP32-S2 with
    what to do, and lets the S2's build run anywhere."""
    assert pack_target(None, "esp32s2") == ("xtensawin", "esp32s2")
    assert pack_target(None, "esp32") == ("xtensawin", "esp32")
    assert pack_target(None, "xiao-esp32s3-sense") == ("xtensawin", "esp32s3")     # its esptool chip
    assert pack_target(None, "pico") == ("armv6m", None)
    assert pack_target("xtensawin", None) == ("xtensawin", None)
    with pytest.raises(TinymlError, match="does not match boards/pico.json"):
        pack_target("xtensawin", "pico")
    assert {c: b["mac16"] for c, b in XTENSA_CHIPS.items()} == {"esp32": True, "esp32s3": True, "esp32s2": False}
    # The CLI builds for the board's chip: the S2's pack carries its build's marker (the ESP32's: the audit above).
    out = tmp_path / "tinyml.mpy"             # the module's name as built above: the same cached build
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "tinyml"), "pack", str(KWS), "--board", "esp32s2",
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    s2_pack, s3_pack = out.read_bytes(), esp32_module.read_bytes()
    assert module_chips(s2_pack) == ("esp32s2", "esp32", "esp32s3")
    # deploy's rules, on the _machine strings of real firmware (mp:ports/esp32/boards/*/mpconfigboard.h).
    assert chip_of_machine(S2_MACHINE) == chip_of_machine("LOLIN_S2_MINI with ESP32-S2FN4R2") == "esp32s2"
    assert chip_of_machine("Generic ESP32S3 module with ESP32-S3") == "esp32s3"
    assert chip_of_machine("Seeed XIAO ESP32S3 with ESP32-S3-FN8") == "esp32s3"
    assert chip_of_machine("Generic ESP32 module with ESP32") == "esp32"
    assert chip_of_machine("qemu-xtensa with de233_fpu (windowed ABI)") is None
    problem = pack_chip_problem(s3_pack, "esp32s2", "kws.mpy")
    assert problem == ("kws.mpy is built for esp32 and esp32s3, but the board is an esp32s2, whose core lacks "
                       "instructions it uses: deploy the .tflite (the board's build is made) or `tinyml pack MODEL "
                       "--board esp32s2`"), problem
    assert pack_chip_problem(s2_pack, "esp32", "x") is None and pack_chip_problem(s3_pack, "esp32s3", "x") is None
    assert pack_chip_problem(s3_pack, None, "x") is None            # an emulated board names no chip
    # A mip dist's xtensawin engine is the ESP32's FPU build: refused for an S2 before anything is installed.
    assert dist_chip_problem("esp32s2", "/dev/ttyACM0").startswith("--dist installs the xtensawin engine built for "
                                                                    "the ESP32's FPU, which the ESP32-S2 on /dev/ttyACM0")
    assert dist_chip_problem("esp32", "p") is None and dist_chip_problem(None, "p") is None
    assert pack_chip_problem(b"M\x06\x2b\x1f no marker", "esp32s2", "old.mpy").startswith("old.mpy is built for "
                                                                                          "esp32 and esp32s3")



def test_deploy_measures_the_chips_arena_on_qemu(target, esp32_module):
    """deploy's memory check measures an xtensawin pack's arena with the pack itself on qemu-xtensa: the ESP32's
    MAC16 kernels plan scratch that the host's planner (the portable kernels) does not, so for kws the ESP32's
    pack needs more than the host's estimate."""
    from tinyml.deploy import Source, measure_arena
    from tinyml.hostlib import HostEngine
    # As deploy --dist loads it: the engine module and the model beside it (a pack holds the same two).
    files = {"tinyml.mpy": esp32_module.read_bytes(), "m.tflite": KWS.read_bytes()}
    arena, how = measure_arena("xtensawin", files, "__import__('tinyml').Model(open('m.tflite', 'rb').read())",
                               Source(name="tinyml", tflite=KWS), None)
    engine = HostEngine(KWS.read_bytes(), ops=read_model(KWS).op_names)
    try:
        host = engine.arena_bytes
    finally:
        engine.close()
    assert how == "planned by this module on the emulated Xtensa core"
    assert arena > host + 4096, (arena, host)
