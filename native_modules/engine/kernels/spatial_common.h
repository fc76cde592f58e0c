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

// What prepare keeps of a checked window's options (strides, dilations, leading pads), so that eval rebuilds
// the tm_window_t from these and the tensors' dims (tm_window_init with `kept`) without parsing options or
// checking again.
typedef struct {
    uint16_t stride_h, stride_w, dil_h, dil_w;      // 1..65535 (tm_window_dim)
    int32_t pad_h, pad_w;
} tm_window_keep_t;

static inline void tm_window_keep(tm_window_keep_t *k, const tm_window_t *g) {
    k->stride_h = (uint16_t)g->stride_h;
    k->stride_w = (uint16_t)g->stride_w;
    k->dil_h = (uint16_t)g->dil_h;
    k->dil_w = (uint16_t)g->dil_w;
    k->pad_h = g->pad_h;
    k->pad_w = g->pad_w;
}

// Fills the geometry from a 4-D NHWC input/output pair. kept == NULL (init, prepare): checks the pair and
// computes the pads (k_h, k_w, strides and dilations set by the caller; padding TM_PAD_SAME or TM_PAD_VALID);
// out_c is the model's, the caller checks it against the filter. Else (eval): strides, dilations and pads are
// what prepare kept, and nothing is checked again. In tm_window.c: one copy for all the windowed kernels
// (`// tinyml-uses: tm_window.c`), not one per kernel.
tm_status_t tm_window_init(tm_model_t *m, tm_window_t *g, const tm_tensor_t *in, const tm_tensor_t *out,
    int padding, const tm_window_keep_t *kept);

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

// Pools: Pool2DOptions, same types in and out, and (int8, int16) TFLM's rule that pooling does not requantize.
enum { TM_POOL_PADDING = 0, TM_POOL_STRIDE_W = 1, TM_POOL_STRIDE_H = 2, TM_POOL_FILTER_W = 3,
       TM_POOL_FILTER_H = 4, TM_POOL_ACTIVATION = 5 };

// Pools' persistent data (init requests it, tm_pool_prepare sets it): the window's kept options, the filter
// size and the fused activation range, so that eval parses and checks nothing.
typedef struct {
    tm_window_keep_t win;
    int32_t k_h, k_w;
    int32_t lo, hi;                 // int8 or int16 activation range
    float flo, fhi;                 // float32 activation range
} tm_pool_params_t;

// The pool's window. kept == NULL (init, prepare): from the options, checked; else (eval) from what
// tm_pool_prepare kept.
__attribute__((noinline, unused))   // one copy for init, prepare and eval; unused by the convolutions
static tm_status_t tm_pool_init(tm_model_t *m, tm_node_t *n, tm_window_t *g,
    const tm_pool_params_t *kept) {
    if (!kept && tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (kept) {
        g->k_h = kept->k_h;
        g->k_w = kept->k_w;
    } else {
        g->k_h = tm_opt_i32(m, n, TM_POOL_FILTER_H, 0);
        g->k_w = tm_opt_i32(m, n, TM_POOL_FILTER_W, 0);
        g->stride_h = tm_opt_i32(m, n, TM_POOL_STRIDE_H, 0);
        g->stride_w = tm_opt_i32(m, n, TM_POOL_STRIDE_W, 0);
        g->dil_h = g->dil_w = 1;
    }
    const int padding = kept ? 0 : tm_opt_u8(m, n, TM_POOL_PADDING, TM_PAD_SAME);
    if (tm_window_init(m, g, in, out, padding, kept ? &kept->win : 0) != TM_OK) {
        return TM_ERROR;
    }
    if (kept) {
        return TM_OK;
    }
    if (g->out_c != g->in_c) {
        return tm_fail(m, "output has %d channels, input %d", g->out_c, g->in_c);
    }
    // int16 only where the int16 paths are built: a module without them refuses int16 models at load
    // (tm_model.c), and these checks would cost each pool 144 bytes of Cortex-M4 code.
    const int int16 = TM_INT16_KERNELS && in->type == TM_INT16;
    if (in->type != out->type || (in->type != TM_INT8 && !int16 && in->type != TM_FLOAT32)) {
        return tm_fail(m, "input and output must both be int8, int16 or float32");
    }
    if (in->type != TM_FLOAT32) {
        float d = in->scale - out->scale;
        if (d > 1e-6f || d < -1e-6f || in->zero_point != out->zero_point) {
            return tm_fail(m, "%s input and output must have the same scale and zero point", int16 ? "int16" : "int8");
        }
        if (!int16 && (out->zero_point < -128 || out->zero_point > 127)) {
            return tm_fail(m, "int8 zero point must be in -128..127");
        }
        if (int16 && (out->zero_point < -32768 || out->zero_point > 32767)) {
            return tm_fail(m, "int16 zero point must be in -32768..32767");
        }
    }
    return TM_OK;
}

static inline tm_status_t tm_pool_prepare(tm_model_t *m, tm_node_t *n) {
    tm_window_t g = { 0 };
    tm_pool_init(m, n, &g, 0);
    tm_pool_params_t *p = tm_persistent(m, n);
    const tm_tensor_t *out = tm_out(m, n, 0);
    const int32_t act = tm_opt_u8(m, n, TM_POOL_ACTIVATION, 0);
    tm_window_keep(&p->win, &g);
    p->k_h = g.k_h;
    p->k_w = g.k_w;
    p->lo = p->hi = 0;
    p->flo = p->fhi = 0.0f;
    if (tm_is_f32(out)) {
        tm_activation_range_f32(act, &p->flo, &p->fhi);
    } else if (tm_is_i16(out)) {
        tm_activation_range_int16(act, out->scale, out->zero_point, &p->lo, &p->hi);
    } else {
        tm_activation_range_int8(act, out->scale, out->zero_point, &p->lo, &p->hi);
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
