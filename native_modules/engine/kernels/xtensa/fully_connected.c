// FULLY_CONNECTED's int8 path for Xtensa cores with the MAC16 option (ESP32, ESP32-S3), in the opt-in build
// of kernels/xtensa/ (tinyml.build's xtensa_mac16). Each weight is used once per invoke, so widening the
// weights to int16 for MAC16's memory operands would cost what it saves; instead both operands come from
// address registers (mula.aa.ll: the 40-bit accumulator adds a 16 x 16-bit product), four per pass of a
// zero-overhead loop: 6 instructions per MAC where the portable loop compiles to about 11 on Xtensa.
// ACCLO is the exact sum's low 32 bits: the portable kernel's wrapping int32 sum, so results are bit-exact.
// Requantization is requant.h's (one MULSH and one MULL, exact) when prepare finds that its proof covers every
// unit (xt_fast), else tm_mbqm.
#define TM_ARCH_KERNEL 1
#define TM_ARCH_PARAMS int32_t xt_fast;
#include "../fully_connected.c"
#include "requant.h"
#include "zero_overhead_loop.h"

#ifndef __XTENSA__
#error "kernels/xtensa/fully_connected.c is for Xtensa cores with the MAC16 option"
#endif

static void arch_prepare(const shape_t *s, fc_params_t *fp) {
    const int per_channel = s->w->n_scales > 1;
    const int32_t *bias = s->bias ? (const int32_t *)s->bias->data : 0;
    fp->xt_fast = 1;
    for (int32_t o = 0; o < s->units; o++) {
        const unit_params_t *q = &fp->unit[per_channel ? o : 0];
        if (!xt_rq_covers(q->multiplier, q->shift) || xt_acc_bound(bias ? bias[o] : 0, s->depth) >= (1u << 30)) {
            fp->xt_fast = 0;
        }
    }
}

// sum(w[d] * (x[d] - zi)) over d < depth. The loop's body starts 4-aligned (zero_overhead_loop.h).
static int32_t mac16_fc_dot(const int8_t *w, const int8_t *x, int32_t depth, int32_t zi) {
    int32_t acc = 0, wv, xv;
    const int8_t *wp = w, *xp = x;
    __asm__ volatile(
        "wsr.acclo %[acc]\n\t"
        "wsr.acchi %[acc]\n\t"
        XT_LOOP_ALIGN
        "loopnez %[n], 1f\n\t"
        "l8ui %[wv], %[wp], 0\n\t"
        "sext %[wv], %[wv], 7\n\t"
        "l8ui %[xv], %[xp], 0\n\t"
        "sext %[xv], %[xv], 7\n\t"
        "sub %[xv], %[xv], %[zi]\n\t"
        "mula.aa.ll %[wv], %[xv]\n\t"
        "l8ui %[wv], %[wp], 1\n\t"
        "sext %[wv], %[wv], 7\n\t"
        "l8ui %[xv], %[xp], 1\n\t"
        "sext %[xv], %[xv], 7\n\t"
        "sub %[xv], %[xv], %[zi]\n\t"
        "mula.aa.ll %[wv], %[xv]\n\t"
        "l8ui %[wv], %[wp], 2\n\t"
        "sext %[wv], %[wv], 7\n\t"
        "l8ui %[xv], %[xp], 2\n\t"
        "sext %[xv], %[xv], 7\n\t"
        "sub %[xv], %[xv], %[zi]\n\t"
        "mula.aa.ll %[wv], %[xv]\n\t"
        "l8ui %[wv], %[wp], 3\n\t"
        "sext %[wv], %[wv], 7\n\t"
        "l8ui %[xv], %[xp], 3\n\t"
        "sext %[xv], %[xv], 7\n\t"
        "sub %[xv], %[xv], %[zi]\n\t"
        "mula.aa.ll %[wv], %[xv]\n\t"
        "addi %[wp], %[wp], 4\n\t"
        "addi %[xp], %[xp], 4\n\t"
        "1:\n\t"
        "rsr.acclo %[acc]\n\t"
        : [acc] "+r"(acc), [wp] "+r"(wp), [xp] "+r"(xp), [wv] "=&r"(wv), [xv] "=&r"(xv)
        : [n] "r"(depth >> 2), [zi] "r"(zi)
        : "memory");
    for (int32_t d = depth & ~3; d < depth; d++) {
        acc += w[d] * (x[d] - zi);
    }
    return acc;
}

static void arch_eval_int8(const shape_t *s, const fc_params_t *fp) {
    const unit_params_t *p = fp->unit;
    const int per_channel = s->w->n_scales > 1;
    const int8_t *w = (const int8_t *)s->w->data;
    const int32_t *bias = s->bias ? (const int32_t *)s->bias->data : 0;
    int8_t *y = (int8_t *)s->out->data;
    const int32_t zi = s->in->zero_point, zo = s->out->zero_point, lo = fp->act_lo, hi = fp->act_hi;
    const int32_t batches = s->batches, units = s->units, depth = s->depth;
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *x = (const int8_t *)s->in->data + b * depth;
        for (int32_t o = 0; o < units; o++) {
            const int32_t acc = mac16_fc_dot(w + o * depth, x, depth, zi) + (bias ? bias[o] : 0);
            const unit_params_t *q = &p[per_channel ? o : 0];
            const int32_t v = fp->xt_fast ? xt_rq_fast(acc, q->multiplier, xt_rq_const(-q->shift, zo), -q->shift)
                                          : tm_mbqm(acc, q->multiplier, q->shift) + zo;
            y[o] = (int8_t)tm_clamp(v, lo, hi);
        }
        y += units;
    }
}
