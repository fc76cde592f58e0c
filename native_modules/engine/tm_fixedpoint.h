// gemmlowp-style fixed-point functions used by TFLM's int8 SOFTMAX, LOGISTIC and TANH.
// Raw int32 values; Q(k) means k integer bits. Written from the formulas in TFLM's arithmetic, not its code.
#ifndef TM_FIXEDPOINT_H
#define TM_FIXEDPOINT_H

#include "tm_quant.h"

static inline int32_t tm_sat_shl(int32_t x, int e) {
    int32_t lim = (int32_t)((1u << (31 - e)) - 1);
    if (x > lim) {
        return INT32_MAX;
    }
    if (x < -lim) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << e);
}

// Rescale between Q formats: from `from` integer bits to `to` integer bits.
static inline int32_t tm_rescale(int32_t x, int from, int to) {
    int k = from - to;
    return k > 0 ? tm_sat_shl(x, k) : (k < 0 ? tm_rdbpot(x, -k) : x);
}

// exp(a) for a in [-1/4, 0), Q0 in and out.
static inline int32_t tm_exp_interval(int32_t a) {
    const int32_t c = 1895147668;           // exp(-1/8)
    int32_t x = a + (1 << 28);              // a + 1/8
    int32_t x2 = tm_srdhm(x, x);
    int32_t x3 = tm_srdhm(x2, x);
    int32_t x4 = tm_srdhm(x2, x2);
    int32_t t = tm_rdbpot(tm_srdhm(tm_rdbpot(x4, 2) + x3, 715827883) + x2, 1);
    return c + tm_srdhm(c, x + t);
}

// exp(a) for a <= 0 in Q(k); result in Q0.
static inline int32_t tm_exp_neg(int32_t a, int k) {
    int frac = 31 - k;
    int32_t quarter = (int32_t)(1u << (frac - 2));
    int32_t m = (a & (quarter - 1)) - quarter;
    int32_t res = tm_exp_interval(tm_sat_shl(m, k));
    int32_t rem = m - a;
    // exp(-2^j) for j = -2..4, applied for each set bit of the remainder.
    static const int32_t consts[7] = { 1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242 };
    for (int j = -2; j <= 4; j++) {
        if (k > j && frac + j < 32 && (rem & (int32_t)(1u << (frac + j)))) {
            res = tm_srdhm(res, consts[j + 2]);
        }
    }
    if (k > 5 && a < -(int32_t)(1u << (36 - k))) {
        res = 0;
    }
    return a == 0 ? INT32_MAX : res;
}

// 1/(1+a) for a in [0,1) Q0; the Newton-Raphson iteration of gemmlowp. `minus_one_over` selects
// (1-a)/(1+a) instead.
static inline int32_t tm_recip_iter(int32_t a, int one_minus_over_one_plus) {
    int64_t s = (int64_t)a + INT32_MAX;
    int32_t h = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tm_srdhm(h, -1010580540);
    for (int i = 0; i < 3; i++) {
        int32_t hx = tm_srdhm(h, x);
        int32_t one_minus = (1 << 29) - hx;
        x = x + tm_sat_shl(tm_srdhm(x, one_minus), 2);
    }
    return one_minus_over_one_plus ? tm_sat_shl(x - (1 << 29), 2) : tm_sat_shl(x, 1);
}

// 1/v for v a Q(ib) value; returns the Q0 reciprocal mantissa and the exponent in *nbou.
static inline int32_t tm_reciprocal(int32_t v, int ib, int *nbou) {
    uint32_t u = (uint32_t)v;
    int z = 0;
    while (z < 32 && !(u & 0x80000000u)) {
        u <<= 1;
        z++;
    }
    *nbou = ib - z;
    int32_t m = (int32_t)(((uint32_t)v << z) - 0x80000000u);
    return tm_recip_iter(m, 0);
}

#endif
