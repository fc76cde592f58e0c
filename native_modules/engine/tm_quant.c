#include "tm_quant.h"

static int is_finite(float f) {
    union { float f; uint32_t u; } v = { f };
    return ((v.u >> 23) & 0xff) != 0xff;
}

// A finite float32 as mantissa * 2^exp with an integer mantissa (sign separate). Returns 0 for zero.
static uint32_t decompose(float f, int *exp, int *neg) {
    union { float f; uint32_t u; } v = { f };
    uint32_t bits = v.u;
    *neg = (int)(bits >> 31);
    int e = (int)((bits >> 23) & 0xff);
    uint32_t m = bits & 0x7fffff;
    if (e == 0) {
        *exp = -149;                // subnormal
        return m;
    }
    *exp = e - 150;
    return m | 0x800000;
}

static int top_bit(uint64_t x) {
    int b = -1;
    while (x) {
        x >>= 1;
        b++;
    }
    return b;
}

int tm_quantize_ratio(float n1, float n2, float d1, float d2, int32_t *multiplier, int *shift) {
    // Valid models give shifts in [-31, 30]; anything else (a corrupt or absurd scale) would make the
    // int32 shifts of the kernels undefined, so it is refused here for every kernel at once.
    return tm_quantize_ratio_raw(n1, n2, d1, d2, multiplier, shift) && *shift <= 30 && *shift >= -31;
}

int tm_quantize_ratio_raw(float n1, float n2, float d1, float d2, int32_t *multiplier, int *shift) {
    int e_n1, e_n2, e_d1, e_d2, s_n1, s_n2, s_d1, s_d2;
    uint64_t num = (uint64_t)decompose(n1, &e_n1, &s_n1) * decompose(n2, &e_n2, &s_n2);
    uint64_t den = (uint64_t)decompose(d1, &e_d1, &s_d1) * decompose(d2, &e_d2, &s_d2);
    *multiplier = 0;
    *shift = 0;
    if (den == 0 || !is_finite(n1) || !is_finite(n2) || !is_finite(d1) || !is_finite(d2)) {
        return 0;
    }
    if (num == 0) {
        return 1;
    }
    // value = num/den * 2^exp; bring num and den to the same bit width (bit 50) so 1/2 < num/den < 2.
    int exp = e_n1 + e_n2 - e_d1 - e_d2;
    int tn = top_bit(num), td = top_bit(den);
    num <<= 50 - tn;
    den <<= 50 - td;
    exp += tn - td;
    return tm_quantize_quotient(num, den, exp, s_n1 ^ s_n2 ^ s_d1 ^ s_d2, multiplier, shift);
}

static int32_t quantize_bound(float f, float scale, int32_t zero_point) {
    // Tiny, zero or NaN scales would leave int32 range (undefined in C); such bounds saturate anyway.
    float q = f / scale;
    q = q > 1e6f ? 1e6f : (q > -1e6f ? q : -1e6f);
    zero_point = zero_point > 1000000 ? 1000000 : (zero_point < -1000000 ? -1000000 : zero_point);
    return zero_point + tm_round_f32(q);
}

static int32_t max_i32(int32_t a, int32_t b) {
    return a > b ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b) {
    return a < b ? a : b;
}

// TFLM's CalculateActivationRangeQuantized: the fused activation's bounds quantized with the output's scale and
// zero point, within the type's range [qmin, qmax]. One copy (noinline): inlined into both wrappers it cost
// every module 880 bytes of Cortex-M4 code (the int16 copy, kept even in builds without int16 kernels).
__attribute__((noinline))
static void activation_range_q(int activation, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
    int32_t *lo, int32_t *hi) {
    *lo = qmin;
    *hi = qmax;
    if (activation == TM_ACT_RELU) {
        *lo = max_i32(qmin, quantize_bound(0.0f, scale, zero_point));
    } else if (activation == TM_ACT_RELU6) {
        *lo = max_i32(qmin, quantize_bound(0.0f, scale, zero_point));
        *hi = min_i32(qmax, quantize_bound(6.0f, scale, zero_point));
    } else if (activation == TM_ACT_RELU_N1_TO_1) {
        *lo = max_i32(qmin, quantize_bound(-1.0f, scale, zero_point));
        *hi = min_i32(qmax, quantize_bound(1.0f, scale, zero_point));
    }
}

void tm_activation_range_int8(int activation, float scale, int32_t zero_point, int32_t *lo, int32_t *hi) {
    activation_range_q(activation, scale, zero_point, -128, 127, lo, hi);
}

void tm_activation_range_int16(int activation, float scale, int32_t zero_point, int32_t *lo, int32_t *hi) {
    activation_range_q(activation, scale, zero_point, -32768, 32767, lo, hi);
}

void tm_activation_range_f32(int activation, float *lo, float *hi) {
    *lo = -3.402823466e38f;
    *hi = 3.402823466e38f;
    if (activation == TM_ACT_RELU) {
        *lo = 0.0f;
    } else if (activation == TM_ACT_RELU6) {
        *lo = 0.0f;
        *hi = 6.0f;
    } else if (activation == TM_ACT_RELU_N1_TO_1) {
        *lo = -1.0f;
        *hi = 1.0f;
    }
}
