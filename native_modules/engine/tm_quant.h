// TFLite/TFLM int8 quantization arithmetic (double rounding, as TFLM builds it), in integers only:
// multipliers are derived from the float32 scales exactly as TFLM's double maths would, without using
// double (Cortex-M4 and ESP32 have single-precision FPUs, Cortex-M0 none, and native modules get no libgcc).
#ifndef TM_QUANT_H
#define TM_QUANT_H

#include <stdint.h>

// Saturating rounding doubling high multiply (gemmlowp SRDHM, ARM VQRDMULH).
static inline int32_t tm_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
}

// Rounding divide by 2^e, half away from zero.
static inline int32_t tm_rdbpot(int32_t x, int e) {
    int32_t mask = (int32_t)((1u << e) - 1);
    int32_t rem = x & mask;
    int32_t thr = (mask >> 1) + (x < 0);
    return (x >> e) + (rem > thr);
}

// x * M * 2^(s-31), rounded as TFLM's MultiplyByQuantizedMultiplier.
static inline int32_t tm_mbqm(int32_t x, int32_t M, int s) {
    int left = s > 0 ? s : 0;
    int right = s > 0 ? 0 : -s;
    return tm_rdbpot(tm_srdhm((int32_t)((uint32_t)x << left), M), right);
}

// x * M * 2^(s-31) for an int64 x, as TFLM's int64 MultiplyByQuantizedMultiplier (the 16x8 kernels' int64
// accumulators; TFLM's default double-rounding build): M is first rounded to 16 bits, then one rounding right
// shift by 15 - s, and the result truncated to int32 as TFLM's is. Needs s <= 14 (callers refuse larger
// shifts at load: TFLM would shift by a negative amount); the products wrap (-fwrapv) where TFLM's overflow.
static inline int32_t tm_mbqm64(int64_t x, int32_t M, int s) {
    const int32_t m16 = M < 0x7FFF0000 ? (M + (1 << 15)) >> 16 : 0x7FFF;
    const int total = 15 - s;
    return (int32_t)((x * m16 + ((int64_t)1 << (total - 1))) >> total);
}

static inline int32_t tm_clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

// QuantizeMultiplier of the double-precision value (n1*n2)/(d1*d2), computed bit-exactly in integers.
// Products of two float32 are exact in double; the quotient is rounded to nearest-even at 53 bits like
// an IEEE double division, then to 31 bits half away from zero. Returns 0 (kernels then refuse the model)
// when a scale is 0, infinite or NaN, or the shift falls outside [-31, 30] as in no valid model.
int tm_quantize_ratio(float n1, float n2, float d1, float d2, int32_t *multiplier, int *shift);
// The same without the range check, for callers that clamp the value themselves (SOFTMAX).
int tm_quantize_ratio_raw(float n1, float n2, float d1, float d2, int32_t *multiplier, int *shift);
// Their common last step, QuantizeMultiplier of the exact value num / den * 2^exp (negated if neg): the quotient
// rounded to 53 bits (nearest even, an IEEE double division), then to 31 bits half away from zero; 1/2 < num/den
// < 2 and num, den below 2^62 (callers bring both to one top bit). Returns 1; a multiplier below 2^-31 leaves
// *multiplier and *shift as they are (callers set them to 0 first: TFLM flushes it to zero).
// (static inline: a call would cost the int8 builds, which use it once, more code than they save)
static inline int tm_quantize_quotient(uint64_t num, uint64_t den, int exp, int neg, int32_t *multiplier, int *shift) {
    if (num < den) {
        num <<= 1;
        exp -= 1;
    }
    // Long division: 54 quotient bits (53 + a guard bit), then round to nearest even with the remainder.
    uint64_t q = 0, r = num;
    for (int i = 0; i < 54; i++) {
        q <<= 1;
        if (r >= den) {
            r -= den;
            q |= 1;
        }
        r <<= 1;
    }
    uint64_t q53 = q >> 1;
    if ((q & 1) && (r != 0 || (q53 & 1))) {
        q53++;
    }
    if (q53 >> 53) {
        q53 >>= 1;
        exp++;
    }
    // value = q53 * 2^(exp-52), q53 in [2^52, 2^53): frexp gives mantissa q53/2^53 and exponent exp+1.
    int e = exp + 1;
    uint64_t m = (q53 + ((uint64_t)1 << 21)) >> 22;
    if (m == ((uint64_t)1 << 31)) {
        m >>= 1;
        e++;
    }
    if (e < -31) {
        return 1;                   // TFLM flushes tiny multipliers to zero
    }
    *multiplier = neg ? -(int32_t)m : (int32_t)m;
    *shift = e;
    return 1;
}

// Fused activation range of an int8 output (RELU, RELU6, RELU_N1_TO_1, or the full range).
void tm_activation_range_int8(int activation, float scale, int32_t zero_point, int32_t *lo, int32_t *hi);
// The same for an int16 output (16x8 kernels): TFLM's formula with the int16 limits.
void tm_activation_range_int16(int activation, float scale, int32_t zero_point, int32_t *lo, int32_t *hi);
void tm_activation_range_f32(int activation, float *lo, float *hi);

// C roundf (half away from zero) without libm, valid for |x| < 2^31.
static inline int32_t tm_round_f32(float x) {
    return x >= 0 ? (int32_t)(x + 0.5f) - ((float)(int32_t)(x + 0.5f) - x > 0.5f)
                  : (int32_t)(x - 0.5f) + (x - (float)(int32_t)(x - 0.5f) > 0.5f);
}

enum { TM_ACT_NONE = 0, TM_ACT_RELU = 1, TM_ACT_RELU_N1_TO_1 = 2, TM_ACT_RELU6 = 3 };

#endif
