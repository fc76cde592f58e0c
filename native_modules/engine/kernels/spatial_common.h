// Shared by the windowed kernels (CONV_2D, DEPTHWISE_CONV_2D, the pools): TFLM's padding rule, shape checks
// against the model's output dims, and per-channel requantization.
#ifndef TM_SPATIAL_COMMON_H
#define TM_SPATIAL_COMMON_H

#include "../tm_internal.h"
#include "../tm_quant.h"

enum { TM_PAD_SAME = 0, TM_PAD_VALID = 1 };

// One NHWC window operation: input [batches, in_h, in_w, in_c] -> output [batches, out_h, out_w, out_c].
typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
} tm_window_t;

// One spatial dimension: checks the model's output size `out` against TFLM's rule and gives the leading pad.
// TFLM loops over the model's output dims; requiring them to equal the computed ones keeps every tap that
// passes the in-image test inside the input, and rejects models TFLM would run on garbage geometry.
static inline tm_status_t tm_window_dim(tm_model_t *m, const char *what, int padding, int32_t in, int32_t k,
    int32_t stride, int32_t dil, int32_t out, int32_t *pad) {
    if (stride < 1 || dil < 1 || stride > 0xffff || dil > 0xffff) {
        return tm_fail(m, "%s: stride %d and dilation %d must be in 1..65535", what, stride, dil);
    }
    if (in < 1 || k < 1 || out < 1) {
        return tm_fail(m, "%s: empty input (%d), kernel (%d) or output (%d)", what, in, k, out);
    }
    int64_t keff = (int64_t)(k - 1) * dil + 1;
    if (keff > (1 << 28)) {
        return tm_fail(m, "%s: dilated kernel too large", what);
    }
    int64_t lo = (int64_t)(out - 1) * stride;
    if (padding == TM_PAD_VALID) {
        if (keff > in) {
            return tm_fail(m, "%s: kernel (%d, dilated %d) larger than the input (%d) with VALID padding", what,
                k, (int32_t)keff, in);
        }
        // out == (in - keff) / stride + 1
        if (!(lo <= in - keff && in - keff < lo + stride)) {
            return tm_fail(m, "%s: model's output size %d disagrees with VALID padding (input %d, kernel %d)",
                what, out, in, (int32_t)keff);
        }
    } else if (padding == TM_PAD_SAME) {
        // out == ceil(in / stride)
        if (!(lo < in && in <= lo + stride)) {
            return tm_fail(m, "%s: model's output size %d disagrees with SAME padding (input %d, stride %d)",
                what, out, in, stride);
        }
    } else {
        return tm_fail(m, "unknown padding type %d", padding);
    }
    int64_t total = lo + keff - in;
    *pad = total > 0 ? (int32_t)(total >> 1) : 0;
    return TM_OK;
}

// Checks a 4-D NHWC input/output pair and fills the geometry (k_h, k_w, strides and dilations set by the
// caller). out_c is the model's; the caller checks it against the filter.
static inline tm_status_t tm_window_init(tm_model_t *m, tm_window_t *g, const tm_tensor_t *in,
    const tm_tensor_t *out, int padding) {
    if (in->ndim != 4 || out->ndim != 4) {
        return tm_fail(m, "input and output must be 4-D NHWC, got %d-D and %d-D", in->ndim, out->ndim);
    }
    g->batches = in->dims[0];
    g->in_h = in->dims[1];
    g->in_w = in->dims[2];
    g->in_c = in->dims[3];
    g->out_h = out->dims[1];
    g->out_w = out->dims[2];
    g->out_c = out->dims[3];
    if (out->dims[0] != g->batches) {
        // A dynamic batch stored as 1 (Keras' default) that an earlier op resized: follow the input.
        int32_t dims[4] = { g->batches, out->dims[1], out->dims[2], out->dims[3] };
        if (!tm_dynamic_batch(m, out) || tm_set_shape(m, (tm_tensor_t *)out, dims, 4) != TM_OK) {
            return tm_fail(m, "output batch %d differs from input batch %d", out->dims[0], g->batches);
        }
    }
    if (g->batches < 1 || g->in_c < 1 || g->out_c < 1) {
        return tm_fail(m, "empty input or output");
    }
    if (tm_window_dim(m, "height", padding, g->in_h, g->k_h, g->stride_h, g->dil_h, g->out_h, &g->pad_h) ||
        tm_window_dim(m, "width", padding, g->in_w, g->k_w, g->stride_w, g->dil_w, g->out_w, &g->pad_w)) {
        return TM_ERROR;
    }
    return TM_OK;
}

// Requantization of one output channel, as TFLM keeps it (8 bytes per channel).
typedef struct {
    int32_t multiplier;
    int32_t shift;
} tm_channel_q_t;

// Multipliers S_in * S_w[c] / S_out for `channels` channels (per-tensor filters repeat S_w[0]).
static inline tm_status_t tm_channel_q_prepare(tm_model_t *m, tm_channel_q_t *q, const tm_tensor_t *in,
    const tm_tensor_t *w, const tm_tensor_t *out, int32_t channels) {
    for (int32_t c = 0; c < channels; c++) {
        float w_scale = w->n_scales > 1 ? tm_load_f32(w->scales + 4 * c) : w->scale;
        int shift;
        if (!tm_quantize_ratio(in->scale, w_scale, out->scale, 1.0f, &q[c].multiplier, &shift)) {
            return tm_fail(m, "output scale is 0");
        }
        if (shift > 31) {
            return tm_fail(m, "channel %d: scale ratio S_in*S_w/S_out too large", c);
        }
        q[c].shift = shift;
    }
    return TM_OK;
}

// Checks shared by int8 CONV_2D and DEPTHWISE_CONV_2D filters, bias and output.
static inline tm_status_t tm_check_int8_conv(tm_model_t *m, const tm_tensor_t *in, const tm_tensor_t *w,
    const tm_tensor_t *bias, const tm_tensor_t *out, int32_t channels) {
    if (tm_expect_type(m, in, TM_INT8, "input") || tm_expect_type(m, w, TM_INT8, "filter") ||
        tm_expect_type(m, out, TM_INT8, "output") || (bias && tm_expect_type(m, bias, TM_INT32, "bias"))) {
        return TM_ERROR;
    }
    if (!w->is_const) {
        return tm_fail(m, "filter must be a constant tensor");
    }
    if (w->n_scales != 1 && (int32_t)w->n_scales != channels) {
        return tm_fail(m, "filter has %u scales for %d output channels", w->n_scales, channels);
    }
    if (w->zero_point != 0) {
        return tm_fail(m, "int8 filter must have zero point 0 (TFLite's quantization spec)");
    }
    if (out->scale == 0.0f || out->n_scales > 1 || in->n_scales > 1) {
        return tm_fail(m, "input and output need one nonzero scale each");
    }
    if (in->zero_point < -128 || in->zero_point > 127 || out->zero_point < -128 || out->zero_point > 127) {
        return tm_fail(m, "int8 zero points must be in -128..127");
    }
    return TM_OK;
}

static inline tm_status_t tm_check_bias(tm_model_t *m, const tm_tensor_t *bias, int32_t channels) {
    if (bias && tm_elements(bias) != channels) {
        return tm_fail(m, "bias has %d values for %d output channels", tm_elements(bias), channels);
    }
    if (bias && bias->is_const && ((uintptr_t)bias->data & 3)) {
        return tm_fail(m, "bias data is misaligned in the model buffer");
    }
    return TM_OK;
}

// Pools: Pool2DOptions, same types in and out, and (int8) TFLM's rule that pooling does not requantize.
enum { TM_POOL_PADDING = 0, TM_POOL_STRIDE_W = 1, TM_POOL_STRIDE_H = 2, TM_POOL_FILTER_W = 3,
       TM_POOL_FILTER_H = 4, TM_POOL_ACTIVATION = 5 };

static inline tm_status_t tm_pool_init(tm_model_t *m, tm_node_t *n, tm_window_t *g) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    g->k_h = tm_opt_i32(m, n, TM_POOL_FILTER_H, 0);
    g->k_w = tm_opt_i32(m, n, TM_POOL_FILTER_W, 0);
    g->stride_h = tm_opt_i32(m, n, TM_POOL_STRIDE_H, 0);
    g->stride_w = tm_opt_i32(m, n, TM_POOL_STRIDE_W, 0);
    g->dil_h = g->dil_w = 1;
    if (tm_window_init(m, g, in, out, tm_opt_u8(m, n, TM_POOL_PADDING, TM_PAD_SAME)) != TM_OK) {
        return TM_ERROR;
    }
    if (g->out_c != g->in_c) {
        return tm_fail(m, "output has %d channels, input %d", g->out_c, g->in_c);
    }
    if (in->type != out->type || (in->type != TM_INT8 && in->type != TM_FLOAT32)) {
        return tm_fail(m, "input and output must both be int8 or float32");
    }
    if (in->type == TM_INT8) {
        float d = in->scale - out->scale;
        if (d > 1e-6f || d < -1e-6f || in->zero_point != out->zero_point) {
            return tm_fail(m, "int8 input and output must have the same scale and zero point");
        }
        if (out->zero_point < -128 || out->zero_point > 127) {
            return tm_fail(m, "int8 zero point must be in -128..127");
        }
    }
    return TM_OK;
}

// Window of output position `o` along one dimension, clipped to the input: taps [*k0, *k1).
static inline void tm_pool_range(const tm_window_t *g, int vertical, int32_t o, int32_t *start, int32_t *k0,
    int32_t *k1) {
    int32_t size = vertical ? g->in_h : g->in_w, k = vertical ? g->k_h : g->k_w;
    int32_t s = o * (vertical ? g->stride_h : g->stride_w) - (vertical ? g->pad_h : g->pad_w);
    *start = s;
    *k0 = s < 0 ? -s : 0;
    *k1 = size - s < k ? size - s : k;
}

#endif
