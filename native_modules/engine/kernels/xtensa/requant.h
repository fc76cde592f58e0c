// Requantization for the Xtensa kernels (kernels/xtensa/): TFLM's MultiplyByQuantizedMultiplier plus Z_out
// (tm_mbqm(x, M, s) + zo, ../../tm_quant.h) from one MULSH and one MULL, where tm_mbqm's 64-bit rounding costs
// about 30 instructions on Xtensa. Plain C: LLVM turns the 32 x 32 -> 64-bit product into MULL (low word) and
// MULSH (high word, the ESP32's MUL32HIGH option), and the same C builds on the host, where
// tests/test_qemu_xtensa.py checks it against tm_mbqm on edge values (test_xtensa_requant_equals_tflm).
//
// Why it is exact. Let M > 0, e = -s in [1, 22], |x| < 2^30, p = x M. TFLM computes
//   r = SRDHM(x, M) = floor((p + 2^30) / 2^31)                (no saturation: M > 0)
//   RDBPOT(r, e) = floor((r + 2^(e-1) - [r < 0]) / 2^e)       (half away from zero)
// 1. r from the doubled sum: with x2 = 2x (exact for |x| < 2^30), 2p = x2 M = H 2^32 + L (H = MULSH(x2, M)
//    signed, L = MULL(x2, M) unsigned), r = floor((2p + 2^31) / 2^32) = H + floor((L + 2^31) / 2^32)
//    = H + (L >> 31), because 0 <= L < 2^32.
// 2. [r < 0] may be replaced by [x < 0]: they differ only when x < 0 and r = 0 (M > 0 makes p and x share
//    their sign, and r < 0 implies p < 0); then floor((0 + 2^(e-1) - 1) / 2^e) = 0 = floor(2^(e-1) / 2^e).
// 3. Z_out enters the division as zo 2^e: RDBPOT(r, e) + zo = floor((r + c - [x < 0]) / 2^e) with
//    c = 2^(e-1) + zo 2^e, one arithmetic shift right.
// No int32 overflows: |r| <= |x| M / 2^31 + 1 <= 2^30, |c| <= 2^21 + 128 * 2^22 = 2^29 + 2^21, so
// |r + c - 1| < 2^31. A channel outside these bounds (s >= 0, e > 22, or a bias that can take |x| to 2^30)
// keeps tm_mbqm (xt_rq's e = 0).
#ifndef TM_XTENSA_REQUANT_H
#define TM_XTENSA_REQUANT_H

#include <stdint.h>
#include "../../tm_quant.h"

typedef struct {
    int32_t M;      // TFLM's multiplier
    int32_t c;      // 2^(e-1) + Z_out 2^e
    int32_t e;      // right shift 1..22, or 0: this channel takes tm_mbqm
    int32_t s;      // TFLM's shift (for tm_mbqm)
} xt_rq_t;

// The largest |x| a layer's sums can reach: |bias| + n products of |w| <= 128 and |x - Z_in| <= 255. Saturates
// at 2^31 (then no channel takes the fast path).
static inline uint32_t xt_acc_bound(int32_t bias, int32_t n) {
    const uint32_t b = bias < 0 ? 0u - (uint32_t)bias : (uint32_t)bias;
    const uint32_t per = 255u * 128u;
    if ((uint32_t)n > (1u << 31) / per) {
        return 1u << 31;
    }
    const uint32_t sum = b + (uint32_t)n * per;
    return sum < b ? 1u << 31 : sum;
}

// 1 if the proof covers multiplier M and shift s (the caller checks |x| < 2^30 with xt_acc_bound).
static inline int xt_rq_covers(int32_t M, int32_t s) {
    return M > 0 && s <= -1 && s >= -22;
}

// 2^(e-1) + zo 2^e.
static inline int32_t xt_rq_const(int32_t e, int32_t zo) {
    return (int32_t)((1u << (e - 1)) + ((uint32_t)zo << e));
}

// tm_mbqm(x, M, -e) + zo, c = xt_rq_const(e, zo), within the proof's bounds: MULSH, MULL and 8 more.
static inline int32_t xt_rq_fast(int32_t x, int32_t M, int32_t c, int32_t e) {
    const int64_t p = (int64_t)(int32_t)((uint32_t)x << 1) * M;
    const int32_t r = (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    return (r + c - (int32_t)((uint32_t)x >> 31)) >> e;
}

// The constants of one channel; `bound` is xt_acc_bound of its sums.
static inline xt_rq_t xt_rq(int32_t M, int32_t s, int32_t zo, uint32_t bound) {
    xt_rq_t q;
    q.M = M;
    q.s = s;
    q.e = (xt_rq_covers(M, s) && bound < (1u << 30)) ? -s : 0;
    q.c = q.e ? xt_rq_const(q.e, zo) : zo;
    return q;
}

// tm_mbqm(x, M, s) + zo for a channel the proof does not cover (out of line: it is rare and large).
__attribute__((noinline)) static int32_t xt_rq_slow(int32_t x, const xt_rq_t *q) {
    return tm_mbqm(x, q->M, q->s) + q->c;
}

// tm_mbqm(x, M, s) + zo (not clamped).
static inline int32_t xt_rq_apply(int32_t x, const xt_rq_t *q) {
    if (q->e == 0) {
        return xt_rq_slow(x, q);
    }
    return xt_rq_fast(x, q->M, q->c, q->e);
}

#endif
