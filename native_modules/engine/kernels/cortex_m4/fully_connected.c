// FULLY_CONNECTED on Cortex-M4/M7 (armv7emsp): the DSP-extension fast path of the int8 kernel, partly
// assembly.
//
// The build compiles this file instead of kernels/fully_connected.c for armv7emsp (not for `tinyml pack
// --small`). It includes that portable kernel, which keeps the parsing, checks, prepare and float32 path, and
// supplies its hooks arch_prepare and arch_eval_int8 (at the end of this file). Same integers as the portable
// path, so no tolerance (docs/architecture.md).
#if !defined(__ARM_FEATURE_DSP) || defined(TM_SMALL)
#error "kernels/cortex_m4/ needs the Cortex-M4 DSP extension (armv7emsp) and is left out of small builds"
#endif
#define TM_ARCH_KERNEL 1
#include "arm_dsp.h"

// Which loop the layer takes, chosen once by arch_prepare.
enum { FC_GENERAL = 0, FC_FAST_ANY = 1, FC_FAST_16 = 2 };
#define TM_ARCH_PARAMS                                                                                      \
    int32_t path;           /* FC_GENERAL, FC_FAST_ANY or FC_FAST_16 */                                     \
    tm_rq2_t rq;            /* the fast paths' requantization (with Z_out) */
#include "../fully_connected.c"

// Cortex-M4/M7 (armv7emsp) DSP instructions: four units per pass over the input, which is read in place:
// each word of four inputs is widened once by SXTAB16 (adding -Z_in to both halves, |x - Z_in| <= 255) and
// serves the four weight rows, whose words SXTB16 widens in place too, so no scratch is needed; SMLAD adds
// two 16x16 products: 23 instructions per 16 MACs. The rows are w0, w0 + st, w2, w2 + st, so two pointers
// and a stride (LDR with a register offset, then post-increment) address them: 4 sums, 3 pointers and the
// stride, the offset pair and 4 temporaries take 13 of the 14 registers. The int32 sums equal the C loop's
// (both wrap modulo 2^32).
#define FC_ROW(a, wld)                                                                                       \
        "ldr     %[wv], " wld "\n\t"                                                                         \
        "sxtb16  %[wt], %[wv]\n\t"                                                                           \
        "sxtb16  %[wv], %[wv], ror #8\n\t"                                                                   \
        "smlad   %[" a "], %[x02], %[wt], %[" a "]\n\t"                                                      \
        "smlad   %[" a "], %[x13], %[wv], %[" a "]\n\t"
#define FC_STEP                                                                                              \
        "ldr     %[wt], [%[x]], #4\n\t"                                                                      \
        "sxtab16 %[x02], %[off], %[wt]\n\t"                                                                  \
        "sxtab16 %[x13], %[off], %[wt], ror #8\n\t"                                                          \
        FC_ROW("a1", "[%[w0], %[st]]")                                                                       \
        FC_ROW("a0", "[%[w0]], #4")                                                                          \
        FC_ROW("a3", "[%[w2], %[st]]")                                                                       \
        FC_ROW("a2", "[%[w2]], #4")
#define FC_OUTPUTS                                                                                           \
        : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), [w0] "+r" (w0),      \
          [w2] "+r" (w2), [x02] "=&r" (x02), [x13] "=&r" (x13), [wv] "=&r" (wv), [wt] "=&r" (wt)
#define FC_INPUTS : [off] "r" (off), [st] "r" (st)
#define FC_CLOBBERS : "cc", "memory"

// acc[j] += sum over depth of row j times (x - zi), rows w0, w0 + st, w2, w2 + st. `any_depth` (a
// constant where inlined) is 0 when depth is known to be a multiple of 16: no remainder steps.
__attribute__((always_inline))
static inline void fc_dot4(const int8_t *w0, const int8_t *w2, int32_t st, const int8_t *x, int32_t depth,
    int32_t zi, int32_t acc[4], int any_depth) {
    const int32_t off = tm_neg_pair(zi);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int32_t n = depth >> 2;
    uint32_t x02, x13, wv, wt;
    if (any_depth && (n & 1)) {
        __asm__ (FC_STEP FC_OUTPUTS FC_INPUTS FC_CLOBBERS);
    }
    if (any_depth && (n & 2)) {
        __asm__ (FC_STEP FC_STEP FC_OUTPUTS FC_INPUTS FC_CLOBBERS);
    }
    if (!any_depth || (n >> 2)) {
        // Sixteen inputs per iteration, until x reaches its end (kept in memory: no register is left).
        const int8_t *end = x + 16 * (n >> 2);
        __asm__ ("1:\n\t" FC_STEP FC_STEP FC_STEP FC_STEP
                 "ldr     %[wt], %[end]\n\t"
                 "cmp     %[x], %[wt]\n\t"
                 "bne     1b"
                 FC_OUTPUTS FC_INPUTS, [end] "m" (end) FC_CLOBBERS);
    }
    for (int32_t d = 0; any_depth && d < (depth & 3); d++) {
        const int32_t v = x[d] - zi;
        a0 += w0[d] * v;
        a1 += w0[st + d] * v;
        a2 += w2[d] * v;
        a3 += w2[st + d] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
// The same for two rows w0, w0 + st (the last one or two units: 13 instructions per 8 MACs).
#define FC_STEP2                                                                                             \
        "ldr     %[wt], [%[x]], #4\n\t"                                                                      \
        "sxtab16 %[x02], %[off], %[wt]\n\t"                                                                  \
        "sxtab16 %[x13], %[off], %[wt], ror #8\n\t"                                                          \
        FC_ROW("a1", "[%[w0], %[st]]")                                                                       \
        FC_ROW("a0", "[%[w0]], #4")
__attribute__((always_inline))
static inline void fc_dot2(const int8_t *w0, int32_t st, const int8_t *x, int32_t depth, int32_t zi,
    int32_t acc[2]) {
    const int32_t off = tm_neg_pair(zi);
    int32_t a0 = acc[0], a1 = acc[1];
    int32_t n = depth >> 2;
    uint32_t x02, x13, wv, wt;
    if (n & 1) {
        __asm__ (FC_STEP2
                 : [a0] "+r" (a0), [a1] "+r" (a1), [x] "+r" (x), [w0] "+r" (w0), [x02] "=&r" (x02),
                   [x13] "=&r" (x13), [wv] "=&r" (wv), [wt] "=&r" (wt)
                 FC_INPUTS FC_CLOBBERS);
    }
    n >>= 1;
    if (n) {
        __asm__ ("1:\n\t" FC_STEP2 FC_STEP2 "subs %[n], %[n], #1\n\t" "bne 1b"
                 : [a0] "+r" (a0), [a1] "+r" (a1), [x] "+r" (x), [w0] "+r" (w0), [n] "+r" (n),
                   [x02] "=&r" (x02), [x13] "=&r" (x13), [wv] "=&r" (wv), [wt] "=&r" (wt)
                 FC_INPUTS FC_CLOBBERS);
    }
    for (int32_t d = 0; d < (depth & 3); d++) {
        const int32_t v = x[d] - zi;
        a0 += w0[d] * v;
        a1 += w0[st + d] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
}
#undef FC_STEP2
#undef FC_ROW
#undef FC_STEP
#undef FC_OUTPUTS
#undef FC_INPUTS
#undef FC_CLOBBERS

// Sums of units o..o+left-1 (left = 1..4) in acc[0..left-1]: rows o..o+3, or o, o+1, o+1, o+2 for three
// (one pointer and a stride still address them, never past the last row), or two rows. A function of its
// own: the DSP block takes 13 of the 14 registers, and GCC finds no allocation for it inside a larger
// loop body.
__attribute__((noinline))
static void fc_group_sums(const int8_t *w, const int32_t *bias, const int8_t *x, int32_t o, int32_t left,
    int32_t depth, int32_t zi, int32_t acc[4]) {
    if (left <= 2) {
        // two rows (o twice when left == 1)
        const int32_t r1 = left == 2 ? o + 1 : o;
        int32_t a[2] = { bias ? bias[o] : 0, bias ? bias[r1] : 0 };
        fc_dot2(w + o * depth, (r1 - o) * depth, x, depth, zi, a);
        acc[0] = a[0];
        acc[1] = a[1];
        return;
    }
    const int32_t r1 = o + 1, r2 = left == 4 ? o + 2 : o + 1, r3 = left == 4 ? o + 3 : o + 2;
    int32_t a[4] = { 0, 0, 0, 0 };
    if (bias) {
        a[0] = bias[o];
        a[1] = bias[r1];
        a[2] = bias[r2];
        a[3] = bias[r3];
    }
    fc_dot4(w + o * depth, w + r2 * depth, depth, x, depth, zi, a, 1);
    acc[0] = a[0];
    acc[1] = a[1];
    acc[2] = left == 4 ? a[2] : a[3];      // row o+2 is the last one when left == 3
    acc[3] = a[3];
}

// Sums of units o..o+3, from their biases.
__attribute__((always_inline))
static inline void fc_sums4(const int8_t *w, const int32_t *bias, const int8_t *x, int32_t o, int32_t depth,
    int32_t zi, int32_t acc[4], int any_depth) {
    acc[0] = acc[1] = acc[2] = acc[3] = 0;
    if (bias) {
        acc[0] = bias[o];
        acc[1] = bias[o + 1];
        acc[2] = bias[o + 2];
        acc[3] = bias[o + 3];
    }
    const int8_t *w0 = w + o * depth;
    fc_dot4(w0, w0 + 2 * depth, depth, x, depth, zi, acc, any_depth);
}

// Per-tensor weights, sums below 2^30, shift in tm_rq2's range and no clamp beyond int8 (ad01 and every
// reference model): 6 instructions per unit after its sum (tm_rq2 on the doubled sum, SSAT).
__attribute__((always_inline))
static inline void fc_rows_fast(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, const tm_rq2_t *rq, int any_depth) {
    int32_t o = 0;
    for (; o + 4 <= units; o += 4) {
        int32_t acc[4];
        fc_sums4(w, bias, x, o, depth, zi, acc, any_depth);
        y[o] = (int8_t)__ssat(tm_rq2_apply_sum(acc[0], rq), 8);
        y[o + 1] = (int8_t)__ssat(tm_rq2_apply_sum(acc[1], rq), 8);
        y[o + 2] = (int8_t)__ssat(tm_rq2_apply_sum(acc[2], rq), 8);
        y[o + 3] = (int8_t)__ssat(tm_rq2_apply_sum(acc[3], rq), 8);
    }
    if (o < units) {
        int32_t acc[4];
        fc_group_sums(w, bias, x, o, units - o, depth, zi, acc);
        for (int32_t j = 0; j < units - o; j++) {
            y[o + j] = (int8_t)__ssat(tm_rq2_apply_sum(acc[j], rq), 8);
        }
    }
}

__attribute__((noinline))
static void fc_rows_fast_any(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, tm_rq2_t rq) {
    fc_rows_fast(w, bias, x, y, units, depth, zi, &rq, 1);
}

__attribute__((noinline))
static void fc_rows_fast_16(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, tm_rq2_t rq) {
    fc_rows_fast(w, bias, x, y, units, depth, zi, &rq, 0);
}

// Any weights and activation: per unit tm_rq (two SMLAL) and a clamp to [lo, hi].
__attribute__((noinline))
static void fc_rows_general(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, int32_t zo, int32_t lo, int32_t hi, const unit_params_t *p, int per_channel) {
    for (int32_t o = 0; o < units; o += 4) {
        int32_t acc[4];
        const int32_t left = units - o < 4 ? units - o : 4;
        fc_group_sums(w, bias, x, o, left, depth, zi, acc);
        for (int32_t j = 0; j < left; j++) {
            const unit_params_t *q = &p[per_channel ? o + j : 0];
            const tm_rq_t rq = tm_rq(q->multiplier, q->shift);
            y[o + j] = (int8_t)tm_rq_out(acc[j], &rq, zo, lo, hi, 0);
        }
    }
}

// ---- The hooks of kernels/fully_connected.c ----

// The fast paths take per-tensor weights, sums below 2^30 in magnitude (|bias| + depth * 255 * 128, so
// tm_rq2 can requantize doubled sums), a shift in tm_rq2's range and no clamp beyond int8 (ad01 and every
// reference model); depth a multiple of 16 needs no remainder steps.
static void arch_prepare(const shape_t *s, fc_params_t *fp) {
    const unit_params_t *p = fp->unit;
    // |x - Z_in| <= 255 and |w| <= 128 (int64 bound: depth may be large)
    const int64_t bound = (int64_t)s->depth * 255 * 128;
    int64_t max_bias = 0;
    for (int32_t o = 0; s->bias && o < s->units; o++) {
        const int64_t b = ((const int32_t *)s->bias->data)[o];
        max_bias = b < 0 ? (-b > max_bias ? -b : max_bias) : (b > max_bias ? b : max_bias);
    }
    const int fast = s->w->n_scales <= 1 && bound + max_bias < ((int64_t)1 << 30) &&
                     tm_rq2_ok(p->multiplier, p->shift) && fp->act_lo == -128 && fp->act_hi == 127;
    fp->path = !fast ? FC_GENERAL : (s->depth & 15) == 0 ? FC_FAST_16 : FC_FAST_ANY;
    fp->rq = tm_rq2(fast ? p->multiplier : 1, fast ? p->shift : -1, s->out->zero_point);
}

static void arch_eval_int8(const shape_t *s, const fc_params_t *fp) {
    const int8_t *w = (const int8_t *)s->w->data;
    const int32_t *bias = s->bias ? (const int32_t *)s->bias->data : 0;
    int8_t *y = (int8_t *)s->out->data;
    const int32_t zi = s->in->zero_point;
    for (int32_t b = 0; b < s->batches; b++) {
        const int8_t *x = (const int8_t *)s->in->data + b * s->depth;
        if (fp->path == FC_FAST_16) {
            fc_rows_fast_16(w, bias, x, y, s->units, s->depth, zi, fp->rq);
        } else if (fp->path == FC_FAST_ANY) {
            fc_rows_fast_any(w, bias, x, y, s->units, s->depth, zi, fp->rq);
        } else {
            fc_rows_general(w, bias, x, y, s->units, s->depth, zi, s->out->zero_point, fp->act_lo, fp->act_hi,
                fp->unit, s->w->n_scales > 1);
        }
        y += s->units;
    }
}
