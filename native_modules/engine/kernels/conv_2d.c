// CONV_2D: int8 (per-channel or per-tensor filter), int16 (16x8) and float32, NHWC, SAME/VALID, strides,
// dilation, groups.
// tinyml-op: CONV_2D 3
// tinyml-types: int8 int16 float32
// tinyml-uses: tm_window.c
//
// int8: for each output pixel the receptive field is gathered once into an int16 row holding x - Z_in, with
// zeros for taps outside the image (TFLM skips those taps, which is the same as padding with Z_in). Every
// output channel is then one contiguous int8 x int16 dot product over KH*KW*Cin_f values, which compilers
// vectorize; the sums are exact integers, so the order differs from TFLM's but the result does not.
//
// int16 (16x8: int16 activations, int8 weights, int64 or int32 bias): the same gathered row, now of int16
// inputs, and TFLM's 16x8 sums and requantization (conv16x8.h). Arch builds run it too: the dispatch on the
// input type is here, before any arch hook.
//
// This file is the portable kernel: parsing, checks, prepare, the float32 path and the reference int8 path.
// An arch's fast int8 path lives in kernels/<arch>/conv_2d.c (cortex_m4/: SMLAD and assembly), which the
// build compiles instead of this file: it defines TM_ARCH_KERNEL, includes this file and supplies the hooks
// declared below (docs/architecture.md, "One folder per optimised arch").
#include "spatial_common.h"
#include "conv16x8.h"

enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_ACTIVATION = 3, OPT_DILATION_W = 4,
       OPT_DILATION_H = 5, OPT_QUANTIZED_BIAS_TYPE = 6 };

// Persistent data, set by prepare: of an int8 layer, then of a float32 one. Both begin with the window.
typedef struct {
    tm_window_keep_t win;           // strides, dilations, pads
    int32_t act_lo, act_hi;         // int8 fused activation range
#ifdef TM_ARCH_PARAMS
    TM_ARCH_PARAMS                  // what the arch's prepare adds (kernels/<arch>/conv_2d.c)
#endif
    tm_channel_q_t q[];             // per output channel (TFLM's multipliers; an arch's prepare may repack them)
} params_t;

typedef struct {
    tm_window_keep_t win;
    float act_lo, act_hi;           // float32 fused activation range
} params_f32_t;

typedef struct {
    tm_window_keep_t win;
    int32_t act_lo, act_hi;         // int16 fused activation range
    int32_t acc32;                  // TFLM accumulates in int32 (int32 bias), else in int64
    tm_channel_q_t q[];             // per output channel
} params_16x8_t;

typedef struct {
    tm_tensor_t *in, *w, *bias, *out;
    tm_window_t g;
    int32_t cin_f, groups, cout_g, row_len;
} conv_t;

// The layer's tensors and geometry. kept == NULL (init, prepare): from the options, checked; else (eval) from
// the window prepare kept, with nothing parsed or checked again.
static tm_status_t get_conv(tm_model_t *m, tm_node_t *n, conv_t *c, const tm_window_keep_t *kept) {
    if (!kept && tm_expect_io(m, n, 2, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    c->in = tm_in(m, n, 0);
    c->w = tm_in(m, n, 1);
    c->bias = tm_in(m, n, 2);
    c->out = tm_out(m, n, 0);
    if (!kept && c->w->ndim != 4) {
        return tm_fail(m, "filter must be 4-D [Cout, KH, KW, Cin], got %d-D", c->w->ndim);
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
    if (!kept && c->w->dims[0] != g->out_c) {
        return tm_fail(m, "filter has %d output channels, output has %d", c->w->dims[0], g->out_c);
    }
    c->cin_f = c->w->dims[3];
    c->groups = c->cin_f < 1 ? 0 : g->in_c / c->cin_f;
    c->cout_g = c->groups < 1 ? 0 : g->out_c / c->groups;
    c->row_len = g->k_h * g->k_w * c->cin_f;   // the filter tensor's size bounds this
    if (kept) {
        return TM_OK;
    }
    if (c->groups < 1 || c->groups * c->cin_f != g->in_c) {
        return tm_fail(m, "filter depth %d does not divide the input's %d channels", c->cin_f, g->in_c);
    }
    if (c->cout_g * c->groups != g->out_c) {
        return tm_fail(m, "%d output channels cannot be split into %d groups", g->out_c, c->groups);
    }
    return TM_OK;
}

#if TM_ARCH_KERNEL
// The hooks of an arch's fast int8 path (kernels/<arch>/conv_2d.c).
static uint32_t arch_scratch_bytes(const conv_t *c);               // its eval's scratch
static void arch_prepare(const conv_t *c, params_t *p);            // after p->q holds TFLM's multipliers
static tm_status_t arch_eval_int8(tm_model_t *m, tm_node_t *n, const conv_t *c);
#endif

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    conv_t c = { 0 };
    if (get_conv(m, n, &c, 0) != TM_OK || tm_check_bias(m, c.bias, c.g.out_c) != TM_OK) {
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
        if (tm_check_16x8(m, c.in, c.w, c.bias, c.out, c.g.out_c, 1) != TM_OK) {
            return TM_ERROR;
        }
        req->persistent_bytes = sizeof(params_16x8_t) + (uint32_t)c.g.out_c * sizeof(tm_channel_q_t);
        req->scratch_bytes = (uint32_t)c.row_len * sizeof(int16_t);     // one receptive field
        return TM_OK;
    }
    if (tm_check_int8_conv(m, c.in, c.w, c.bias, c.out, c.g.out_c) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(params_t) + (uint32_t)c.g.out_c * sizeof(tm_channel_q_t);
#if TM_ARCH_KERNEL
    req->scratch_bytes = arch_scratch_bytes(&c);
#else
    req->scratch_bytes = (uint32_t)c.row_len * sizeof(int16_t);     // one receptive field as int16
#endif
    return TM_OK;
}

static tm_status_t prepare_16x8(tm_model_t *m, tm_node_t *n, const conv_t *c, int32_t act) {
    params_16x8_t *p = tm_persistent(m, n);
    tm_window_keep(&p->win, &c->g);
    tm_activation_range_int16(act, c->out->scale, c->out->zero_point, &p->act_lo, &p->act_hi);
    p->acc32 = tm_16x8_acc32(m, n, c->bias, OPT_QUANTIZED_BIAS_TYPE);
    if (tm_channel_q_prepare(m, p->q, c->in, c->w, c->out, c->g.out_c) != TM_OK) {
        return TM_ERROR;
    }
    for (int32_t oc = 0; oc < c->g.out_c; oc++) {
        if (tm_16x8_check_shift(m, p->acc32, p->q[oc].shift, oc) != TM_OK) {
            return TM_ERROR;
        }
    }
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    conv_t c = { 0 };
    get_conv(m, n, &c, 0);
    const int32_t act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    if (tm_is_f32(c.in)) {
        params_f32_t *pf = tm_persistent(m, n);
        tm_window_keep(&pf->win, &c.g);
        tm_activation_range_f32(act, &pf->act_lo, &pf->act_hi);
        return TM_OK;
    }
    if (tm_is_i16(c.in)) {
        return prepare_16x8(m, n, &c, act);
    }
    params_t *p = tm_persistent(m, n);
    tm_window_keep(&p->win, &c.g);
    tm_activation_range_int8(act, c.out->scale, c.out->zero_point, &p->act_lo, &p->act_hi);
    if (tm_channel_q_prepare(m, p->q, c.in, c.w, c.out, c.g.out_c) != TM_OK) {
        return TM_ERROR;
    }
#if TM_ARCH_KERNEL
    arch_prepare(&c, p);
#endif
    return TM_OK;
}
#if !TM_ARCH_KERNEL
// The reference int8 path (an arch's fast path replaces it).
//
// GCC's -O2 vectorizes only loops it can vectorize without a scalar tail; these dot products are worth
// the tail (they are the whole cost of a convolution), so they ask for the normal cost model.
#if defined(__GNUC__) && !defined(__clang__)
#define VECTORIZE __attribute__((optimize("vect-cost-model=dynamic")))
#else
#define VECTORIZE
#endif

// Four output channels against one row: the row is loaded once per four filters.
VECTORIZE static void dot4(const int8_t *w, int32_t stride, const int16_t *x, int32_t len, int32_t *out) {
    const int8_t *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int32_t k = 0; k < len; k++) {
        int32_t xv = x[k];
        s0 += w0[k] * xv;
        s1 += w1[k] * xv;
        s2 += w2[k] * xv;
        s3 += w3[k] * xv;
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
}

VECTORIZE static int32_t dot1(const int8_t *w, const int16_t *x, int32_t len) {
    int32_t s = 0;
    for (int32_t k = 0; k < len; k++) {
        s += w[k] * (int32_t)x[k];
    }
    return s;
}

// The receptive field of output pixel (b, oy, ox), group grp, as x - Z_in (0 outside the image).
static void gather_row(const conv_t *c, const int8_t *x, int32_t b, int32_t oy, int32_t ox, int32_t grp,
    int32_t zi, int16_t *row) {
    const tm_window_t *g = &c->g;
    const int32_t cin_f = c->cin_f;
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    for (int32_t ky = 0; ky < g->k_h; ky++) {
        const int32_t iy = y0 + ky * g->dil_h;
        if (iy < 0 || iy >= g->in_h) {
            memset(row, 0, (size_t)(g->k_w * cin_f) * sizeof(int16_t));
            row += g->k_w * cin_f;
            continue;
        }
        const int8_t *xrow = x + ((b * g->in_h + iy) * g->in_w) * g->in_c + grp * cin_f;
        for (int32_t kx = 0; kx < g->k_w; kx++) {
            const int32_t ix = x0 + kx * g->dil_w;
            if (ix < 0 || ix >= g->in_w) {
                for (int32_t i = 0; i < cin_f; i++) {
                    row[i] = 0;
                }
            } else {
                const int8_t *xp = xrow + ix * g->in_c;
                for (int32_t i = 0; i < cin_f; i++) {
                    row[i] = (int16_t)(xp[i] - zi);
                }
            }
            row += cin_f;
        }
    }
}

static tm_status_t eval_int8(tm_model_t *m, tm_node_t *n, const conv_t *c) {
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    int16_t *row = tm_scratch(m, n);
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    int8_t *y = (int8_t *)c->out->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi;
    const int32_t len = c->row_len;
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                for (int32_t grp = 0; grp < c->groups; grp++) {
                    gather_row(c, x, b, oy, ox, grp, zi, row);
                    const int32_t oc0 = grp * c->cout_g, oc_end = oc0 + c->cout_g;
                    int32_t acc[4];
                    for (int32_t oc = oc0; oc < oc_end; oc += 4) {
                        int32_t count = oc_end - oc < 4 ? oc_end - oc : 4;
                        if (count == 4) {
                            dot4(w + oc * len, len, row, len, acc);
                        } else {
                            for (int32_t j = 0; j < count; j++) {
                                acc[j] = dot1(w + (oc + j) * len, row, len);
                            }
                        }
                        for (int32_t j = 0; j < count; j++) {
                            int32_t a = acc[j] + (bias ? bias[oc + j] : 0);
                            const tm_channel_q_t *q = &p->q[oc + j];
                            y[oc + j] = (int8_t)tm_clamp(tm_mbqm(a, q->multiplier, q->shift) + zo, lo, hi);
                        }
                    }
                }
                y += g->out_c;
            }
        }
    }
    return TM_OK;
}
#endif

// 16x8: the receptive field of output pixel (b, oy, ox), group grp (0 outside the image, where TFLM skips the
// tap; its inputs have no zero point to subtract).
static void gather_row_16(const conv_t *c, const int16_t *x, int32_t b, int32_t oy, int32_t ox, int32_t grp,
    int16_t *row) {
    const tm_window_t *g = &c->g;
    const int32_t cin_f = c->cin_f;
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    for (int32_t ky = 0; ky < g->k_h; ky++) {
        const int32_t iy = y0 + ky * g->dil_h;
        for (int32_t kx = 0; kx < g->k_w; kx++) {
            const int32_t ix = x0 + kx * g->dil_w;
            if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                memset(row, 0, (size_t)cin_f * sizeof(int16_t));
            } else {
                memcpy(row, x + ((b * g->in_h + iy) * g->in_w + ix) * g->in_c + grp * cin_f,
                    (size_t)cin_f * sizeof(int16_t));
            }
            row += cin_f;
        }
    }
}

static tm_status_t eval_16x8(tm_model_t *m, tm_node_t *n, const conv_t *c) {
    const tm_window_t *g = &c->g;
    const params_16x8_t *p = tm_persistent(m, n);
    int16_t *row = tm_scratch(m, n);
    const int16_t *x = (const int16_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    int16_t *y = (int16_t *)c->out->data;
    const int32_t len = c->row_len;
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                for (int32_t grp = 0; grp < c->groups; grp++) {
                    gather_row_16(c, x, b, oy, ox, grp, row);
                    for (int32_t oc = grp * c->cout_g; oc < (grp + 1) * c->cout_g; oc++) {
                        const int64_t sum = tm_16x8_dot(w + oc * len, row, len);
                        y[oc] = tm_16x8_output(sum, c->bias, p->acc32, oc, p->q[oc].multiplier, p->q[oc].shift,
                            p->act_lo, p->act_hi);
                    }
                }
                y += g->out_c;
            }
        }
    }
    return TM_OK;
}

// Float: TFLM's reference order (taps in ky, kx, ic order, then + bias), so results match bit for bit.
static tm_status_t eval_float(const conv_t *c, const params_f32_t *pf) {
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
                for (int32_t oc = 0, grp = 0; oc < g->out_c; oc++) {
                    grp += oc == (grp + 1) * c->cout_g;
                    float total = 0.0f;
                    for (int32_t ky = 0; ky < g->k_h; ky++) {
                        const int32_t iy = y0 + ky * g->dil_h;
                        if (iy < 0 || iy >= g->in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < g->k_w; kx++) {
                            const int32_t ix = x0 + kx * g->dil_w;
                            if (ix < 0 || ix >= g->in_w) {
                                continue;
                            }
                            const float *xp = x + ((b * g->in_h + iy) * g->in_w + ix) * g->in_c + grp * c->cin_f;
                            const float *wp = w + ((oc * g->k_h + ky) * g->k_w + kx) * c->cin_f;
                            for (int32_t ic = 0; ic < c->cin_f; ic++) {
                                total += xp[ic] * wp[ic];
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
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    conv_t c = { 0 };
    get_conv(m, n, &c, tm_persistent(m, n));     // win is the first member of every persistent layout
    if (tm_is_i16(c.in)) {
        return eval_16x8(m, n, &c);
    }
#if TM_ARCH_KERNEL
    return tm_is_f32(c.in) ? eval_float(&c, tm_persistent(m, n)) : arch_eval_int8(m, n, &c);
#else
    return tm_is_f32(c.in) ? eval_float(&c, tm_persistent(m, n)) : eval_int8(m, n, &c);
#endif
}

int tm_kernel_conv_2d(tm_kernel_t *k) {
    k->name = "CONV_2D";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
