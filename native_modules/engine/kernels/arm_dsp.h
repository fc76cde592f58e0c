// Cortex-M4/M7 (armv7emsp) DSP helpers shared by the windowed kernels. Only compiled where the DSP
// extension exists; every other arch keeps the portable C loops.
//
// SXTB16 widens bytes 0 and 2 of a word to two int16 halves (with ROR #8, bytes 1 and 3); SXTAB16 does the
// same and adds a packed int16 pair, which subtracts the input zero point from both (|x - zi| <= 255).
// SMLAD adds the two 16x16 products of packed halves to an accumulator; SMLABB/SMLATT multiply only the
// bottom or top halves. All sums are exact int32 wrap-around sums, as in the C loops, so results are
// bit-exact whatever the order.
#ifndef TM_ARM_DSP_H
#define TM_ARM_DSP_H

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

// Four bytes from any address (one LDR: Cortex-M4 allows unaligned word loads, not LDRD/LDM).
static inline uint32_t tm_ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline int32_t tm_sxtb16(uint32_t v) {
    return (int32_t)__sxtb16((int8x4_t)v);
}

static inline int32_t tm_sxtb16_ror8(uint32_t v) {
    int32_t r;
    __asm__ ("sxtb16 %0, %1, ror #8" : "=r" (r) : "r" (v));
    return r;
}

static inline int32_t tm_sxtab16(int32_t a, uint32_t v) {
    return (int32_t)__sxtab16((int16x2_t)a, (int8x4_t)v);
}

static inline int32_t tm_sxtab16_ror8(int32_t a, uint32_t v) {
    int32_t r;
    __asm__ ("sxtab16 %0, %1, %2, ror #8" : "=r" (r) : "r" (a), "r" (v));
    return r;
}

static inline int32_t tm_smlad(int32_t a, int32_t b, int32_t acc) {
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

// -z in both int16 halves: SXTAB16's addend that turns int8 x into x - z.
static inline int32_t tm_neg_pair(int32_t z) {
    return (int32_t)(((uint32_t)-z & 0xffffu) * 0x10001u);
}

// Equal to tm_mbqm(x, M, s) (TFLM's MultiplyByQuantizedMultiplier) for M > 0, with both of TFLM's
// roundings folded into one 64-bit sum. For a right shift e = -s >= 1:
//   floor((floor((p + 2^30) / 2^31) + 2^(e-1) - [r < 0]) / 2^e) = (p + 2^30 + 2^(30+e) - [r < 0] 2^31) >> (31+e)
// with p = x * M and r the first rounding's result. r < 0 exactly when p < -2^30; for -2^30 <= p < 0 both
// forms give 0, so [x < 0] serves. The shift by 31 + e >= 32 is a shift of the high word alone.
static inline int32_t tm_mbqm_dsp(int32_t x, int32_t M, int32_t s) {
    if (s >= 0) {
        int64_t p = (int64_t)(int32_t)((uint32_t)x << s) * M + ((int64_t)1 << 30);
        return (int32_t)((uint32_t)(p >> 31));
    }
    const int32_t e = -s;
    int64_t p = (int64_t)x * M + (((int64_t)1 << 30) + ((int64_t)1 << (30 + e)) + ((int64_t)(x >> 31) << 31));
    return (int32_t)(p >> 32) >> (e - 1);
}
#endif

#endif
