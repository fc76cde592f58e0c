// TRANSPOSE_CONV: Keras Conv1DTranspose/Conv2DTranspose. int8 with per-channel (or per-tensor) int8 filters
// and an optional int32 bias, and float32, in TFLM's reference arithmetic: every input pixel scatters its
// products into the output (int32 sums in scratch for int8, the float32 output itself in TFLM's order),
// then bias, requantization and the activation range.
// tinyml-types: int8 float32
// tinyml-op: TRANSPOSE_CONV 67
//
// Inputs: 0 output_shape (int32, unused: the output tensor's dims rule, as in TFLM), 1 filter
// [Cout, KH, KW, Cin], 2 input [N, H, W, Cin], 3 bias [Cout] (optional). Padding comes from TFLM's
// ComputePaddingHeightWidth with the *output* size in the role of the input size.
#include "spatial_common.h"

enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_ACTIVATION = 3 };

typedef struct {
    int32_t act_lo, act_hi;
    tm_channel_q_t q[];     // one per output channel
} params_t;

typedef struct {
    tm_tensor_t *in, *w, *bias, *out;
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w, pad_h, pad_w;
} tconv_t;

// TFLM's leading pad for one dimension: out_size plays the input, and the "output" is ComputeOutSize's.
static int32_t tconv_pad(int padding, int32_t out_size, int32_t k, int32_t stride) {
    const int32_t o = padding == TM_PAD_SAME ? (out_size + stride - 1) / stride : (out_size + stride - k) / stride;
    const int32_t total = (o - 1) * stride + k - out_size;
    return total > 0 ? total / 2 : 0;
}

static tm_status_t get_tconv(tm_model_t *m, tm_node_t *n, tconv_t *c) {
    if (tm_expect_io(m, n, 3, 4, 1) != TM_OK) {
        return TM_ERROR;
    }
    c->w = tm_in(m, n, 1);
    c->in = tm_in(m, n, 2);
    c->bias = tm_in(m, n, 3);
    c->out = tm_out(m, n, 0);
    const tm_tensor_t *in = c->in, *w = c->w, *out = c->out;
    if (in->ndim != 4 || out->ndim != 4 || w->ndim != 4) {
        return tm_fail(m, "input, filter and output must be 4-D, are %d-D, %d-D and %d-D", in->ndim, w->ndim,
            out->ndim);
    }
    c->batches = in->dims[0];
    c->in_h = in->dims[1];
    c->in_w = in->dims[2];
    c->in_c = in->dims[3];
    c->out_h = out->dims[1];
    c->out_w = out->dims[2];
    c->out_c = out->dims[3];
    c->k_h = w->dims[1];
    c->k_w = w->dims[2];
    if (out->dims[0] != c->batches || w->dims[0] != c->out_c || w->dims[3] != c->in_c) {
        return tm_fail(m, "filter %dx%dx%dx%d does not fit input channels %d, output channels %d (or batches differ)",
            w->dims[0], w->dims[1], w->dims[2], w->dims[3], c->in_c, c->out_c);
    }
    if (c->batches < 1 || c->in_c < 1 || c->out_c < 1 || c->k_h < 1 || c->k_w < 1 || c->out_h < 1 || c->out_w < 1) {
        return tm_fail(m, "empty input, filter or output");
    }
    c->stride_h = tm_opt_i32(m, n, OPT_STRIDE_H, 0);
    c->stride_w = tm_opt_i32(m, n, OPT_STRIDE_W, 0);
    if (c->stride_h < 1 || c->stride_w < 1 || c->stride_h > 0xffff || c->stride_w > 0xffff ||
        c->k_h > 0xffff || c->k_w > 0xffff) {
        return tm_fail(m, "strides %dx%d must be in 1..65535", c->stride_h, c->stride_w);
    }
    const int padding = tm_opt_u8(m, n, OPT_PADDING, TM_PAD_SAME);
    if (padding != TM_PAD_SAME && padding != TM_PAD_VALID) {
        return tm_fail(m, "unknown padding type %d", padding);
    }
    c->pad_h = tconv_pad(padding, c->out_h, c->k_h, c->stride_h);
    c->pad_w = tconv_pad(padding, c->out_w, c->k_w, c->stride_w);
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tconv_t c = { 0 };
    if (get_tconv(m, n, &c) != TM_OK || tm_check_bias(m, c.bias, c.out_c) != TM_OK) {
        return TM_ERROR;
    }
    if (!c.w->is_const) {
        return tm_fail(m, "filter must be a constant tensor");
    }
    if (tm_is_f32(c.in)) {
        if (tm_expect_type(m, c.w, TM_FLOAT32, "filter") || tm_expect_type(m, c.out, TM_FLOAT32, "output") ||
            (c.bias && tm_expect_type(m, c.bias, TM_FLOAT32, "bias"))) {
            return TM_ERROR;
        }
        return TM_OK;
    }
    if (tm_check_int8_conv(m, c.in, c.w, c.bias, c.out, c.out_c) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(params_t) + (uint32_t)c.out_c * sizeof(tm_channel_q_t);
    req->scratch_bytes = (uint32_t)tm_elements(c.out) * sizeof(int32_t);   // the int32 sums, as TFLM's
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tconv_t c = { 0 };
    get_tconv(m, n, &c);
    if (tm_is_f32(c.in)) {
        return TM_OK;
    }
    params_t *p = tm_persistent(m, n);
    tm_activation_range_int8(tm_opt_u8(m, n, OPT_ACTIVATION, 0), c.out->scale, c.out->zero_point, &p->act_lo,
        &p->act_hi);
    return tm_channel_q_prepare(m, p->q, c.in, c.w, c.out, c.out_c);
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tconv_t c = { 0 };
    get_tconv(m, n, &c);
    const int is_int8 = !tm_is_f32(c.in);
    const int32_t total = tm_elements(c.out), row = c.k_h * c.k_w * c.in_c;   // filter values per out channel
    int32_t *acc = is_int8 ? (int32_t *)tm_scratch(m, n) : (int32_t *)0;
    float *facc = is_int8 ? (float *)0 : (float *)c.out->data;
    for (int32_t i = 0; i < total; i++) {
        if (is_int8) {
            acc[i] = 0;
        } else {
            facc[i] = 0.0f;
        }
    }
    const int32_t zi = c.in->zero_point;
    for (int32_t b = 0; b < c.batches; b++) {
        for (int32_t iy = 0; iy < c.in_h; iy++) {
            for (int32_t ix = 0; ix < c.in_w; ix++) {
                const int32_t oy0 = iy * c.stride_h - c.pad_h, ox0 = ix * c.stride_w - c.pad_w;
                const int32_t pix = ((b * c.in_h + iy) * c.in_w + ix) * c.in_c;
                for (int32_t ic = 0; ic < c.in_c; ic++) {
                    for (int32_t ky = 0; ky < c.k_h; ky++) {
                        const int32_t oy = oy0 + ky;
                        if (oy < 0 || oy >= c.out_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < c.k_w; kx++) {
                            const int32_t ox = ox0 + kx;
                            if (ox < 0 || ox >= c.out_w) {
                                continue;
                            }
                            const int32_t o = ((b * c.out_h + oy) * c.out_w + ox) * c.out_c;
                            const int32_t wi = (ky * c.k_w + kx) * c.in_c + ic;
                            if (is_int8) {
                                const int32_t v = ((const int8_t *)c.in->data)[pix + ic] - zi;
                                const int8_t *w = (const int8_t *)c.w->data + wi;
                                for (int32_t oc = 0; oc < c.out_c; oc++) {
                                    acc[o + oc] += v * w[oc * row];
                                }
                            } else {
                                const float v = ((const float *)c.in->data)[pix + ic];
                                const float *w = (const float *)c.w->data + wi;
                                for (int32_t oc = 0; oc < c.out_c; oc++) {
                                    facc[o + oc] += v * w[oc * row];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if (is_int8) {
        const params_t *p = tm_persistent(m, n);
        const int32_t *bias = c.bias ? (const int32_t *)c.bias->data : (const int32_t *)0;
        const int32_t zo = c.out->zero_point;
        int8_t *y = (int8_t *)c.out->data;
        for (int32_t i = 0; i < total; i++) {
            const int32_t oc = i % c.out_c;
            const int32_t a = acc[i] + (bias ? bias[oc] : 0);
            y[i] = (int8_t)tm_clamp(tm_mbqm(a, p->q[oc].multiplier, p->q[oc].shift) + zo, p->act_lo, p->act_hi);
        }
    } else {
        float lo, hi;
        tm_activation_range_f32(tm_opt_u8(m, n, OPT_ACTIVATION, 0), &lo, &hi);
        const float *bias = c.bias ? (const float *)c.bias->data : (const float *)0;
        for (int32_t i = 0; i < total; i++) {
            float v = facc[i];
            if (bias) {
                v += bias[i % c.out_c];
            }
            v = v < lo ? lo : v;
            facc[i] = v > hi ? hi : v;
        }
    }
    return TM_OK;
}

int tm_kernel_transpose_conv(tm_kernel_t *k) {
    k->name = "TRANSPOSE_CONV";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
