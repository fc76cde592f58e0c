"""The engine as native modules for real microcontroller archs: every arch builds (full engine and per-model
kernel subsets), the .mpy header names the right arch, the armv6m module is pure Thumb-1, and the compiler
helpers the modules carry (native_modules/runtime/: soft-float, Cortex-M0 integer division, 64-bit ops)
compute exactly what the host's FPU and ALU compute.

A missing toolchain is a failure, not a skip: its message names the apt-get command."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml.build import ARCHES, MPY_ARCH_CODES, build_module, module_sizes  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.ops import KERNELS  # noqa: E402
from tinyml.toolchain import require  # noqa: E402
from conftest import MODELS  # noqa: E402

RUNTIME = REPO / "native_modules" / "runtime"
DEVICE_ARCHES = ["armv6m", "armv7m", "armv7emsp", "xtensawin"]


def _objdump():
    return require("arm-none-eabi-objdump", "binutils-arm-none-eabi")


@pytest.fixture(scope="module", params=DEVICE_ARCHES + ["x64"])
def full_module(request):
    return request.param, build_module(request.param)


def test_full_engine_builds_for_every_arch(full_module):
    arch, mpy = full_module
    data = mpy.read_bytes()
    assert data[0:2] == b"M\x06"                         # MicroPython .mpy version 6 (1.22 - 1.24)
    assert data[2] >> 2 == MPY_ARCH_CODES[arch], f"header arch {data[2] >> 2} for {arch}"
    assert data[2] & 3 == 3                              # sub-version 3 (MicroPython 1.23)
    sizes = module_sizes(mpy)
    assert sizes["arch"] == arch and sizes["text"] > 4000 and sizes["bss"] < 64


def test_runtime_helpers_only_where_needed(full_module):
    """FPU archs and x64 carry no soft-float; armv7m has no Cortex-M0 integer helpers."""
    arch, mpy = full_module
    objs = {p.name for p in (mpy.parent / "obj").rglob("*.o") if "runtime" in p.parts}
    expected = {"armv6m": {"armv6m.o", "arm_softfloat.o"}, "armv7m": {"arm_softfloat.o"},
                "xtensawin": {"xtensawin.o"}}.get(arch, set())
    assert objs == expected


def _model_ops():
    return {p.stem: read_model(p).op_names for p in sorted(MODELS.glob("*.tflite"))}


@pytest.mark.parametrize("arch", DEVICE_ARCHES)
def test_per_model_kernel_subsets_build(arch):
    """Each reference model's own kernel set (those the engine has) builds, smaller than the full engine."""
    full = module_sizes(build_module(arch))["text"]
    seen = set()
    for name, ops in _model_ops().items():
        have = tuple(sorted(set(ops) & set(KERNELS)))
        if not have or have in seen:
            continue
        seen.add(have)
        sizes = module_sizes(build_module(arch, have))
        assert sizes["arch"] == arch
        assert sizes["text"] <= full, (name, have)


@pytest.mark.parametrize("arch", ["xtensawin", "armv6m"])
def test_int8_model_builds_leave_float_paths_and_libm_out(arch):
    """An all-int8 model's module (model_module: tinyml pack, invoke, bench) has neither the kernels' float32
    paths nor tm_math.c (glibc-exact expf & co.): on ESP32 each KB of native code is IRAM."""
    from tinyml.build import model_module, module_text_bytes
    from tinyml.model_info import read_model
    info = read_model(MODELS / "kws_ref_model.tflite")
    assert not info.computes_in_float
    with_float = module_text_bytes(build_module(arch, info.op_names))
    int8_only = module_text_bytes(model_module(arch, info))
    print(f"kws on {arch}: {with_float} -> {int8_only} bytes")
    assert int8_only < with_float - 4000
    link_log = (model_module(arch, info).parent / "link.log").read_text()
    assert "tm_math" not in link_log and "tm_math" in (build_module(arch, info.op_names).parent / "link.log").read_text()


def test_armv6m_module_is_thumb1_only():
    """Cortex-M0/M0+ execute only 16-bit Thumb instructions plus BL (and DMB/DSB/ISB/MRS/MSR, unused here):
    disassemble every object of the armv6m module and look at each instruction's width and mnemonic."""
    mpy = build_module("armv6m")
    objs = sorted((mpy.parent / "obj").rglob("*.o"))
    assert objs
    allowed32 = {"bl", "dmb", "dsb", "isb", "mrs", "msr"}
    bad, count = [], 0
    for obj in objs:
        out = subprocess.run([_objdump(), "-d", "--no-show-raw-insn", "-M", "force-thumb", str(obj)],
                             capture_output=True, text=True, check=True).stdout
        raw = subprocess.run([_objdump(), "-d", str(obj)], capture_output=True, text=True, check=True).stdout
        for line in raw.splitlines():
            # "  1c:	f7ff fffe 	bl	0 <x>"  (32-bit: two halfwords) or "  1e:	4770      	bx	lr"
            m = re.match(r"\s*([0-9a-f]+):\t([0-9a-f]{4})( [0-9a-f]{4})?\s*\t(\S+)", line)
            if not m:
                continue
            count += 1
            mnemonic = m.group(4).split(".")[0]
            if m.group(3) and mnemonic not in allowed32:
                bad.append(f"{obj.name}: {line.strip()}")
            if mnemonic in ("cbz", "cbnz", "it", "ite", "itt", "sdiv", "udiv", "ldrd", "strd", "umull", "smull",
                            "mla", "movw", "movt", "bfi", "ubfx", "sbfx", "uxtb.w", "sxtb16", "smlad", "tbb", "tbh"):
                bad.append(f"{obj.name}: {line.strip()}")
        assert out
    assert count > 1000
    assert not bad, "non-Thumb-1 instructions in the armv6m module:\n" + "\n".join(bad[:20])
    # mpy_ld.py's entry jump (tools/patches/mpy_ld-armv6m-long-entry-jump.patch) is Thumb-1 too.
    data = mpy.read_bytes()
    assert b"\x03\xb4\x03\x48\x79\x46\x40\x18\x84\x46\x03\xbc\x60\x47" in data


# ---------------------------------------------------------------------------------------------------------
# The runtime helpers on the host, against the host's IEEE float unit and 64-bit integer ops.

SOFTFLOAT_CHECK = r"""
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "softfloat.h"

static uint64_t s = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)(s >> 16); }
static float f(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static uint32_t u(float x) { uint32_t v; memcpy(&v, &x, 4); return v; }
static int same(uint32_t got, float want) { return isnan(want) ? SF_IS_NAN(got) : got == u(want); }
static int fails = 0;
static void bad(const char *op, uint32_t a, uint32_t b, uint32_t got, uint32_t want) {
    if (fails++ < 10) printf("%s(%08x, %08x) = %08x, want %08x\n", op, a, b, got, want);
}
// Operands from every class: random bits, nearby exponents (cancellation), tiny (subnormal), huge, specials.
static uint32_t operand(uint32_t other) {
    static const uint32_t special[] = {0, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 1, 0x807fffffu,
        0x00800000u, 0x7f7fffffu, 0x3f800000u, 0xbf800000u, 0x3f000000u, 0x4b000000u, 0x4effffffu, 0xcf000000u};
    switch (rnd() % 8) {
        case 0: return special[rnd() % (sizeof special / 4)];
        case 1: return (other & 0xff800000u) ^ (rnd() & 0x80ffffffu);                  // same exponent
        case 2: return ((other & 0x7f800000u) + ((rnd() % 64) << 23) - (32u << 23)) | (rnd() & 0x807fffffu);
        case 3: return rnd() & 0x80ffffffu;                                             // subnormal / tiny
        case 4: return (rnd() & 0x807fffffu) | ((0xe0u + rnd() % 31) << 23);            // huge
        case 5: return u((float)(int32_t)(rnd() % 2001) - 1000.0f);                     // small integers
        default: return rnd();
    }
}
int main(void) {
    for (long i = 0; i < N; i++) {
        uint32_t a = operand(rnd()), b = operand(a);
        float x = f(a), y = f(b);
        uint32_t r;
        if (!same(r = sf_add(a, b), x + y)) bad("add", a, b, r, u(x + y));
        if (!same(r = sf_add(a, b ^ SF_SIGN), x - y)) bad("sub", a, b, r, u(x - y));
        if (!same(r = sf_mul(a, b), x * y)) bad("mul", a, b, r, u(x * y));
        if (!same(r = sf_div(a, b), x / y)) bad("div", a, b, r, u(x / y));
        int c = sf_cmp(a, b), want = (x != x || y != y) ? 2 : (x < y ? -1 : (x > y));
        if (c != want) bad("cmp", a, b, (uint32_t)c, (uint32_t)want);
        int32_t k = (int32_t)rnd() >> (rnd() % 32);
        if (!same(r = sf_from_i32(k), (float)k)) bad("i2f", (uint32_t)k, 0, r, u((float)k));
        uint32_t ku = rnd() >> (rnd() % 32);
        if (!same(r = sf_from_u32(0, ku), (float)ku)) bad("ui2f", ku, 0, r, u((float)ku));
        if (!isnan(x) && fabsf(x) < 2147483520.0f && (int32_t)sf_to_i32(a) != (int32_t)x)
            bad("f2iz", a, 0, (uint32_t)sf_to_i32(a), (uint32_t)(int32_t)x);
        if (!isnan(x) && x > -1.0f && x < 4294967040.0f && sf_to_u32(a) != (uint32_t)x)
            bad("f2uiz", a, 0, sf_to_u32(a), (uint32_t)x);
    }
    // Saturation and NaN as the Cortex-M4's VCVT.
    if (sf_to_i32(0x4f000000u) != INT32_MAX || sf_to_i32(0xcf000000u) != INT32_MIN ||
        sf_to_i32(0xff800000u) != INT32_MIN || sf_to_i32(0x7fc00000u) != 0 || sf_to_u32(0xbf800000u) != 0)
        bad("saturate", 0, 0, 0, 0);
    printf("%d failures\n", fails);
    return fails != 0;
}
"""

INTMATH_CHECK = r"""
#include <stdint.h>
#include <stdio.h>
#include "armv6m.c"

static uint64_t s = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
static int fails = 0;
#define CHECK(cond, ...) do { if (!(cond) && fails++ < 10) printf(__VA_ARGS__); } while (0)
int main(void) {
    for (long i = 0; i < N; i++) {
        uint64_t a = rnd() >> (rnd() % 64), b = rnd() >> (rnd() % 64);
        uint32_t n = (uint32_t)a, d = (uint32_t)b;
        int shift = (int)(rnd() % 64);
        if (d) {
            CHECK(__aeabi_uidiv(n, d) == n / d, "uidiv %u %u\n", n, d);
            uint64_t qr = __aeabi_uidivmod(n, d);
            CHECK((uint32_t)qr == n / d && (uint32_t)(qr >> 32) == n % d, "uidivmod %u %u\n", n, d);
            int32_t sn = (int32_t)n, sd = (int32_t)d;
            if (!(sn == INT32_MIN && sd == -1)) {
                CHECK(__aeabi_idiv(sn, sd) == sn / sd, "idiv %d %d\n", sn, sd);
                uint64_t sqr = __aeabi_idivmod(sn, sd);
                CHECK((int32_t)(uint32_t)sqr == sn / sd && (int32_t)(uint32_t)(sqr >> 32) == sn % sd,
                      "idivmod %d %d\n", sn, sd);
            }
        }
        CHECK(__aeabi_lmul(a, b) == a * b, "lmul %llx %llx\n", (unsigned long long)a, (unsigned long long)b);
        int64_t sa = (int64_t)a, sb = (int64_t)(rnd());
        CHECK(__aeabi_lmul((uint64_t)sa, (uint64_t)sb) == (uint64_t)(sa * sb), "lmul signed\n");
        CHECK(__aeabi_llsl(a, shift) == a << shift, "llsl %d\n", shift);
        CHECK(__aeabi_llsr(a, shift) == a >> shift, "llsr %d\n", shift);
        CHECK(__aeabi_lasr((uint64_t)sb, shift) == (uint64_t)(sb >> shift), "lasr %d\n", shift);
        if (b) {
            uint64_t r, q = tm_rt_udivmod64(a, b, &r);
            CHECK(q == a / b && r == a % b, "udivmod64 %llx %llx\n", (unsigned long long)a, (unsigned long long)b);
            int64_t x = (int64_t)rnd() >> (rnd() % 64), y = (int64_t)b * ((rnd() & 1) ? 1 : -1), sr;
            if (y) {
                int64_t sq = tm_rt_divmod64(x, y, &sr);
                CHECK(sq == x / y && sr == x % y, "divmod64\n");
            }
        }
    }
    printf("%d failures\n", fails);
    return fails != 0;
}
"""


def _run_c(tmp_path, source, n):
    cc = require("gcc", "gcc")
    src = tmp_path / "check.c"
    src.write_text(source)
    exe = tmp_path / "check"
    subprocess.run([cc, "-std=c99", "-O2", "-ffp-contract=off", "-fno-builtin", f"-DN={n}", f"-I{RUNTIME}",
                    "-Wall", "-Wno-unused-function", "-o", str(exe), str(src), "-lm"], check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_softfloat_matches_host_fpu(tmp_path):
    """add/sub/mul/div/compare/convert, bit-exact with IEEE round-to-nearest-even (x86-64 SSE), 1M cases each."""
    _run_c(tmp_path, SOFTFLOAT_CHECK, 1_000_000)


def test_armv6m_integer_helpers_match_host(tmp_path):
    """Cortex-M0 division, 64-bit multiply and shifts, 64-bit division: the C parts, against host arithmetic."""
    _run_c(tmp_path, INTMATH_CHECK, 1_000_000)


def test_arches_table_covers_the_device_arches():
    assert set(DEVICE_ARCHES) <= set(ARCHES)
    assert shutil.which("make"), "make is missing: apt-get install make"
