// Cortex-M4/M7 (armv7emsp) DSP helpers shared by this folder's kernels (kernels/cortex_m4/), which the build
// compiles only for armv7emsp; every other arch keeps the portable C loops of kernels/<op>.c.
//
// SXTB16 widens bytes 0 and 2 of a word to two int16 halves (with ROR #8, bytes 1 and 3); SXTAB16 does the
// same and adds a packed int16 pair, which subtracts the input zero point from both (|x - zi| <= 255).
// SMLAD adds the two 16x16 products of packed halves to an accumulator; SMLABB/SMLATT multiply only the
// bottom or top halves. All sums are exact int32 wrap-around sums, as in the C loops, so results are
// bit-exact whatever the order.
#ifndef TM_ARM_DSP_H
#define TM_ARM_DSP_H

#include "../../tm_internal.h"

#ifndef __ARM_FEATURE_DSP
#error "arm_dsp.h needs the Cortex-M4 DSP extension (armv7emsp)"
#endif

#include <arm_acle.h>
#include <stddef.h>
#include <string.h>

// Assembly that reads a C struct names each offset it uses (TM_STR puts it into the assembly text) and checks
// it against the struct when compiling: a changed layout fails the build instead of reading the wrong word.
// Structs loaded whole with LDM are checked field by field, in register order.
#define TM_STR_(x) #x
#define TM_STR(x) TM_STR_(x)
#define TM_ASM_OFFSET(type, field, offset) \
    _Static_assert(offsetof(type, field) == (offset), #type "." #field " is not at byte " #offset)
#define TM_ASM_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof(" #type ") is not " #size)

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

// Requantization of int32 sums, equal to tm_mbqm(x, M, s) (TFLM's MultiplyByQuantizedMultiplier) for
// M > 0. For a right shift e = -s >= 1 both of TFLM's roundings fold into one 64-bit sum:
//   floor((floor((p + 2^30) / 2^31) + 2^(e-1) - [r < 0]) / 2^e) = (p + 2^30 + 2^(30+e) - [r < 0] 2^31) >> (31+e)
// with p = x * M and r the first rounding's result. r < 0 exactly when p < -2^30; for -2^30 <= p < 0 both
// forms give 0, so [x < 0] serves, and -[x < 0] 2^31 is one more SMLAL of (x >>> 31) by INT32_MIN. The
// shift by 31 + e >= 32 is a shift of the high word alone. The constants depend on the channel only.
typedef struct {
    int32_t M, s;           // TFLM's multiplier and shift
    uint32_t k_lo;          // low and high words of 2^30 + 2^(30+e) (right shifts)
    int32_t k_hi;
} tm_rq_t;

static inline tm_rq_t tm_rq(int32_t M, int32_t s) {
    tm_rq_t q;
    q.M = M;
    q.s = s;
    const uint32_t pe = 1u << (s < 0 ? -s : 0);
    q.k_lo = 0x40000000u | ((pe & 2u) << 30);   // + 2^31 when e == 1
    q.k_hi = (int32_t)(pe >> 2);                 // 2^(e-2) when e >= 2
    return q;
}

static inline int32_t tm_rq_apply(int32_t x, const tm_rq_t *q) {
    if (q->s >= 0) {
        int64_t p = (int64_t)(int32_t)((uint32_t)x << q->s) * q->M + ((int64_t)1 << 30);
        return (int32_t)(p >> 31);
    }
    uint32_t lo = q->k_lo;
    int32_t hi = q->k_hi;
    const int32_t sign = (int32_t)((uint32_t)x >> 31);
    __asm__ ("smlal %0, %1, %2, %3\n\t"
             "smlal %0, %1, %4, %5"
             : "+&r" (lo), "+&r" (hi) : "r" (x), "r" (q->M), "r" (sign), "r" (INT32_MIN));
    return hi >> (-q->s - 1);
}

// Requantized x + zo clamped to [lo, hi]. `full` (a constant where inlined) says [lo, hi] is all of int8,
// the common case (no activation, or ReLU with Z_out = -128), where one SSAT clamps.
__attribute__((always_inline))
static inline int32_t tm_rq_out(int32_t x, const tm_rq_t *q, int32_t zo, int32_t lo, int32_t hi, int full) {
    const int32_t v = tm_rq_apply(x, q) + zo;
    if (full) {
        return __ssat(v, 8);
    }
    return v < lo ? lo : (v > hi ? hi : v);
}

static inline int32_t tm_mbqm_dsp(int32_t x, int32_t M, int32_t s) {
    const tm_rq_t q = tm_rq(M, s);
    return tm_rq_apply(x, &q);
}

// ---- FULLY_CONNECTED and ADD: requantization of a doubled sum with one SMMLAR ----
// For a right shift e = -s in [1, 22] and |x| < 2^30, tm_mbqm(x, M, s) + zo (see tm_rq_apply) is
//   floor((p + 2^30 + 2^(30+e) + zo 2^(31+e) - [x < 0] 2^31) / 2^(31+e)),  p = x M.
// Doubled, the part of the constant below 2^32 is exactly SMMLAR's rounding 2^31, so
//   = floor(SMMLAR(2x, M, c - [x < 0]) / 2^e)  with c = 2^(e-1) + zo 2^e
// (SMMLAR: (Ra 2^32 + Rn Rm + 2^31) >> 32, exact in 64 bits). e <= 22 keeps c and the result inside int32.
typedef struct {
    int32_t M;              // TFLM's multiplier
    int32_t c;              // 2^(e-1) + zo 2^e
    int32_t e;              // right shift, 1..22
} tm_rq2_t;

// 1 if tm_rq2 can represent (M, s): M > 0 and a right shift of 1 to 22.
static inline int tm_rq2_ok(int32_t M, int32_t s) {
    return M > 0 && s <= -1 && s >= -22;
}

static inline tm_rq2_t tm_rq2(int32_t M, int32_t s, int32_t zo) {
    tm_rq2_t q;
    q.M = M;
    q.e = -s;
    q.c = (int32_t)((1u << (q.e - 1)) + ((uint32_t)zo << q.e));
    return q;
}

// tm_mbqm(x, M, s) + zo from x2 = 2x.
__attribute__((always_inline))
static inline int32_t tm_rq2_apply(int32_t x2, const tm_rq2_t *q) {
    int32_t h;
    __asm__ ("smmlar %0, %1, %2, %3" : "=r" (h) : "r" (x2), "r" (q->M), "r" (q->c + (x2 >> 31)));
    return h >> q->e;
}

// tm_mbqm(x, M, s) + zo for |x| < 2^30 (the doubling in the same asm: LSL, ADD with ASR #31, SMMLAR).
__attribute__((always_inline))
static inline int32_t tm_rq2_apply_sum(int32_t x, const tm_rq2_t *q) {
    int32_t x2, ra, h;
    __asm__ ("lsl    %[x2], %[x], #1\n\t"
             "add    %[ra], %[c], %[x2], asr #31\n\t"
             "smmlar %[h], %[x2], %[M], %[ra]"
             : [x2] "=&r" (x2), [ra] "=&r" (ra), [h] "=r" (h) : [x] "r" (x), [c] "r" (q->c), [M] "r" (q->M));
    return h >> q->e;
}

// CONV_2D (cortex_m4/conv_2d.c): the primitives of its short requantization.
// acc + the high word of a * b, rounded: (acc * 2^32 + a * b + 2^31) >> 32 computed in 64 bits.
static inline int32_t tm_smmlar(int32_t a, int32_t b, int32_t acc) {
    int32_t r;
    __asm__ ("smmlar %0, %1, %2, %3" : "=r" (r) : "r" (a), "r" (b), "r" (acc));
    return r;
}

// v >> (s & 0xff), arithmetic: ASR by register uses only the low byte of s, so s may carry other bits.
static inline int32_t tm_asr_low_byte(int32_t v, int32_t s) {
    int32_t r;
    __asm__ ("asr %0, %1, %2" : "=r" (r) : "r" (v), "r" (s));
    return r;
}

// DEPTHWISE_CONV_2D (cortex_m4/depthwise_conv_2d.c, K x 1 / 1 x K lines): SMLAD loops over int16 planes, where word i
// of a plane holds positions (2i, 2i + 1), and the requantization of their doubled sums. A channel's record
// wp holds per tap pair j the even-aligned filter word at wp[2j] and the odd-aligned one at wp[2j + 1], then
// M, c and e of tm_rq2 (see tm_rq2_apply). n >= 1 pairs. The results are int8 (SSAT), not yet clamped.
// Requantizes sum A with M in %[x0], c in %[x1], e in %[e] (%[d] a temporary).
#define TM_DW_RQ(A) "add     %[d], %[x1], %[" A "], asr #31\n\t"                                            \
                    "smmlar  %[" A "], %[" A "], %[x0], %[d]\n\t"                                           \
                    "asr     %[" A "], %[" A "], %[e]\n\t"                                                  \
                    "ssat    %[" A "], #8, %[" A "]\n\t"
#define TM_DW_RQ_LOAD "ldrd    %[x0], %[x1], [%[wp]]\n\t" "ldr     %[e], [%[wp], #8]\n\t"
#define TM_DW_PAIRS_OPERANDS                                                                             \
    : [a0] "+r" (a0), [a1] "+r" (a1), [xp] "+r" (xp), [wp] "+r" (wp), [n] "+r" (n), [x0] "=&r" (x0),        \
      [x1] "=&r" (x1), [e] "=&r" (e), [d] "=&r" (d)                                                         \
    :                                                                                                        \
    : "cc", "memory"

// Two outputs: stride 1 (odd = 1: a1 the next output, from the odd-aligned words of the same plane word)
// or stride 2 (odd = 0: a1 reads the next plane word with the even-aligned words).
__attribute__((always_inline))
static inline void tm_dw_pairs2(const uint32_t *xp, const uint32_t *wp, int32_t n, int32_t *acc, int odd) {
    int32_t a0 = acc[0], a1 = acc[1];
    uint32_t x0, x1, e, d;
    if (odd) {
        __asm__ ("1:\n\t"
                 "ldr     %[x0], [%[xp]], #4\n\t"
                 "ldrd    %[e], %[d], [%[wp]], #8\n\t"
                 "smlad   %[a0], %[x0], %[e], %[a0]\n\t"
                 "smlad   %[a1], %[x0], %[d], %[a1]\n\t"
                 "subs    %[n], %[n], #1\n\t"
                 "bne     1b\n\t"
                 TM_DW_RQ_LOAD TM_DW_RQ("a0") TM_DW_RQ("a1")
                 TM_DW_PAIRS_OPERANDS);
    } else {
        __asm__ ("1:\n\t"
                 "ldrd    %[x0], %[x1], [%[xp]], #4\n\t"
                 "ldr     %[e], [%[wp]], #8\n\t"
                 "smlad   %[a0], %[x0], %[e], %[a0]\n\t"
                 "smlad   %[a1], %[x1], %[e], %[a1]\n\t"
                 "subs    %[n], %[n], #1\n\t"
                 "bne     1b\n\t"
                 TM_DW_RQ_LOAD TM_DW_RQ("a0") TM_DW_RQ("a1")
                 TM_DW_PAIRS_OPERANDS);
    }
    acc[0] = a0;
    acc[1] = a1;
}
#undef TM_DW_RQ
#undef TM_DW_RQ_LOAD
#undef TM_DW_PAIRS_OPERANDS

#endif
