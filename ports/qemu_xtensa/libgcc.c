// The compiler-support routines the core needs that LLVM's Xtensa backend calls instead of inlining, and
// that no Xtensa libgcc provides here: double<->float/int conversions (the core has a few doubles: the
// 'd' struct format, float arguments through printf's varargs, mp_obj_new_float_from_d), the float
// classification behind newlib's isnan/isinf, and 64-bit unsigned division. All work on the IEEE-754 bit
// patterns, exactly (round to nearest, ties to even, where a result is rounded). __divsf3 comes from
// native_modules/runtime/xtensawin.c, as in the native modules.
#include <stdint.h>
#include <math.h>

typedef union {
    float f;
    uint32_t u;
} f32_t;

typedef union {
    double d;
    uint64_t u;
} f64_t;

double __extendsfdf2(float a) {
    f32_t x = { a };
    uint64_t sign = (uint64_t)(x.u >> 31) << 63;
    uint32_t exp = (x.u >> 23) & 0xff, mant = x.u & 0x7fffff;
    f64_t r;
    if (exp == 0xff) {
        r.u = sign | (0x7ffull << 52) | ((uint64_t)mant << 29);
    } else if (exp == 0) {
        if (mant == 0) {
            r.u = sign;
        } else {
            int e = 1 - 127 + 1023;     // a subnormal float is a normal double: normalise it
            while (!(mant & 0x800000)) {
                mant <<= 1;
                e--;
            }
            r.u = sign | ((uint64_t)e << 52) | ((uint64_t)(mant & 0x7fffff) << 29);
        }
    } else {
        r.u = sign | ((uint64_t)(exp - 127 + 1023) << 52) | ((uint64_t)mant << 29);
    }
    return r.d;
}

float __truncdfsf2(double a) {
    f64_t x = { a };
    uint32_t sign = (uint32_t)(x.u >> 63) << 31;
    int exp = (x.u >> 52) & 0x7ff;
    uint64_t mant = x.u & ((1ull << 52) - 1);
    f32_t r;
    if (exp == 0x7ff) {
        r.u = sign | 0x7f800000 | (mant ? 0x400000 | (uint32_t)(mant >> 29) : 0);
        return r.f;
    }
    int e = exp - 1023 + 127;       // biased float exponent
    if (e >= 0xff) {
        r.u = sign | 0x7f800000;    // overflow: infinity
        return r.f;
    }
    uint64_t m = mant | (exp ? 1ull << 52 : 0);
    int shift = e > 0 ? 29 : 29 + 1 - e;    // a subnormal float keeps fewer bits
    if (m == 0 || shift > 62) {
        r.u = sign;
        return r.f;
    }
    uint32_t q = (uint32_t)(m >> shift);
    uint64_t rem = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) {
        q++;                        // a carry into the exponent field is the correct rounding
    }
    r.u = sign | (e > 0 ? ((uint32_t)(e - 1) << 23) + q : q);
    return r.f;
}

double __floatsidf(int a) {
    f64_t r;
    if (a == 0) {
        r.u = 0;
        return r.d;
    }
    uint64_t sign = a < 0 ? 1ull << 63 : 0;
    uint32_t v = a < 0 ? -(uint32_t)a : (uint32_t)a;
    int msb = 31 - __builtin_clz(v);
    r.u = sign | ((uint64_t)(msb + 1023) << 52) | (((uint64_t)v << (52 - msb)) & ((1ull << 52) - 1));
    return r.d;
}

int __fpclassifyf(float a) {
    f32_t x = { a };
    uint32_t exp = (x.u >> 23) & 0xff, mant = x.u & 0x7fffff;
    if (exp == 0xff) {
        return mant ? FP_NAN : FP_INFINITE;
    }
    if (exp == 0) {
        return mant ? FP_SUBNORMAL : FP_ZERO;
    }
    return FP_NORMAL;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) {
    if ((n >> 32) == 0 && (d >> 32) == 0) {
        return (uint32_t)n / (uint32_t)d;   // QUOU
    }
    // Restoring division, one quotient bit per step from the highest the divisor allows.
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= 1ull << i;
        }
    }
    return q;
}
