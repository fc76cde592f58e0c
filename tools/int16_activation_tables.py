"""Writes native_modules/engine/kernels/int16_activation_tables.h: the constant tables of TFLM's int16 SOFTMAX,
LOGISTIC and TANH, which do not depend on the model.

- SOFTMAX's exp(x) over [-10, 0] and 1/(1+x) over [0, 1], 513 int16 values each: TFLM fills them in Prepare
  (LUTPopulate<int16_t>) in float32 arithmetic with the C library's expf. Recomputed here operation by operation
  in numpy float32 (each step rounded to float as C does; x86-64 has no FMA contraction) with libm's expf
  through ctypes: the same glibc the TFLM wheel calls.
- LOGISTIC's and TANH's sigmoid(i/24) table (256 uint16, Q0.16): a fitted table in TFLM's source, not a
  formula (round(65536 * sigmoid(i/24)) differs in 44 entries), so it is read back from the TFLM wheel itself:
  int16 TANH at an input scale where its table index is 2x gives entry i - 32768 exactly for x = 128 * i
  (sigmoid_table_from_tflm).

Run `.venv/bin/python tools/int16_activation_tables.py` to rewrite the header; `--check` exits 1 when the
header differs (tests/test_ops_int16_act.py runs the check). The tables cost 2.5 KB of rodata in a build with
SOFTMAX, LOGISTIC or TANH (native modules forbid initialized .data; on the ESP32 rodata sits in the heap)."""

import ctypes
import math
import ctypes.util
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
HEADER = REPO / "native_modules" / "engine" / "kernels" / "int16_activation_tables.h"
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tests"))

f32 = np.float32
_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_libm.expf.restype, _libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
_libm.logf.restype, _libm.logf.argtypes = ctypes.c_float, [ctypes.c_float]


def expf(x):
    return f32(_libm.expf(float(x)))


def one_over_one_plus(x):
    return f32(f32(1.0) / f32(f32(1.0) + x))


def c_round(x):
    """std::round on a float: half away from zero."""
    v = float(x)            # exact: a float32 in a double, and |v| + 0.5 stays exact
    return f32(math.copysign(math.floor(abs(v) + 0.5), v))


def lut_populate_int16(input_scale, input_zero_point, output_scale, output_zero_point, transform):
    """TFLM's LUTPopulateInt16<float>: 512 samples with a bias that halves the midpoint interpolation error,
    then the end point."""
    lo, hi = -32768, 32767
    input_min = f32(input_scale * f32(lo - input_zero_point))
    input_max = f32(input_scale * f32(hi - input_zero_point))
    output_min = f32(output_scale * f32(lo - output_zero_point))
    output_max = f32(output_scale * f32(hi - output_zero_point))
    steps = 512
    step = f32(f32(input_max - input_min) / f32(steps))
    half_step = f32(step / f32(2))
    inv = f32(f32(65536) / f32(output_max - output_min))
    out = []
    for i in range(steps):
        x = f32(input_min + f32(f32(i) * step))
        val = transform(x)
        val_mid = transform(f32(x + half_step))
        val_next = transform(f32(input_min + f32(f32(i + 1) * step)))
        sample = c_round(f32(val * inv))
        interp = c_round(f32(f32(f32(val_next * inv) + sample) / f32(2)))
        mid = c_round(f32(val_mid * inv))
        bias = c_round(f32(f32(interp - mid) / f32(2)))
        out.append(int(min(max(f32(sample - bias), lo), hi)))
    out.append(int(min(max(c_round(f32(transform(input_max) * inv)), lo), hi)))
    return out


def softmax_tables():
    """SOFTMAX's two tables, with the arguments TFLM's CalculateSoftmaxParams passes (range = 65535)."""
    r = f32(65535)
    exp_lut = lut_populate_int16(f32(f32(10) / r), 32767, f32(f32(2) / r), 0, expf)
    recip_lut = lut_populate_int16(f32(f32(1) / r), -32768, f32(f32(2) / r), 0, one_over_one_plus)
    return exp_lut, recip_lut


def tanh_int16_input_params(scale):
    """TFLM's int16 TANH prepare for a scale that is not a power of two: (input_multiplier, input_left_shift)."""
    multiplier, shift = float(f32(scale)) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def sigmoid_table_from_tflm():
    """The 256 entries of TFLM's sigmoid table, read back through the wheel's int16 TANH: with input multiplier
    2^14 and shift 13 TANH's raw index is 2x, and x = 128 * i lands on entry i: the output is entry i - 32768.
    x = 128 * i + 127 (index 256 * i + 254) adds (254 * d + 128) >> 8 == d for a difference d <= 64: the
    last entry, and a consistency check of the probe wherever the table's steps are that small."""
    from m4diff.tflite_writer import ModelBuilder
    from tinyml import oracle
    INT16 = 7
    scale = f32(1 / 6144)                      # 1/6144 * 12288 * 2^13 = 2^14, but 1/6144 is not a float:
    while tanh_int16_input_params(scale) != (1 << 14, 13):    # the next float up truncates to 2^14
        scale = np.nextafter(scale, f32(1))
    b = ModelBuilder()
    n = 2 * 255
    x = b.tensor([1, n], INT16, scale=float(scale), zero_point=0)
    y = b.tensor([1, n], INT16, scale=2 ** -15, zero_point=0)
    b.op("TANH", [x], [y], "NONE", None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.tflite"
        path.write_bytes(b.finish([x], [y]))
        probe = np.array([[128 * i, 128 * i + 127] for i in range(255)], np.int16).reshape(1, n)
        out = oracle.invoke(path, [probe])[0].reshape(255, 2).astype(np.int64)
    table = [int(v) + 32768 for v in out[:, 0]]
    diffs = out[:, 1] - out[:, 0]
    for i in range(254):
        if 0 <= table[i + 1] - table[i] <= 64 and table[i + 1] - table[i] != diffs[i]:
            raise SystemExit(f"sigmoid table probe inconsistent at {i}: TANH's int16 arithmetic changed?")
    if not 0 <= diffs[254] <= 64:
        raise SystemExit("sigmoid table probe: the last difference is out of the recoverable range")
    table.append(table[254] + int(diffs[254]))
    return table


def checked_log2(x):
    """TFLM's CheckedLog2 in float32: (round(log2 x), whether x is within 1e-3 (in log2) of that power of two)."""
    log2 = f32(f32(_libm.logf(float(x))) * f32(f32(1) / f32(_libm.logf(2.0))))
    rounded = c_round(log2)
    return int(rounded), abs(float(f32(log2 - rounded))) < float(f32(1e-3))


POT_EXPONENTS = range(-16, -10)   # the powers of two int16 LOGISTIC/TANH ask about: inputs 2^-12, 2^-11, output 2^-15


def pot_limits():
    """Per k in POT_EXPONENTS, the float mantissa fractions (23 bits) where CheckedLog2 says "2^k": below `lo`
    at exponent k, from `hi` up at exponent k - 1. logf's rounding moves these a few ulps from
    2^(+-0.001) per exponent, so they are measured (and checked to be single crossings) rather than derived."""
    lo0, hi0 = int((2 ** 0.001 - 1) * 2 ** 23), int((2 ** 0.999 - 1) * 2 ** 23)
    limits = []
    for k in POT_EXPONENTS:
        def pot(frac, e, k=k):
            return checked_log2(f32(np.ldexp(1 + frac / 2 ** 23, e))) == (k, True)
        below = [pot(f, k) for f in range(lo0 - 200, lo0 + 200)]
        above = [pot(f, k - 1) for f in range(hi0 - 200, hi0 + 200)]
        lo, hi = lo0 - 200 + below.index(False), hi0 - 200 + above.index(True)
        if any(below[lo - lo0 + 200:]) or not all(above[hi - hi0 + 200:]) or \
                not (pot(0, k) and pot(2 ** 23 - 1, k - 1) and not pot(2 ** 22, k) and not pot(2 ** 22, k - 1)):
            raise SystemExit(f"CheckedLog2 near 2^{k} is not a single crossing: the threshold test would be wrong")
        limits.append((lo, hi))
    return limits


def c_array(ctype, name, values, comment):
    rows = [", ".join(str(v) for v in values[i:i + 12]) for i in range(0, len(values), 12)]
    # unused: a kernel includes the header for one table; the others must not warn (they compile away)
    return (f"// {comment}\nstatic const {ctype} {name}[{len(values)}] __attribute__((unused)) = {{\n    "
            + ",\n    ".join(rows) + "\n};\n")


def header_text():
    exp_lut, recip_lut = softmax_tables()
    sigmoid = sigmoid_table_from_tflm()
    limits = pot_limits()
    return (
        "// Generated by tools/int16_activation_tables.py (it says how); do not edit. Constant tables of TFLM's\n"
        "// int16 SOFTMAX, LOGISTIC and TANH: they do not depend on the model. Unused ones compile away.\n"
        "#ifndef TM_INT16_ACTIVATION_TABLES_H\n#define TM_INT16_ACTIVATION_TABLES_H\n\n#include <stdint.h>\n\n"
        + c_array("int16_t", "tm_softmax_exp_lut", exp_lut,
                  "exp(x) for x in [-10, 0] (index 0: -10), Q0.15, with TFLM's interpolation bias")
        + "\n"
        + c_array("int16_t", "tm_softmax_recip_lut", recip_lut,
                  "1 / (1 + x) for x in [0, 1], Q0.15, with TFLM's interpolation bias")
        + "\n"
        + c_array("uint16_t", "tm_sigmoid_table", sigmoid, "sigmoid(i / 24), Q0.16 (TFLM's fitted table)")
        + "\n"
        + f"// TFLM's CheckedLog2(x) == (k, true) for k in [{POT_EXPONENTS[0]}, {POT_EXPONENTS[-1]}]: x's float mantissa\n"
        + "// fraction (23 bits) below lo at exponent k, or from hi up at exponent k - 1 (glibc logf's rounding,\n"
        + "// measured).\n"
        + f"#define TM_POT_LIMITS_FIRST_K ({POT_EXPONENTS[0]})\n"
        + c_array("uint32_t", "tm_pot_limits", [v for pair in limits for v in pair], "lo, hi per k")
        + "\n#endif\n")


def main():
    text = header_text()
    if "--check" in sys.argv[1:]:
        if not HEADER.exists() or HEADER.read_text() != text:
            print(f"{HEADER.relative_to(REPO)} is stale: run .venv/bin/python tools/int16_activation_tables.py")
            return 1
        return 0
    HEADER.write_text(text)
    print(f"wrote {HEADER.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
