// IEEE 754 single precision in integer C, for cores without an FPU (Cortex-M0/M0+/M3) and for the float
// operations an FPU lacks (ESP32: division). Round to nearest even, subnormals in and out, +-0, +-inf;
// every NaN result is the default quiet NaN 0x7fc00000 (as ARM's FPU with DN set). Values are bit
// patterns (uint32_t), so nothing here makes the compiler emit float calls of its own.
// Included by the per-arch files in this directory, which give these functions the names the compilers
// call (AEABI __aeabi_f*, libgcc __divsf3); tests/test_arch_builds.py checks them against the host FPU.
#ifndef TM_SOFTFLOAT_H
#define TM_SOFTFLOAT_H

#include <stdint.h>

// Not every includer uses every function.
#define SF_FN static __attribute__((unused))

#define SF_SIGN 0x80000000u
#define SF_INF 0x7f800000u
#define SF_NAN 0x7fc00000u
#define SF_ABS(a) ((a) & 0x7fffffffu)
#define SF_IS_NAN(a) (SF_ABS(a) > SF_INF)

// Finite nonzero a -> significand with the implicit bit at bit 23 and a biased exponent, both normalised
// (subnormals get an exponent <= 0).
SF_FN uint32_t sf_unpack(uint32_t a, int32_t *exp) {
    int32_t e = (int32_t)((a >> 23) & 0xff);
    uint32_t m = a & 0x7fffffu;
    if (e == 0) {
        e = 1;
        while (!(m & 0x800000u)) {
            m <<= 1;
            e--;
        }
        *exp = e;
        return m;
    }
    *exp = e;
    return m | 0x800000u;
}

// Round and pack: value = sig / 2^26 * 2^(exp - 127), sig in [2^26, 2^27) with bit 0 a sticky bit.
SF_FN uint32_t sf_round_pack(uint32_t sign, int32_t exp, uint32_t sig) {
    uint32_t base;
    if (exp >= 0xff) {
        return sign | SF_INF;
    }
    if (exp <= 0) {
        int32_t shift = 1 - exp;
        sig = shift > 27 ? (sig != 0) : (sig >> shift) | ((sig & ((1u << shift) - 1)) != 0);
        base = 0;
    } else {
        base = (uint32_t)(exp - 1) << 23;
    }
    uint32_t rest = sig & 7;
    sig >>= 3;
    if (rest > 4 || (rest == 4 && (sig & 1))) {
        sig++;
    }
    return sign | (base + sig);     // a carry out of the significand bumps the exponent, up to inf
}

SF_FN uint32_t sf_add(uint32_t a, uint32_t b) {
    if (SF_IS_NAN(a) || SF_IS_NAN(b)) {
        return SF_NAN;
    }
    if (SF_ABS(a) == SF_INF || SF_ABS(b) == SF_INF) {
        if (SF_ABS(a) == SF_INF && SF_ABS(b) == SF_INF && a != b) {
            return SF_NAN;
        }
        return SF_ABS(a) == SF_INF ? a : b;
    }
    if (SF_ABS(a) == 0) {
        return SF_ABS(b) == 0 ? (a & b) : b;
    }
    if (SF_ABS(b) == 0) {
        return a;
    }
    if (SF_ABS(a) < SF_ABS(b)) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    int32_t ea, eb;
    uint32_t ma = sf_unpack(a, &ea) << 3, mb = sf_unpack(b, &eb) << 3;
    int32_t d = ea - eb;
    if (d > 26) {
        mb = 1;
    } else if (d > 0) {
        mb = (mb >> d) | ((mb & ((1u << d) - 1)) != 0);
    }
    uint32_t m;
    if ((a ^ b) & SF_SIGN) {
        m = ma - mb;
        if (m == 0) {
            return 0;
        }
        while (m < (1u << 26)) {    // exact when d <= 1; at most one step otherwise
            m <<= 1;
            ea--;
        }
    } else {
        m = ma + mb;
        if (m >= (1u << 27)) {
            m = (m >> 1) | (m & 1);
            ea++;
        }
    }
    return sf_round_pack(a & SF_SIGN, ea, m);
}

SF_FN uint32_t sf_mul(uint32_t a, uint32_t b) {
    uint32_t sign = (a ^ b) & SF_SIGN;
    if (SF_IS_NAN(a) || SF_IS_NAN(b)) {
        return SF_NAN;
    }
    if (SF_ABS(a) == SF_INF || SF_ABS(b) == SF_INF) {
        return (SF_ABS(a) == 0 || SF_ABS(b) == 0) ? SF_NAN : sign | SF_INF;
    }
    if (SF_ABS(a) == 0 || SF_ABS(b) == 0) {
        return sign;
    }
    int32_t ea, eb;
    uint32_t ma = sf_unpack(a, &ea), mb = sf_unpack(b, &eb);
    uint64_t p = (uint64_t)ma * mb;                 // [2^46, 2^48)
    int32_t exp = ea + eb - 127;
    int shift = 20;
    if (p >> 47) {
        shift = 21;
        exp++;
    }
    uint32_t sig = (uint32_t)(p >> shift) | (((uint32_t)p & ((1u << shift) - 1)) != 0);
    return sf_round_pack(sign, exp, sig);
}

SF_FN uint32_t sf_div(uint32_t a, uint32_t b) {
    uint32_t sign = (a ^ b) & SF_SIGN;
    if (SF_IS_NAN(a) || SF_IS_NAN(b)) {
        return SF_NAN;
    }
    if (SF_ABS(a) == SF_INF) {
        return SF_ABS(b) == SF_INF ? SF_NAN : sign | SF_INF;
    }
    if (SF_ABS(b) == SF_INF) {
        return sign;
    }
    if (SF_ABS(b) == 0) {
        return SF_ABS(a) == 0 ? SF_NAN : sign | SF_INF;
    }
    if (SF_ABS(a) == 0) {
        return sign;
    }
    int32_t ea, eb;
    uint32_t ma = sf_unpack(a, &ea), mb = sf_unpack(b, &eb);
    int32_t exp = ea - eb + 127;
    if (ma < mb) {
        ma <<= 1;
        exp--;
    }
    // 27 quotient bits of ma/mb in [1, 2) by restoring division, then the remainder as sticky bit.
    uint32_t q = 0, r = ma;
    for (int i = 0; i < 27; i++) {
        q <<= 1;
        if (r >= mb) {
            r -= mb;
            q |= 1;
        }
        r <<= 1;
    }
    return sf_round_pack(sign, exp, q | (r != 0));
}

// -1, 0, 1 for a < b, a == b, a > b; 2 when unordered (a NaN).
SF_FN int sf_cmp(uint32_t a, uint32_t b) {
    if (SF_IS_NAN(a) || SF_IS_NAN(b)) {
        return 2;
    }
    int32_t ka = (a & SF_SIGN) ? -(int32_t)SF_ABS(a) : (int32_t)a;
    int32_t kb = (b & SF_SIGN) ? -(int32_t)SF_ABS(b) : (int32_t)b;
    return ka < kb ? -1 : (ka > kb);
}

SF_FN uint32_t sf_from_u32(uint32_t sign, uint32_t u) {
    if (u == 0) {
        return 0;
    }
    int n = 31;
    while (!(u >> n)) {
        n--;
    }
    uint32_t sig = n <= 26 ? u << (26 - n) : (u >> (n - 26)) | ((u & ((1u << (n - 26)) - 1)) != 0);
    return sf_round_pack(sign, 127 + n, sig);
}

SF_FN uint32_t sf_from_i32(int32_t i) {
    return i < 0 ? sf_from_u32(SF_SIGN, 0u - (uint32_t)i) : sf_from_u32(0, (uint32_t)i);
}

// Truncation toward zero, saturating, NaN -> 0 (as the Cortex-M4 VCVT).
SF_FN int32_t sf_to_i32(uint32_t a) {
    int32_t e = (int32_t)((a >> 23) & 0xff);
    if (SF_IS_NAN(a)) {
        return 0;
    }
    if (e < 127) {
        return 0;
    }
    if (e >= 127 + 31) {
        return (a & SF_SIGN) ? INT32_MIN : INT32_MAX;
    }
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    uint32_t v = e >= 150 ? m << (e - 150) : m >> (150 - e);
    return (a & SF_SIGN) ? -(int32_t)v : (int32_t)v;
}

SF_FN uint32_t sf_to_u32(uint32_t a) {
    int32_t e = (int32_t)((a >> 23) & 0xff);
    if (SF_IS_NAN(a) || e < 127 || (a & SF_SIGN)) {
        return 0;
    }
    if (e >= 127 + 32) {
        return 0xffffffffu;
    }
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    return e >= 150 ? m << (e - 150) : m >> (150 - e);
}

#endif
