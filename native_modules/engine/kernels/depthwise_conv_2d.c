// DEPTHWISE_CONV_2D: int8 (per-channel or per-tensor filter) and float32, depth multiplier, dilation.
// tinyml-op: DEPTHWISE_CONV_2D 4
//
// Filter [1, KH, KW, Cout] with Cout = Cin * dm; output channel oc = ic * dm + m reads input channel ic.
// int8: for each output pixel, blocks of eight output channels keep their accumulators in registers while
// the taps are visited; within a block the channels are contiguous in both filter and input (dm == 1) or
// share one input value (dm > 1), so the compiler vectorizes the block. Taps outside the image are skipped,
// as TFLM does; integer sums make the order irrelevant.
#include "spatial_common.h"
#include "arm_dsp.h"

enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_DEPTH_MULTIPLIER = 3, OPT_ACTIVATION = 4,
       OPT_DILATION_W = 5, OPT_DILATION_H = 6 };

#define LANES 8

typedef struct {
    int32_t act_lo, act_hi;
    tm_channel_q_t q[];
} params_t;

typedef struct {
    tm_tensor_t *in, *w, *bias, *out;
    tm_window_t g;
    int32_t dm;
} dw_t;

static tm_status_t get_dw(tm_model_t *m, tm_node_t *n, dw_t *c) {
    if (tm_expect_io(m, n, 2, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    c->in = tm_in(m, n, 0);
    c->w = tm_in(m, n, 1);
    c->bias = tm_in(m, n, 2);
    c->out = tm_out(m, n, 0);
    if (c->w->ndim != 4 || c->w->dims[0] != 1) {
        return tm_fail(m, "filter must be 4-D [1, KH, KW, Cout]");
    }
    tm_window_t *g = &c->g;
    g->k_h = c->w->dims[1];
    g->k_w = c->w->dims[2];
    g->stride_h = tm_opt_i32(m, n, OPT_STRIDE_H, 0);
    g->stride_w = tm_opt_i32(m, n, OPT_STRIDE_W, 0);
    g->dil_h = tm_opt_i32(m, n, OPT_DILATION_H, 1);
    g->dil_w = tm_opt_i32(m, n, OPT_DILATION_W, 1);
    if (tm_window_init(m, g, c->in, c->out, tm_opt_u8(m, n, OPT_PADDING, TM_PAD_SAME)) != TM_OK) {
        return TM_ERROR;
    }
    c->dm = tm_opt_i32(m, n, OPT_DEPTH_MULTIPLIER, 0);
    if (c->w->dims[3] != g->out_c) {
        return tm_fail(m, "filter has %d channels, output has %d", c->w->dims[3], g->out_c);
    }
    // TFLM only DCHECKs this; a wrong multiplier would make it index past the filter.
    if (c->dm < 1 || (int64_t)g->in_c * c->dm != g->out_c) {
        return tm_fail(m, "depth multiplier %d: %d input channels cannot give %d output channels", c->dm,
            g->in_c, g->out_c);
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    dw_t c = { 0 };
    if (get_dw(m, n, &c) != TM_OK || tm_check_bias(m, c.bias, c.g.out_c) != TM_OK) {
        return TM_ERROR;
    }
    if (c.in->type == TM_FLOAT32) {
        if (tm_expect_type(m, c.w, TM_FLOAT32, "filter") || tm_expect_type(m, c.out, TM_FLOAT32, "output") ||
            (c.bias && tm_expect_type(m, c.bias, TM_FLOAT32, "bias"))) {
            return TM_ERROR;
        }
        return TM_OK;
    }
    if (tm_check_int8_conv(m, c.in, c.w, c.bias, c.out, c.g.out_c) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(params_t) + (uint32_t)c.g.out_c * sizeof(tm_channel_q_t);
#if defined(__ARM_FEATURE_DSP)
    // Multiplier 1 or a multiple of 4: the filter widened to int16 pairs, one input pointer per tap, and a row of Z_in.
    if (c.dm == 1 || (c.dm & 3) == 0) {
        const uint32_t taps = (uint32_t)(c.g.k_h * c.g.k_w), cout4 = (uint32_t)(c.g.out_c & ~3);
        req->scratch_bytes = taps * cout4 * sizeof(int16_t) + (uint32_t)c.g.out_c * sizeof(tm_rq_t) +
                             taps * sizeof(int8_t *) + cout4;
    }
#endif
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    dw_t c = { 0 };
    get_dw(m, n, &c);
    if (c.in->type == TM_FLOAT32) {
        return TM_OK;
    }
    params_t *p = tm_persistent(m, n);
    tm_activation_range_int8(tm_opt_u8(m, n, OPT_ACTIVATION, 0), c.out->scale, c.out->zero_point, &p->act_lo,
        &p->act_hi);
    return tm_channel_q_prepare(m, p->q, c.in, c.w, c.out, c.g.out_c);
}

// Valid tap range [k0, k1) along one dimension for a window starting at `start` (TFLM skips the others).
static void tap_range(int32_t start, int32_t k, int32_t dil, int32_t size, int32_t *k0, int32_t *k1) {
    int32_t a = 0, b = k;
    while (a < b && start + a * dil < 0) {
        a++;
    }
    while (b > a && start + (b - 1) * dil >= size) {
        b--;
    }
    *k0 = a;
    *k1 = b;
}

static void requant_store(const params_t *p, const int32_t *bias, int32_t oc, const int32_t *acc, int32_t count,
    int32_t zo, int8_t *y) {
    for (int32_t j = 0; j < count; j++) {
        int32_t a = acc[j] + (bias ? bias[oc + j] : 0);
        const tm_channel_q_t *q = &p->q[oc + j];
        y[oc + j] = (int8_t)tm_clamp(tm_mbqm(a, q->multiplier, q->shift) + zo, p->act_lo, p->act_hi);
    }
}

#if defined(__ARM_FEATURE_DSP)
// Cortex-M4/M7, multiplier 1: four channels per pass over the taps. One word of input holds four channels;
// SXTAB16 splits it into channels (0, 2) and (1, 3) as int16 x - Z_in, and SMLABB/SMLATT accumulate each
// half against the same split of the filter. The filter is widened once per call into scratch, laid out
// [channel block][tap][2 words] so that a block's taps are consecutive: each tap then costs one LDR, one
// LDRD, two SXTAB16 and four multiply-accumulates.
static void widen_filter(const int8_t *w, int32_t taps, int32_t cout, uint32_t *wide) {
    for (int32_t c = 0; c + 4 <= cout; c += 4) {
        for (int32_t t = 0; t < taps; t++) {
            const uint32_t v = tm_ld32(w + t * cout + c);
            *wide++ = (uint32_t)tm_sxtb16(v);
            *wide++ = (uint32_t)tm_sxtb16_ror8(v);
        }
    }
}

// Four channels' products over all taps, from per-tap input pointers (taps outside the image point at a row
// of Z_in, which contributes 0) and the block's widened filter wp. Nine taps (3x3) are unrolled.
__attribute__((always_inline))
static inline void dw_block4(const int8_t *const *tp, int32_t taps, int32_t c0, const uint32_t *wp, int32_t off,
    int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#define DW_TAP(k)                                                                                            \
    do {                                                                                                     \
        const uint32_t v = tm_ld32(tp[k] + c0);                                                              \
        const int32_t x02 = tm_sxtab16(off, v), x13 = tm_sxtab16_ror8(off, v);                               \
        a0 = __smlabb(x02, (int32_t)wp[2 * (k)], a0);                                                        \
        a2 = __smlatt(x02, (int32_t)wp[2 * (k)], a2);                                                        \
        a1 = __smlabb(x13, (int32_t)wp[2 * (k) + 1], a1);                                                    \
        a3 = __smlatt(x13, (int32_t)wp[2 * (k) + 1], a3);                                                    \
    } while (0)
    if (taps == 9) {
        // GCC schedules the unrolled C badly (spills, reloads), so each tap is one block of assembly.
        uint32_t v, x02, w02, w13;
#define DW_TAP_ASM(k)                                                                                        \
        __asm__ ("ldr     %[v], [%[tp], #4*" #k "]\n\t"                                                       \
                 "ldr     %[v], [%[v], %[c0]]\n\t"                                                           \
                 "ldrd    %[w02], %[w13], [%[wp], #8*" #k "]\n\t"                                          \
                 "sxtab16 %[x02], %[off], %[v]\n\t"                                                         \
                 "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                                   \
                 "smlabb  %[a0], %[x02], %[w02], %[a0]\n\t"                                                 \
                 "smlatt  %[a2], %[x02], %[w02], %[a2]\n\t"                                                 \
                 "smlabb  %[a1], %[v], %[w13], %[a1]\n\t"                                                   \
                 "smlatt  %[a3], %[v], %[w13], %[a3]"                                                       \
                 : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [v] "=&r" (v),         \
                   [x02] "=&r" (x02), [w02] "=&r" (w02), [w13] "=&r" (w13)                                 \
                 : [tp] "r" (tp), [c0] "r" (c0), [wp] "r" (wp), [off] "r" (off)                            \
                 : "memory")
        DW_TAP_ASM(0); DW_TAP_ASM(1); DW_TAP_ASM(2); DW_TAP_ASM(3); DW_TAP_ASM(4); DW_TAP_ASM(5);
        DW_TAP_ASM(6); DW_TAP_ASM(7); DW_TAP_ASM(8);
#undef DW_TAP_ASM
    } else {
        for (int32_t k = 0; k < taps; k++) {
            DW_TAP(k);
        }
    }
#undef DW_TAP
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

// Multiplier a multiple of four: the four channels of a block read one input channel, so its value x - Z_in
// goes into both halves of one word and meets the filter's halves as above. Only the valid taps are visited
// (nky rows of nkx from xp, the widened filter from wp), without the per-tap pointers, which would cost more
// than they save for the large windows and few channels such layers have.
__attribute__((noinline))
static void dw_block4_dm(const int8_t *xp, const uint32_t *wp, int32_t nky, int32_t nkx, int32_t xstep,
    int32_t ystep, int32_t wskip, int32_t zi, int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (; nky > 0; nky--) {
        const int8_t *xq = xp;
        for (int32_t kx = nkx; kx > 0; kx--) {
            const int32_t v = *xq - zi;
            xq += xstep;
            const int32_t xx = (int32_t)(((uint32_t)v & 0xffffu) | ((uint32_t)v << 16));
            const int32_t w02 = (int32_t)wp[0], w13 = (int32_t)wp[1];
            wp += 2;
            a0 = __smlabb(xx, w02, a0);
            a2 = __smlatt(xx, w02, a2);
            a1 = __smlabb(xx, w13, a1);
            a3 = __smlatt(xx, w13, a3);
        }
        xp += ystep;
        wp += wskip;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

__attribute__((always_inline))
static inline void dw_pixels_dsp(const dw_t *c, const params_t *p, uint32_t *scratch, int8_t *y, int full,
    int multi) {
    const tm_window_t *g = &c->g;
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi;
    const int32_t cout = g->out_c, cout4 = cout & ~3, off = tm_neg_pair(zi), taps = g->k_h * g->k_w;
    const int32_t dm = c->dm;   // multi: a multiple of 4 (then cout4 == cout, no channel is left over), else 1
    const uint32_t *wide = scratch;
    // Requantization constants per channel, computed once here rather than per output.
    tm_rq_t *rq = (tm_rq_t *)(scratch + (taps * cout4 >> 1));
    for (int32_t i = 0; i < cout; i++) {
        rq[i] = tm_rq(p->q[i].multiplier, p->q[i].shift);
    }
    const int8_t **tp = (const int8_t **)(rq + cout);
    int8_t *zrow = (int8_t *)(tp + taps);
    for (int32_t i = 0; i < cout4; i++) {
        zrow[i] = (int8_t)zi;
    }
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                if (multi) {
                    int32_t ky0, ky1, kx0, kx1;
                    tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
                    tap_range(x0, g->k_w, g->dil_w, g->in_w, &kx0, &kx1);
                    const int8_t *xt = x + ((b * g->in_h + y0 + ky0 * g->dil_h) * g->in_w + x0 + kx0 * g->dil_w) * g->in_c;
                    const int32_t t0 = ky0 * g->k_w + kx0, wskip = 2 * (g->k_w - (kx1 - kx0));
                    for (int32_t c0 = 0; c0 < cout; c0 += 4) {
                        int32_t acc[4] = { 0, 0, 0, 0 };
                        if (bias) {
                            memcpy(acc, bias + c0, sizeof(acc));
                        }
                        dw_block4_dm(xt + c0 / dm, wide + (c0 >> 1) * taps + 2 * t0, ky1 - ky0, kx1 - kx0,
                            g->dil_w * g->in_c, g->dil_h * g->in_w * g->in_c, wskip, zi, acc);
                        for (int j = 0; j < 4; j++) {
                            y[c0 + j] = (int8_t)tm_rq_out(acc[j], &rq[c0 + j], zo, lo, hi, full);
                        }
                    }
                    y += cout;
                    continue;
                }
                for (int32_t ky = 0, k = 0; ky < g->k_h; ky++) {
                    const int32_t iy = y0 + ky * g->dil_h;
                    for (int32_t kx = 0; kx < g->k_w; kx++, k++) {
                        const int32_t ix = x0 + kx * g->dil_w;
                        const int in = iy >= 0 && iy < g->in_h && ix >= 0 && ix < g->in_w;
                        tp[k] = in ? x + ((b * g->in_h + iy) * g->in_w + ix) * g->in_c : zrow;
                    }
                }
                for (int32_t c0 = 0; c0 < cout4; c0 += 4) {
                    int32_t acc[4] = { 0, 0, 0, 0 };
                    if (bias) {
                        memcpy(acc, bias + c0, sizeof(acc));
                    }
                    // Taps pointing at the Z_in row read it at c0 too, so it spans cout4 bytes.
                    dw_block4(tp, taps, c0, wide + (c0 >> 1) * taps, off, acc);
                    y[c0] = (int8_t)tm_rq_out(acc[0], &rq[c0], zo, lo, hi, full);
                    y[c0 + 1] = (int8_t)tm_rq_out(acc[1], &rq[c0 + 1], zo, lo, hi, full);
                    y[c0 + 2] = (int8_t)tm_rq_out(acc[2], &rq[c0 + 2], zo, lo, hi, full);
                    y[c0 + 3] = (int8_t)tm_rq_out(acc[3], &rq[c0 + 3], zo, lo, hi, full);
                }
                // Channels past the last multiple of four, one at a time (taps outside are skipped).
                for (int32_t c1 = cout4; c1 < cout; c1++) {
                    int32_t a = 0;
                    for (int32_t k = 0; k < taps; k++) {
                        if (tp[k] != zrow) {
                            a += w[k * cout + c1] * (tp[k][c1] - zi);   // multiplier 1 only
                        }
                    }
                    requant_store(p, bias, c1, &a, 1, zo, y);
                }
                y += cout;
            }
        }
    }
}
#endif

static tm_status_t eval_int8(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    int8_t *y = (int8_t *)c->out->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point;
    const int32_t cin = g->in_c, cout = g->out_c, dm = c->dm;
#if defined(__ARM_FEATURE_DSP)
    if (dm == 1 || (dm & 3) == 0) {
        uint32_t *wide = tm_scratch(m, n);
        widen_filter(w, g->k_h * g->k_w, cout, wide);
        // Specialised copies (the flags are constants once inlined) for the common cases.
        const int full = p->act_lo == -128 && p->act_hi == 127;
        if (dm != 1) {
            dw_pixels_dsp(c, p, wide, y, full, 1);
        } else if (full) {
            dw_pixels_dsp(c, p, wide, y, 1, 0);
        } else {
            dw_pixels_dsp(c, p, wide, y, 0, 0);
        }
        return TM_OK;
    }
#endif
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                int32_t kx0, kx1;
                tap_range(x0, g->k_w, g->dil_w, g->in_w, &kx0, &kx1);
                // Index of tap (0, 0), which may lie outside the image: only valid taps are read.
                const int32_t base = ((b * g->in_h + y0) * g->in_w + x0) * cin;
                int32_t acc[LANES];
                if (dm == 1) {
                    int32_t c0 = 0;
                    for (; c0 + LANES <= cout; c0 += LANES) {
                        for (int j = 0; j < LANES; j++) {
                            acc[j] = 0;
                        }
                        for (int32_t ky = ky0; ky < ky1; ky++) {
                            for (int32_t kx = kx0; kx < kx1; kx++) {
                                const int8_t *xp = x + (base + (ky * g->dil_h * g->in_w + kx * g->dil_w) * cin + c0);
                                const int8_t *wp = w + (ky * g->k_w + kx) * cout + c0;
                                for (int j = 0; j < LANES; j++) {
                                    acc[j] += wp[j] * (xp[j] - zi);
                                }
                            }
                        }
                        requant_store(p, bias, c0, acc, LANES, zo, y);
                    }
                    for (; c0 < cout; c0++) {
                        int32_t a = 0;
                        for (int32_t ky = ky0; ky < ky1; ky++) {
                            for (int32_t kx = kx0; kx < kx1; kx++) {
                                const int8_t *xp = x + (base + (ky * g->dil_h * g->in_w + kx * g->dil_w) * cin);
                                a += w[(ky * g->k_w + kx) * cout + c0] * (xp[c0] - zi);
                            }
                        }
                        requant_store(p, bias, c0, &a, 1, zo, y);
                    }
                } else {
                    for (int32_t ic = 0; ic < cin; ic++) {
                        for (int32_t m0 = 0; m0 < dm; m0 += LANES) {
                            const int32_t count = dm - m0 < LANES ? dm - m0 : LANES;
                            const int32_t oc = ic * dm + m0;
                            for (int j = 0; j < LANES; j++) {
                                acc[j] = 0;
                            }
                            for (int32_t ky = ky0; ky < ky1; ky++) {
                                for (int32_t kx = kx0; kx < kx1; kx++) {
                                    const int32_t xv =
                                        x[base + (ky * g->dil_h * g->in_w + kx * g->dil_w) * cin + ic] - zi;
                                    const int8_t *wp = w + (ky * g->k_w + kx) * cout + oc;
                                    if (count == LANES) {
                                        for (int j = 0; j < LANES; j++) {
                                            acc[j] += wp[j] * xv;
                                        }
                                    } else {
                                        for (int32_t j = 0; j < count; j++) {
                                            acc[j] += wp[j] * xv;
                                        }
                                    }
                                }
                            }
                            requant_store(p, bias, oc, acc, count, zo, y);
                        }
                    }
                }
                y += cout;
            }
        }
    }
    return TM_OK;
}

// Float: TFLM's reference order per output channel (taps in ky, kx order, then + bias).
static tm_status_t eval_float(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    const tm_window_t *g = &c->g;
    float lo, hi;
    tm_activation_range_f32(tm_opt_u8(m, n, OPT_ACTIVATION, 0), &lo, &hi);
    const float *x = (const float *)c->in->data;
    const float *w = (const float *)c->w->data;
    const float *bias = c->bias ? (const float *)c->bias->data : 0;
    float *y = (float *)c->out->data;
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                for (int32_t ic = 0; ic < g->in_c; ic++) {
                    for (int32_t mm = 0; mm < c->dm; mm++) {
                        const int32_t oc = ic * c->dm + mm;
                        float total = 0.0f;
                        for (int32_t ky = 0; ky < g->k_h; ky++) {
                            const int32_t iy = y0 + ky * g->dil_h;
                            for (int32_t kx = 0; kx < g->k_w; kx++) {
                                const int32_t ix = x0 + kx * g->dil_w;
                                if (iy >= 0 && iy < g->in_h && ix >= 0 && ix < g->in_w) {
                                    total += x[((b * g->in_h + iy) * g->in_w + ix) * g->in_c + ic] *
                                             w[(ky * g->k_w + kx) * g->out_c + oc];
                                }
                            }
                        }
                        float v = total + (bias ? bias[oc] : 0.0f);
                        v = v < lo ? lo : v;
                        *y++ = v > hi ? hi : v;
                    }
                }
            }
        }
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    dw_t c = { 0 };
    get_dw(m, n, &c);
    return c.in->type == TM_FLOAT32 ? eval_float(m, n, &c) : eval_int8(m, n, &c);
}

int tm_kernel_depthwise_conv_2d(tm_kernel_t *k) {
    k->name = "DEPTHWISE_CONV_2D";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
