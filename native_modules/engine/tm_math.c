#include <stdint.h>
#include "tm_math.h"

typedef union {
    float f;
    uint32_t u;
} bits_t;

static float from_bits(uint32_t u) {
    bits_t b;
    b.u = u;
    return b.f;
}

// High 64 bits of the 128-bit product a * b.
static uint64_t mulhi64(uint64_t a, uint64_t b) {
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t lh = al * bh, hl = ah * bl;
    uint64_t mid = ((al * bl) >> 32) + (uint32_t)lh + (uint32_t)hl;
    return ah * bh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

// A double emulated in integers (no FPU double, no libgcc): value = (-1)^neg * m * 2^e, m = 0 or in
// [2^52, 2^53). Only what glibc's expf needs: normal numbers, round to nearest even.
typedef struct {
    uint64_t m;
    int32_t e, neg;
} sd_t;

// Round m * 2^e (m != 0; `sticky` says nonzero bits were dropped below m) to 53 bits.
static sd_t sd_round(int neg, uint64_t m, int e, int sticky) {
    sd_t r = { 0, 0, neg };
    if (m == 0) {
        return r;
    }
    while (!(m >> 63)) {
        m <<= 1;
        e--;
    }
    uint64_t rem = m & 0x7ff;
    r.m = m >> 11;
    r.e = e + 11;
    if (rem > 0x400 || (rem == 0x400 && (sticky || (r.m & 1)))) {
        r.m++;
        if (r.m >> 53) {
            r.m >>= 1;
            r.e++;
        }
    }
    return r;
}

static sd_t sd_from_bits(uint64_t u) {
    sd_t r = { (u & 0xfffffffffffffu) | ((uint64_t)1 << 52), (int32_t)((u >> 52) & 0x7ff) - 1075,
               (int32_t)(u >> 63) };
    return r;
}

static sd_t sd_mul(sd_t a, sd_t b) {
    uint64_t x = a.m << 11, y = b.m << 11, hi = mulhi64(x, y), lo = x * y;
    return sd_round(a.neg ^ b.neg, hi, a.e + b.e - 22 + 64, lo != 0);
}

// a * b + c with one rounding (the FMA the x86-64 glibc build contracts expf's arithmetic into). Exact
// 128-bit sum (hi, lo), the smaller operand's shifted-out bits jammed into its lowest bit.
static sd_t sd_fma(sd_t a, sd_t b, sd_t c) {
    if (a.m == 0 || b.m == 0) {
        return c;
    }
    // product a.m * b.m * 2^22 in 128 bits, then 2 bits of headroom for the sum (top bit at 124 or 125)
    uint64_t x = a.m << 11, y = b.m << 11, ph = mulhi64(x, y), pl = x * y;
    int pe = a.e + b.e - 22 + 2, pneg = a.neg ^ b.neg;
    pl = (pl >> 2 | ph << 62) | ((pl & 3) != 0);
    ph >>= 2;
    // c with its 53 bits in the high word (top bit at 116)
    uint64_t ch = c.m, cl = 0;
    int ce = c.m ? c.e - 64 : pe;
    // align the operand with the smaller exponent to the larger one
    uint64_t *sh_h = pe < ce ? &ph : &ch, *sh_l = pe < ce ? &pl : &cl;
    int d = pe < ce ? ce - pe : pe - ce, e = pe < ce ? ce : pe;
    if (d >= 128) {
        *sh_l = (*sh_h | *sh_l) != 0;
        *sh_h = 0;
    } else if (d >= 64) {
        uint64_t lost = *sh_l | (d > 64 ? *sh_h << (128 - d) : 0);
        *sh_l = (d == 64 ? *sh_h : *sh_h >> (d - 64)) | (lost != 0);
        *sh_h = 0;
    } else if (d > 0) {
        uint64_t lost = *sh_l << (64 - d);
        *sh_l = (*sh_l >> d | *sh_h << (64 - d)) | (lost != 0);
        *sh_h >>= d;
    }
    uint64_t h, l;
    int neg;
    if (pneg == c.neg) {
        l = pl + cl;
        h = ph + ch + (l < pl);
        neg = pneg;
    } else {
        int p_bigger = ph > ch || (ph == ch && pl >= cl);
        uint64_t xh = p_bigger ? ph : ch, xl = p_bigger ? pl : cl, yh = p_bigger ? ch : ph, yl = p_bigger ? cl : pl;
        l = xl - yl;
        h = xh - yh - (xl < yl);
        neg = p_bigger ? pneg : c.neg;
    }
    if (h == 0 && l == 0) {
        sd_t z = { 0, 0, 0 };
        return z;
    }
    while (!(h >> 63)) {        // normalize in 128 bits, then round the top 64 with the rest as sticky
        h = h << 1 | l >> 63;
        l <<= 1;
        e--;
    }
    return sd_round(neg, h, e + 64, l != 0);
}

// Round to float (nearest even), subnormals included.
static float sd_to_float(sd_t a) {
    if (a.m == 0) {
        return 0.0f;
    }
    int fe = a.e + 52 + 127, sh = 29;               // float exponent field; dropped bits of a normal float
    if (fe <= 0) {
        sh = 30 - fe;
        fe = 0;
        if (sh > 60) {
            return a.neg ? -0.0f : 0.0f;
        }
    }
    uint64_t m = a.m >> sh, rem = a.m & (((uint64_t)1 << sh) - 1), half = (uint64_t)1 << (sh - 1);
    m += rem > half || (rem == half && (m & 1));
    uint64_t u = fe ? ((uint64_t)fe << 23) + m - ((uint64_t)1 << 23) : m;  // a carry raises the exponent
    u = u >= 0x7f800000 ? 0x7f800000 : u;
    return from_bits((uint32_t)u | (uint32_t)a.neg << 31);
}

// glibc's expf data (sysdeps/ieee754/flt-32/e_exp2f_data.c): tab[i] = bits(2^(i/32)) - (i << 47).
static const uint64_t exp2f_tab[32] = {
    0x3ff0000000000000u, 0x3fefd9b0d3158574u, 0x3fefb5586cf9890fu, 0x3fef9301d0125b51u,
    0x3fef72b83c7d517bu, 0x3fef54873168b9aau, 0x3fef387a6e756238u, 0x3fef1e9df51fdee1u,
    0x3fef06fe0a31b715u, 0x3feef1a7373aa9cbu, 0x3feedea64c123422u, 0x3feece086061892du,
    0x3feebfdad5362a27u, 0x3feeb42b569d4f82u, 0x3feeab07dd485429u, 0x3feea47eb03a5585u,
    0x3feea09e667f3bcdu, 0x3fee9f75e8ec5f74u, 0x3feea11473eb0187u, 0x3feea589994cce13u,
    0x3feeace5422aa0dbu, 0x3feeb737b0cdc5e5u, 0x3feec49182a3f090u, 0x3feed503b23e255du,
    0x3feee89f995ad3adu, 0x3feeff76f2fb5e47u, 0x3fef199bdd85529cu, 0x3fef3720dcef9069u,
    0x3fef5818dcfba487u, 0x3fef7c97337b9b5fu, 0x3fefa4afa2a490dau, 0x3fefd0765b6e4540u,
};

// glibc's expf (not correctly rounded: ~1 in 13000 results differ from the exact rounding), its double
// operations emulated step by step as the x86-64 build (FMA variant) runs them: exp(x) = 2^(k/32) * 2^(r/32),
// r in [-1/2, 1/2], cubic polynomial. Verified equal to glibc 2.36 for every float.
float tm_expf(float x) {
    bits_t b = { x };
    uint32_t abstop = (b.u >> 20) & 0x7ff;
    if (abstop >= 0x42b) {                          // |x| >= 88 or NaN
        if (b.u == 0xff800000u) {
            return 0.0f;
        }
        if (abstop >= 0x7f8) {
            return x + x;
        }
        if (x > 0x1.62e42ep6f) {
            return from_bits(0x7f800000);
        }
        if (x < -0x1.9fe368p6f) {
            return 0.0f;
        }
    }
    if ((b.u & 0x7fffffff) < 0x00800000) {
        return 1.0f;                                // zero or subnormal: exactly as glibc's 1 + tiny
    }
    const sd_t inv_ln2_n = sd_from_bits(0x40471547652b82feu);   // 32 / ln 2
    const sd_t c0 = sd_from_bits(0x3ebc6af84b912394u), c1 = sd_from_bits(0x3f2ebfce50fac4f3u);
    const sd_t c2 = sd_from_bits(0x3f962e42ff0c52d6u), one = sd_from_bits(0x3ff0000000000000u);
    sd_t xd = { (uint64_t)((b.u & 0x7fffff) | 0x800000) << 29, (int32_t)((b.u >> 23) & 0xff) - 150 - 29,
                (int32_t)(b.u >> 31) };
    // k = round(x * 32/ln2) to nearest even, and r = x * 32/ln2 - k, from the exact product (fused).
    const sd_t shift = sd_from_bits(0x4338000000000000u);      // 1.5 * 2^52: rounds to an integer
    sd_t kd = sd_fma(inv_ln2_n, xd, shift);                     // in [2^52, 2^53): unit exponent 0
    int64_t k = (int64_t)(kd.m << kd.e) - (int64_t)0x18000000000000;
    sd_t minus_k = sd_round(k > 0, (uint64_t)(k < 0 ? -k : k), 0, 0);
    sd_t r = sd_fma(inv_ln2_n, xd, minus_k);
    sd_t s = sd_from_bits(exp2f_tab[k & 31] + ((uint64_t)k << 47));
    sd_t zz = sd_fma(c0, r, c1);
    sd_t r2 = sd_mul(r, r);
    sd_t y = sd_fma(c2, r, one);
    y = sd_fma(zz, r2, y);
    return sd_to_float(sd_mul(y, s));
}

// fdlibm's expm1f (glibc's s_expm1f.c), float arithmetic only.
float tm_expm1f(float x) {
    const float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f, invln2 = 1.4426950216e+00f;
    const float Q1 = -3.3333335072e-02f, Q2 = 1.5873016091e-03f, Q3 = -7.9365076090e-05f,
                Q4 = 4.0082177293e-06f, Q5 = -2.0109921195e-07f;
    float y, hi, lo, c = 0.0f, t, e, hxs, hfx, r1, twopk;
    int32_t k;
    bits_t b = { x };
    uint32_t xsb = b.u & 0x80000000u, hx = b.u & 0x7fffffff;
    if (hx >= 0x4195b844) {                         // |x| >= 27 ln2
        if (hx >= 0x42b17218) {                     // |x| >= 88.721...
            if (hx > 0x7f800000) {
                return x + x;
            }
            if (hx == 0x7f800000) {
                return xsb == 0 ? x : -1.0f;
            }
            if (x > 8.8721679688e+01f) {
                return from_bits(0x7f800000);
            }
        }
        if (xsb != 0) {
            return -1.0f;
        }
    }
    if (hx > 0x3eb17218) {                          // |x| > 0.5 ln2
        if (hx < 0x3F851592) {                      // and |x| < 1.5 ln2
            if (xsb == 0) {
                hi = x - ln2_hi;
                lo = ln2_lo;
                k = 1;
            } else {
                hi = x + ln2_hi;
                lo = -ln2_lo;
                k = -1;
            }
        } else {
            k = (int32_t)(invln2 * x + (xsb == 0 ? 0.5f : -0.5f));
            t = (float)k;
            hi = x - t * ln2_hi;                    // exact
            lo = t * ln2_lo;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (hx < 0x33000000) {                   // |x| < 2^-25
        return x;
    } else {
        k = 0;
    }
    hfx = 0.5f * x;
    hxs = x * hfx;
    r1 = 1.0f + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    t = 3.0f - r1 * hfx;
    e = hxs * ((r1 - t) / (6.0f - x * t));
    if (k == 0) {
        return x - (x * e - hxs);
    }
    twopk = from_bits((uint32_t)(0x7f + k) << 23);
    e = (x * (e - c) - c);
    e -= hxs;
    if (k == -1) {
        return 0.5f * (x - e) - 0.5f;
    }
    if (k == 1) {
        return x < -0.25f ? -2.0f * (e - (x + 0.5f)) : 1.0f + 2.0f * (x - e);
    }
    if (k <= -2 || k > 56) {
        y = 1.0f - (e - x);
        y = k == 128 ? y * 2.0f * from_bits(0x7f000000) : y * twopk;
        return y - 1.0f;
    }
    if (k < 23) {
        t = from_bits(0x3f800000 - (0x1000000 >> k));   // 1 - 2^-k
        y = t - (e - x);
        y = y * twopk;
    } else {
        t = from_bits((uint32_t)(0x7f - k) << 23);      // 2^-k
        y = x - (e + t);
        y += 1.0f;
        y = y * twopk;
    }
    return y;
}

// fdlibm's tanhf (glibc's s_tanhf.c).
float tm_tanhf(float x) {
    bits_t b = { x };
    uint32_t ix = b.u & 0x7fffffff;
    float t, z;
    if (ix >= 0x7f800000) {
        return ix > 0x7f800000 ? x + x : (b.u >> 31 ? -1.0f : 1.0f);
    }
    if (ix < 0x41b00000) {                          // |x| < 22
        if (ix == 0) {
            return x;
        }
        if (ix < 0x24000000) {                      // |x| < 2^-55
            return x * (1.0f + x);
        }
        float ax = from_bits(ix);
        if (ix >= 0x3f800000) {                     // |x| >= 1
            t = tm_expm1f(2.0f * ax);
            z = 1.0f - 2.0f / (t + 2.0f);
        } else {
            t = tm_expm1f(-2.0f * ax);
            z = -t / (t + 2.0f);
        }
    } else {
        z = 1.0f;                                   // one - tiny rounds to one
    }
    return b.u >> 31 ? -z : z;
}

float tm_logisticf(float x) {
    if (x > 16.619047164916992188f) {
        return 1.0f;
    }
    if (x < -9.0f) {
        return tm_expf(x);
    }
    return 1.0f / (1.0f + tm_expf(-x));
}
