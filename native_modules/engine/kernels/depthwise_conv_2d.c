// DEPTHWISE_CONV_2D: int8 (per-channel or per-tensor filter), int16 (16x8) and float32, depth multiplier,
// dilation.
// tinyml-op: DEPTHWISE_CONV_2D 4
// tinyml-types: int8 int16 float32
// tinyml-uses: tm_window.c
//
// Filter [1, KH, KW, Cout] with Cout = Cin * dm; output channel oc = ic * dm + m reads input channel ic.
// int8: for each output pixel, blocks of eight output channels keep their accumulators in registers while
// the taps are visited; within a block the channels are contiguous in both filter and input (dm == 1) or
// share one input value (dm > 1), so the compiler vectorizes the block. Taps outside the image are skipped,
// as TFLM does; integer sums make the order irrelevant.
//
// int16 (16x8: int16 activations, int8 weights, int64 bias): TFLM's loop, one output channel at a time, with
// its int64 sums and requantization (conv16x8.h). Arch builds run it too: the dispatch on the input type is
// here, before any arch hook.
//
// This file is the portable kernel: parsing, checks, prepare, the float32 path and the reference int8 path.
// An arch's fast int8 path lives in kernels/<arch>/depthwise_conv_2d.c (cortex_m4/: SMLAD and assembly),
// which the build compiles instead of this file: it defines TM_ARCH_KERNEL, includes this file and supplies
// the hooks declared below (docs/architecture.md, "One folder per optimised arch").
#include "spatial_common.h"
#include "conv16x8.h"

enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_DEPTH_MULTIPLIER = 3, OPT_ACTIVATION = 4,
       OPT_DILATION_W = 5, OPT_DILATION_H = 6 };

#define LANES 8

// Persistent data, set by prepare: of an int8 layer, then of a float32 one. Each holds the kept window
// (strides, dilations, pads; see kept_window).
typedef struct {
    int32_t act_lo, act_hi;         // int8 fused activation range
    tm_channel_q_t q[];             // per output channel, then the kept window
} params_t;

typedef struct {
    tm_window_keep_t win;
    float act_lo, act_hi;           // float32 fused activation range
} params_f32_t;

typedef struct {
    tm_window_keep_t win;
    int32_t act_lo, act_hi;         // int16 fused activation range
    tm_channel_q_t q[];             // per output channel
} params_16x8_t;

// Where prepare keeps the window: after q[] in an int8 layer, so that q[] stays at byte 8 (a larger offset
// costs the armv6m build 5% more instructions in the channel loop: Thumb-1 addresses it with one more add).
static tm_window_keep_t *kept_window(tm_model_t *m, tm_node_t *n) {
    if (tm_is_f32(tm_in(m, n, 0))) {
        return &((params_f32_t *)tm_persistent(m, n))->win;
    }
    if (tm_is_i16(tm_in(m, n, 0))) {
        return &((params_16x8_t *)tm_persistent(m, n))->win;
    }
    return (tm_window_keep_t *)(((params_t *)tm_persistent(m, n))->q + tm_out(m, n, 0)->dims[3]);
}

typedef struct {
    tm_tensor_t *in, *w, *bias, *out;
    tm_window_t g;
    int32_t dm;
} dw_t;

// The layer's tensors and geometry. kept == NULL (init, prepare): from the options, checked; else (eval) from
// the window prepare kept, with nothing parsed or checked again.
static tm_status_t get_dw(tm_model_t *m, tm_node_t *n, dw_t *c, const tm_window_keep_t *kept) {
    if (!kept && tm_expect_io(m, n, 2, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    c->in = tm_in(m, n, 0);
    c->w = tm_in(m, n, 1);
    c->bias = tm_in(m, n, 2);
    c->out = tm_out(m, n, 0);
    if (!kept && (c->w->ndim != 4 || c->w->dims[0] != 1)) {
        return tm_fail(m, "filter must be 4-D [1, KH, KW, Cout]");
    }
    tm_window_t *g = &c->g;
    g->k_h = c->w->dims[1];
    g->k_w = c->w->dims[2];
    if (!kept) {
        g->stride_h = tm_opt_i32(m, n, OPT_STRIDE_H, 0);
        g->stride_w = tm_opt_i32(m, n, OPT_STRIDE_W, 0);
        g->dil_h = tm_opt_i32(m, n, OPT_DILATION_H, 1);
        g->dil_w = tm_opt_i32(m, n, OPT_DILATION_W, 1);
    }
    const int padding = kept ? 0 : tm_opt_u8(m, n, OPT_PADDING, TM_PAD_SAME);
    if (tm_window_init(m, g, c->in, c->out, padding, kept) != TM_OK) {
        return TM_ERROR;
    }
    if (kept) {
        c->dm = g->out_c / g->in_c;     // checked below when parsed: in_c * dm == out_c
        return TM_OK;
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

#if TM_ARCH_KERNEL
// The hooks of an arch's fast int8 path (kernels/<arch>/depthwise_conv_2d.c).
static uint32_t arch_scratch_bytes(const dw_t *c);         // its eval's scratch
// Computes output channels [0, returned count) of the int8 layer; the portable loop does the rest (it
// continues at that channel with multiplier 1, else it redoes them all: return 0 or out_c then).
static int32_t arch_eval_int8(tm_model_t *m, tm_node_t *n, const dw_t *c);
#endif

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    dw_t c = { 0 };
    if (get_dw(m, n, &c, 0) != TM_OK || tm_check_bias(m, c.bias, c.g.out_c) != TM_OK) {
        return TM_ERROR;
    }
    if (tm_is_f32(c.in)) {
        if (tm_expect_type(m, c.w, TM_FLOAT32, "filter") || tm_expect_type(m, c.out, TM_FLOAT32, "output") ||
            (c.bias && tm_expect_type(m, c.bias, TM_FLOAT32, "bias"))) {
            return TM_ERROR;
        }
        req->persistent_bytes = sizeof(params_f32_t);
        return TM_OK;
    }
    if (tm_is_i16(c.in)) {
        if (tm_check_16x8(m, c.in, c.w, c.bias, c.out, c.g.out_c, 0) != TM_OK) {
            return TM_ERROR;
        }
        req->persistent_bytes = sizeof(params_16x8_t) + (uint32_t)c.g.out_c * sizeof(tm_channel_q_t);
        return TM_OK;
    }
    if (tm_check_int8_conv(m, c.in, c.w, c.bias, c.out, c.g.out_c) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(params_t) + (uint32_t)c.g.out_c * sizeof(tm_channel_q_t) + sizeof(tm_window_keep_t);
#if TM_ARCH_KERNEL
    req->scratch_bytes = arch_scratch_bytes(&c);
#endif
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    dw_t c = { 0 };
    get_dw(m, n, &c, 0);
    const int32_t act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    if (tm_is_f32(c.in)) {
        params_f32_t *pf = tm_persistent(m, n);
        tm_window_keep(&pf->win, &c.g);
        tm_activation_range_f32(act, &pf->act_lo, &pf->act_hi);
        return TM_OK;
    }
    if (tm_is_i16(c.in)) {
        params_16x8_t *p = tm_persistent(m, n);
        tm_window_keep(&p->win, &c.g);
        tm_activation_range_int16(act, c.out->scale, c.out->zero_point, &p->act_lo, &p->act_hi);
        if (tm_channel_q_prepare(m, p->q, c.in, c.w, c.out, c.g.out_c) != TM_OK) {
            return TM_ERROR;
        }
        for (int32_t oc = 0; oc < c.g.out_c; oc++) {
            if (tm_16x8_check_shift(m, 0, p->q[oc].shift, oc) != TM_OK) {
                return TM_ERROR;
            }
        }
        return TM_OK;
    }
    params_t *p = tm_persistent(m, n);
    tm_window_keep(kept_window(m, n), &c.g);
    tm_activation_range_int8(act, c.out->scale, c.out->zero_point, &p->act_lo, &p->act_hi);
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


static tm_status_t eval_int8(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    int8_t *y = (int8_t *)c->out->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point;
    const int32_t cin = g->in_c, cout = g->out_c, dm = c->dm;
    int32_t c_lo = 0;   // output channels an arch's fast path did (multiplier 1)
#if TM_ARCH_KERNEL
    c_lo = arch_eval_int8(m, n, c);
    if (c_lo == cout) {
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

// 16x8: TFLM's loop (taps outside the image skipped), int64 sums (a product is below 2^23 in magnitude).
static tm_status_t eval_16x8(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    const tm_window_t *g = &c->g;
    const params_16x8_t *p = tm_persistent(m, n);
    const int16_t *x = (const int16_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    int16_t *y = (int16_t *)c->out->data;
    const int32_t cin = g->in_c, cout = g->out_c, dm = c->dm;
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                int32_t kx0, kx1;
                tap_range(x0, g->k_w, g->dil_w, g->in_w, &kx0, &kx1);
                for (int32_t oc = 0; oc < cout; oc++) {
                    const int32_t ic = oc / dm;
                    int64_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        // index of tap (ky, 0), which may lie left of the image: only valid taps are read
                        const int32_t xrow = ((b * g->in_h + y0 + ky * g->dil_h) * g->in_w + x0) * cin + ic;
                        const int8_t *wrow = w + ky * g->k_w * cout + oc;
                        for (int32_t kx = kx0; kx < kx1; kx++) {
                            sum += wrow[kx * cout] * (int32_t)x[xrow + kx * g->dil_w * cin];
                        }
                    }
                    y[oc] = tm_16x8_output(sum, c->bias, 0, oc, p->q[oc].multiplier, p->q[oc].shift, p->act_lo,
                        p->act_hi);
                }
                y += cout;
            }
        }
    }
    return TM_OK;
}

// Float: TFLM's reference order per output channel (taps in ky, kx order, then + bias).
static tm_status_t eval_float(const dw_t *c, const params_f32_t *pf) {
    const tm_window_t *g = &c->g;
    const float lo = pf->act_lo, hi = pf->act_hi;
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
    get_dw(m, n, &c, kept_window(m, n));
    if (tm_is_i16(c.in)) {
        return eval_16x8(m, n, &c);
    }
    return tm_is_f32(c.in) ? eval_float(&c, tm_persistent(m, n)) : eval_int8(m, n, &c);
}

int tm_kernel_depthwise_conv_2d(tm_kernel_t *k) {
    k->name = "DEPTHWISE_CONV_2D";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
