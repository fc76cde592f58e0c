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

#if defined(__ARM_FEATURE_DSP)
// The DSP path's case of one input channel (see dw_cin1_dsp).
static int dw_cin1_ok(const dw_t *c) {
    return c->g.in_c == 1 && c->g.dil_w == 1 && (c->g.k_w & 3) == 0 && (c->g.out_c & 3) == 0;
}

#endif

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
    // Multiplier 1: a table of tap offsets and one block's widened filter (a multiple of 4 needs none).
    if (c.dm == 1) {
        req->scratch_bytes = (uint32_t)(c.g.k_h * c.g.k_w) * (sizeof(int32_t) + 2u * sizeof(uint32_t));
    } else if ((c.dm & 3) == 0 && dw_cin1_ok(&c)) {
        // Two channels' widened filter and a staged window.
        req->scratch_bytes = (uint32_t)(c.g.k_h * c.g.k_w) * (2u * sizeof(int16_t) + 1u);
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
// Cortex-M4/M7: the output channels are visited in blocks of four, each block over all output pixels, so
// that its filter, requantization constants and bias stay at hand. One word of input holds four channels
// (multiplier 1); SXTAB16 splits it into channels (0, 2) and (1, 3) as int16 x - Z_in, and SMLABB/SMLATT
// accumulate each half against the same split of the filter. The block's filter is widened once into
// scratch ([tap][2 words], 8 bytes per tap), so the scratch is small: the per-channel constants are not
// tabulated and the filter is never widened whole. Pixels whose window lies inside the image read their
// taps at fixed offsets from the window's corner (a table of taps words); the others visit only the valid
// taps, as TFLM does (integer sums make the order irrelevant).

// Output positions [lo, hi) along one dimension whose whole window lies inside the input (hi >= lo).
static void interior_range(int32_t pad, int32_t stride, int32_t keff, int32_t in, int32_t out, int32_t *lo,
    int32_t *hi) {
    int32_t a = (pad + stride - 1) / stride, t = in - 1 + pad - keff;
    int32_t b = t < 0 ? 0 : t / stride + 1;
    a = a < out ? a : out;
    b = b < out ? b : out;
    *lo = a;
    *hi = b < a ? a : b;
}

// Four channels' products over all taps of an interior window at xb (tap offsets toff, widened filter wp).
__attribute__((always_inline))
static inline void dw_taps4(const int8_t *xb, const int32_t *toff, const uint32_t *wp, int32_t taps,
    int32_t off, int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (taps == 9) {
        // GCC schedules the unrolled C badly (spills, reloads), so each tap is one block of assembly.
        uint32_t v, x02, w02, w13;
#define DW_TAP_ASM(k)                                                                                        \
        __asm__ ("ldr     %[v], [%[toff], #4*" #k "]\n\t"                                                     \
                 "ldr     %[v], [%[xb], %[v]]\n\t"                                                           \
                 "ldrd    %[w02], %[w13], [%[wp], #8*" #k "]\n\t"                                          \
                 "sxtab16 %[x02], %[off], %[v]\n\t"                                                         \
                 "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                                   \
                 "smlabb  %[a0], %[x02], %[w02], %[a0]\n\t"                                                 \
                 "smlatt  %[a2], %[x02], %[w02], %[a2]\n\t"                                                 \
                 "smlabb  %[a1], %[v], %[w13], %[a1]\n\t"                                                   \
                 "smlatt  %[a3], %[v], %[w13], %[a3]"                                                       \
                 : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [v] "=&r" (v),         \
                   [x02] "=&r" (x02), [w02] "=&r" (w02), [w13] "=&r" (w13)                                 \
                 : [toff] "r" (toff), [xb] "r" (xb), [wp] "r" (wp), [off] "r" (off)                        \
                 : "memory")
        DW_TAP_ASM(0); DW_TAP_ASM(1); DW_TAP_ASM(2); DW_TAP_ASM(3); DW_TAP_ASM(4); DW_TAP_ASM(5);
        DW_TAP_ASM(6); DW_TAP_ASM(7); DW_TAP_ASM(8);
#undef DW_TAP_ASM
    } else {
        for (int32_t k = 0; k < taps; k++) {
            const uint32_t v = tm_ld32(xb + toff[k]);
            const int32_t x02 = tm_sxtab16(off, v), x13 = tm_sxtab16_ror8(off, v);
            a0 = __smlabb(x02, (int32_t)wp[2 * k], a0);
            a2 = __smlatt(x02, (int32_t)wp[2 * k], a2);
            a1 = __smlabb(x13, (int32_t)wp[2 * k + 1], a1);
            a3 = __smlatt(x13, (int32_t)wp[2 * k + 1], a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

// A window that crosses the image's edge, all channel blocks of output pixel (b, oy, ox): only the valid taps
// are visited, the filter is read in place (SXTB16 splits a word of four channels' bytes as SXTAB16 does the
// input's) and the requantization constants are derived per output. Multiplier 1 reads four channels per
// input word; a multiple of four reads one input channel for the four (also inside the image: such layers
// have few channels, so this is not worth a faster path).
__attribute__((always_inline))
static inline void dw_pixel_dsp(const dw_t *c, const params_t *p, int32_t b, int32_t oy, int32_t ox, int full,
    int multi) {
    const tm_window_t *g = &c->g;
    const int32_t cin = g->in_c, cout = g->out_c, cout4 = cout & ~3, zi = c->in->zero_point;
    const int32_t zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi, off = tm_neg_pair(zi);
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    int32_t ky0, ky1, kx0, kx1;
    tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
    tap_range(x0, g->k_w, g->dil_w, g->in_w, &kx0, &kx1);
    const int32_t nkx = kx1 - kx0, xstep = g->dil_w * cin, ystep = g->dil_h * g->in_w * cin;
    const int32_t wrow = g->k_w * cout;   // filter taps are not dilated
    const int8_t *x = (const int8_t *)c->in->data +
                      ((b * g->in_h + y0 + ky0 * g->dil_h) * g->in_w + x0 + kx0 * g->dil_w) * cin;
    const int8_t *w = (const int8_t *)c->w->data + (ky0 * g->k_w + kx0) * cout;
    int8_t *y = (int8_t *)c->out->data + ((b * g->out_h + oy) * g->out_w + ox) * cout;
    for (int32_t c0 = 0; c0 < cout4; c0 += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (bias) {
            a0 = bias[c0];
            a1 = bias[c0 + 1];
            a2 = bias[c0 + 2];
            a3 = bias[c0 + 3];
        }
        const int8_t *xr = x + (multi ? c0 / c->dm : c0), *wr = w + c0;
        for (int32_t ky = ky0; ky < ky1; ky++, xr += ystep, wr += wrow) {
            const int8_t *xq = xr, *wq = wr;
            for (int32_t kx = nkx; kx > 0; kx--, xq += xstep, wq += cout) {
                int32_t x02, x13;
                if (multi) {
                    const int32_t v = *xq - zi;
                    x02 = x13 = (int32_t)(((uint32_t)v & 0xffffu) | ((uint32_t)v << 16));
                } else {
                    const uint32_t v = tm_ld32(xq);
                    x02 = tm_sxtab16(off, v);
                    x13 = tm_sxtab16_ror8(off, v);
                }
                const uint32_t wv = tm_ld32(wq);
                const int32_t w02 = tm_sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
                a0 = __smlabb(x02, w02, a0);
                a2 = __smlatt(x02, w02, a2);
                a1 = __smlabb(x13, w13, a1);
                a3 = __smlatt(x13, w13, a3);
            }
        }
        tm_rq_t q = tm_rq(p->q[c0].multiplier, p->q[c0].shift);
        y[c0] = (int8_t)tm_rq_out(a0, &q, zo, lo, hi, full);
        q = tm_rq(p->q[c0 + 1].multiplier, p->q[c0 + 1].shift);
        y[c0 + 1] = (int8_t)tm_rq_out(a1, &q, zo, lo, hi, full);
        q = tm_rq(p->q[c0 + 2].multiplier, p->q[c0 + 2].shift);
        y[c0 + 2] = (int8_t)tm_rq_out(a2, &q, zo, lo, hi, full);
        q = tm_rq(p->q[c0 + 3].multiplier, p->q[c0 + 3].shift);
        y[c0 + 3] = (int8_t)tm_rq_out(a3, &q, zo, lo, hi, full);
    }
}

// Multiplier 1, the four channels [c0, c0 + 4) of all output pixels inside the image (span: rows and
// columns [span[0], span[1]) x [span[2], span[3])).
__attribute__((always_inline))
static inline void dw_block_dsp(const dw_t *c, const params_t *p, const int32_t *toff, uint32_t *wide,
    int32_t c0, const int32_t *span, int full) {
    const tm_window_t *g = &c->g;
    const int8_t *w = (const int8_t *)c->w->data + c0;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data + c0 : 0;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi;
    const int32_t cin = g->in_c, cout = g->out_c, off = tm_neg_pair(zi), taps = g->k_h * g->k_w;
    tm_rq_t rq[4];
    int32_t b4[4] = { 0, 0, 0, 0 };
    for (int j = 0; j < 4; j++) {
        rq[j] = tm_rq(p->q[c0 + j].multiplier, p->q[c0 + j].shift);
        b4[j] = bias ? bias[j] : 0;
    }
    for (int32_t k = 0; k < taps; k++) {
        const uint32_t v = tm_ld32(w + k * cout);
        wide[2 * k] = (uint32_t)tm_sxtb16(v);
        wide[2 * k + 1] = (uint32_t)tm_sxtb16_ror8(v);
    }
    const int32_t xstep = g->stride_w * cin, n = span[3] - span[2];
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = span[0]; oy < span[1]; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = span[2] * g->stride_w - g->pad_w;
            const int8_t *xb = (const int8_t *)c->in->data + ((b * g->in_h + y0) * g->in_w + x0) * cin + c0;
            int8_t *y = (int8_t *)c->out->data + ((b * g->out_h + oy) * g->out_w + span[2]) * cout + c0;
            for (int32_t i = n; i > 0; i--, xb += xstep, y += cout) {
                int32_t acc[4] = { b4[0], b4[1], b4[2], b4[3] };
                dw_taps4(xb, toff, wide, taps, off, acc);
                y[0] = (int8_t)tm_rq_out(acc[0], &rq[0], zo, lo, hi, full);
                y[1] = (int8_t)tm_rq_out(acc[1], &rq[1], zo, lo, hi, full);
                y[2] = (int8_t)tm_rq_out(acc[2], &rq[2], zo, lo, hi, full);
                y[3] = (int8_t)tm_rq_out(acc[3], &rq[3], zo, lo, hi, full);
            }
        }
    }
}

// One input channel (so the multiplier is the channel count, a multiple of four), undilated rows of a
// multiple of four taps: such a layer is a convolution over one channel, so pairs of taps meet pairs of
// filter values in SMLAD. Two channels at a time over all pixels: their filter is widened into scratch as
// [tap group of four][channel][2 words] (SXTB16's pairing: taps (0, 2) and (1, 3)), and four input bytes
// of a row give two words by SXTAB16. Windows crossing the image's edge are first staged with Z_in in
// place of the missing taps (which then contribute 0).
__attribute__((noinline))
static void dw_cin1_dsp(const dw_t *c, const params_t *p, void *scratch) {
    const tm_window_t *g = &c->g;
    const int32_t cout = g->out_c, kw = g->k_w, groups = g->k_h * kw >> 2, zi = c->in->zero_point;
    const int32_t zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi, off = tm_neg_pair(zi);
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    const int8_t *x = (const int8_t *)c->in->data;
    uint32_t *wide = scratch;
    int8_t *stage = (int8_t *)(wide + 4 * groups);
    int32_t span[4];
    interior_range(g->pad_h, g->stride_h, (g->k_h - 1) * g->dil_h, g->in_h, g->out_h, &span[0], &span[1]);
    interior_range(g->pad_w, g->stride_w, kw - 1, g->in_w, g->out_w, &span[2], &span[3]);
    for (int32_t c0 = 0; c0 < cout; c0 += 2) {
        const int8_t *w = (const int8_t *)c->w->data + c0;
        for (int32_t t = 0; t < groups; t++) {
            for (int j = 0; j < 2; j++) {
                const int8_t *wt = w + 4 * t * cout + j;
                const uint32_t v = (uint32_t)(uint8_t)wt[0] | (uint32_t)(uint8_t)wt[cout] << 8 |
                                   (uint32_t)(uint8_t)wt[2 * cout] << 16 | (uint32_t)(uint8_t)wt[3 * cout] << 24;
                wide[4 * t + 2 * j] = (uint32_t)tm_sxtb16(v);
                wide[4 * t + 2 * j + 1] = (uint32_t)tm_sxtb16_ror8(v);
            }
        }
        const tm_rq_t q0 = tm_rq(p->q[c0].multiplier, p->q[c0].shift);
        const tm_rq_t q1 = tm_rq(p->q[c0 + 1].multiplier, p->q[c0 + 1].shift);
        const int32_t bias0 = bias ? bias[c0] : 0, bias1 = bias ? bias[c0 + 1] : 0;
        int8_t *y = (int8_t *)c->out->data + c0;
        for (int32_t b = 0; b < g->batches; b++) {
            for (int32_t oy = 0; oy < g->out_h; oy++) {
                const int32_t y0 = oy * g->stride_h - g->pad_h;
                const int rowin = oy >= span[0] && oy < span[1];
                for (int32_t ox = 0; ox < g->out_w; ox++, y += cout) {
                    const int32_t x0 = ox * g->stride_w - g->pad_w;
                    // Rows outside the image are skipped; a window crossing a side is staged row by row.
                    int32_t ky0 = 0, ky1 = g->k_h, kx0 = 0, kx1 = kw;
                    if (!rowin) {
                        tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
                    }
                    const int8_t *xr = x + (b * g->in_h + y0 + ky0 * g->dil_h) * g->in_w + x0;
                    int32_t rstep = g->dil_h * g->in_w;
                    if (ox < span[2] || ox >= span[3]) {
                        tap_range(x0, kw, 1, g->in_w, &kx0, &kx1);
                        int8_t *d = stage;
                        for (int32_t ky = ky0; ky < ky1; ky++, xr += rstep, d += kw) {
                            for (int32_t kx = 0; kx < kw; kx++) {
                                d[kx] = kx >= kx0 && kx < kx1 ? xr[kx] : (int8_t)zi;
                            }
                        }
                        xr = stage;
                        rstep = kw;
                    }
                    int32_t a0 = bias0, a1 = bias1;
                    const uint32_t *wp = wide + ky0 * kw;
                    for (int32_t ky = ky1 - ky0; ky > 0; ky--, xr += rstep) {
                        const int8_t *xq = xr;
                        int32_t n = kw >> 2;
                        uint32_t v, x02, wa, wb;
                        // GCC spills the filter words of the C loop; 11 instructions per 8 MACs here.
                        __asm__ ("1:\n\t"
                                 "ldr     %[v], [%[xq]], #4\n\t"
                                 "ldrd    %[wa], %[wb], [%[wp]], #8\n\t"
                                 "sxtab16 %[x02], %[off], %[v]\n\t"
                                 "sxtab16 %[v], %[off], %[v], ror #8\n\t"
                                 "smlad   %[a0], %[x02], %[wa], %[a0]\n\t"
                                 "smlad   %[a0], %[v], %[wb], %[a0]\n\t"
                                 "ldrd    %[wa], %[wb], [%[wp]], #8\n\t"
                                 "smlad   %[a1], %[x02], %[wa], %[a1]\n\t"
                                 "smlad   %[a1], %[v], %[wb], %[a1]\n\t"
                                 "subs    %[n], %[n], #1\n\t"
                                 "bne     1b"
                                 : [a0] "+r" (a0), [a1] "+r" (a1), [xq] "+r" (xq), [wp] "+r" (wp), [n] "+r" (n),
                                   [v] "=&r" (v), [x02] "=&r" (x02), [wa] "=&r" (wa), [wb] "=&r" (wb)
                                 : [off] "r" (off)
                                 : "cc", "memory");
                    }
                    y[0] = (int8_t)tm_rq_out(a0, &q0, zo, lo, hi, 0);
                    y[1] = (int8_t)tm_rq_out(a1, &q1, zo, lo, hi, 0);
                }
            }
        }
    }
}

// Multiplier 1 or a multiple of four: the pixels inside the image block by block, then the others pixel by
// pixel. Channels past the last multiple of four (multiplier 1 only) are left to the portable loop.
static void dw_eval_dsp(const dw_t *c, const params_t *p, void *scratch) {
    const tm_window_t *g = &c->g;
    const int32_t taps = g->k_h * g->k_w, cout4 = g->out_c & ~3, multi = c->dm != 1;
    const int full = p->act_lo == -128 && p->act_hi == 127;
    int32_t span[4] = { 0, 0, 0, 0 };
    if (multi && dw_cin1_ok(c)) {
        dw_cin1_dsp(c, p, scratch);
        return;
    }
    if (!multi) {
        int32_t *toff = scratch;
        uint32_t *wide = (uint32_t *)(toff + taps);
        for (int32_t ky = 0, k = 0; ky < g->k_h; ky++) {
            for (int32_t kx = 0; kx < g->k_w; kx++, k++) {
                toff[k] = (ky * g->dil_h * g->in_w + kx * g->dil_w) * g->in_c;
            }
        }
        interior_range(g->pad_h, g->stride_h, (g->k_h - 1) * g->dil_h, g->in_h, g->out_h, &span[0], &span[1]);
        interior_range(g->pad_w, g->stride_w, (g->k_w - 1) * g->dil_w, g->in_w, g->out_w, &span[2], &span[3]);
        if (span[2] == span[3]) {
            span[1] = span[0];
        }
        for (int32_t c0 = 0; c0 < cout4 && span[0] < span[1]; c0 += 4) {
            // Specialised copies (the flag is a constant once inlined) for the common case.
            if (full) {
                dw_block_dsp(c, p, toff, wide, c0, span, 1);
            } else {
                dw_block_dsp(c, p, toff, wide, c0, span, 0);
            }
        }
    }
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int rowin = oy >= span[0] && oy < span[1];
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                if (rowin && ox == span[2]) {
                    ox = span[3] - 1;   // done above
                } else if (multi) {
                    dw_pixel_dsp(c, p, b, oy, ox, 0, 1);
                } else if (full) {
                    dw_pixel_dsp(c, p, b, oy, ox, 1, 0);
                } else {
                    dw_pixel_dsp(c, p, b, oy, ox, 0, 0);
                }
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
    int32_t c_lo = 0;   // channels the DSP path leaves (past the last multiple of four)
#if defined(__ARM_FEATURE_DSP)
    if (dm == 1 || (dm & 3) == 0) {
        dw_eval_dsp(c, p, tm_scratch(m, n));
        if (dm != 1 || (cout & 3) == 0) {
            return TM_OK;
        }
        c_lo = cout & ~3;
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
                    int32_t c0 = c_lo;
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
