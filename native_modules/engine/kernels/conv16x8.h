// Shared by the 16x8 paths (int16 activations, int8 weights) of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED,
// as TFLM defines them (reference_integer_ops::ConvPerChannel, DepthwiseConvPerChannel, FullyConnected and
// FullyConnectedPerChannel for int16 input): checks, the accumulator choice, the bias and the requantization.
//
// TFLM sums w * x exactly (no input offset: 16x8 activations are symmetric), adds the bias and requantizes
// with no output offset. With an int64 bias (the converter's default) the sum is int64 and the requantization
// the int64 MultiplyByQuantizedMultiplier (tm_mbqm64); with an int32 bias (or none, when the op's
// quantized_bias_type option says INT32) the sum is an int32 that wraps and the requantization the int8
// kernels' (tm_mbqm). The kernels compute the exact int64 sum of the taps, which gives both: its low 32 bits
// are the wrapped int32 sum.
#ifndef TM_CONV16X8_H
#define TM_CONV16X8_H

#include "../tm_internal.h"
#include "../tm_quant.h"

// A build for a model without int16 activations leaves the 16x8 paths out (-DTM_INT16_KERNELS=0, as
// TM_FLOAT_KERNELS=0 leaves the float32 ones): tm_is_i16 (tm_internal.h) is then a constant 0 and the compiler
// drops them (the three kernels' 16x8 paths: 4.0 KB of kws_ref_model's ESP32 pack, 4.7 KB on armv6m).

// Taps per int32 partial sum: |w * x| <= 128 * 32768 = 2^22, so 256 products stay below 2^30 in an int32 and
// the inner loops need no 64-bit adds (which are slow, or library calls, on the small cores).
#define TM_16X8_BLOCK 256

// The input, weights, bias and output types and quantization of a 16x8 layer with `channels` output channels
// (what TFLM accepts and computes correctly). int32_bias_ok: the op can take an int32 bias (CONV_2D and
// FULLY_CONNECTED; TFLM's DEPTHWISE_CONV_2D reads any bias as int64).
static inline tm_status_t tm_check_16x8(tm_model_t *m, const tm_tensor_t *in, const tm_tensor_t *w,
    const tm_tensor_t *bias, const tm_tensor_t *out, int32_t channels, int int32_bias_ok) {
    if (tm_expect_type(m, w, TM_INT8, "int16 layer's filter") || tm_expect_type(m, out, TM_INT16, "output")) {
        return TM_ERROR;
    }
    if (bias && bias->type != TM_INT64 && !(int32_bias_ok && bias->type == TM_INT32)) {
        return tm_fail(m, int32_bias_ok ? "int16 layer's bias must be int64 or int32"
                                        : "int16 layer's bias must be int64 (TFLM reads it as int64)");
    }
    if (!w->is_const || (bias && !bias->is_const)) {
        return tm_fail(m, "weights and bias must be constant tensors");
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
    if (in->zero_point != 0 || out->zero_point != 0) {
        return tm_fail(m, "int16 input and output must have zero point 0 (16x8 quantization is symmetric)");
    }
    return TM_OK;
}

// 1 when TFLM accumulates this layer in int32: an int32 bias, or no bias and the quantized_bias_type option
// (`bias_type_field` of the op's options; -1 if it has none) naming INT32.
static inline int tm_16x8_acc32(tm_model_t *m, tm_node_t *n, const tm_tensor_t *bias, int bias_type_field) {
    if (bias) {
        return bias->type == TM_INT32;
    }
    return bias_type_field >= 0 && tm_opt_u8(m, n, bias_type_field, 0) == TM_INT32;
}

// A multiplier's shift, checked for the int64 requantization (TFLM's shifts by 15 - shift; the int32 one
// takes what tm_quantize_ratio allows).
static inline tm_status_t tm_16x8_check_shift(tm_model_t *m, int acc32, int shift, int32_t channel) {
    if (!acc32 && shift > 14) {
        return tm_fail(m, "channel %d: scale ratio S_in*S_w/S_out is 2^14 or more, too large for 16x8", channel);
    }
    return TM_OK;
}

// Bias `i` of a 16x8 layer as int64 (read as two words: constant data is only 4-byte aligned).
static inline int64_t tm_16x8_bias(const tm_tensor_t *bias, int acc32, int32_t i) {
    if (!bias) {
        return 0;
    }
    if (acc32) {
        return ((const int32_t *)bias->data)[i];
    }
    const uint32_t *b = (const uint32_t *)bias->data + 2 * i;
    return (int64_t)(((uint64_t)b[1] << 32) | b[0]);
}

// One output value: the exact sum of the taps plus the bias, requantized as TFLM does for this accumulator,
// clamped to the fused activation range [lo, hi].
static inline int16_t tm_16x8_output(int64_t sum, const tm_tensor_t *bias, int acc32, int32_t oc, int32_t multiplier,
    int shift, int32_t lo, int32_t hi) {
    int32_t v;
    if (acc32) {
        const int32_t acc = (int32_t)((uint32_t)(uint64_t)sum + (uint32_t)tm_16x8_bias(bias, 1, oc));
        v = tm_mbqm(acc, multiplier, shift);
    } else {
        v = tm_mbqm64(sum + tm_16x8_bias(bias, 0, oc), multiplier, shift);
    }
    return (int16_t)tm_clamp(v, lo, hi);
}

// sum(w[k] * x[k]) over len taps, exact.
static inline int64_t tm_16x8_dot(const int8_t *w, const int16_t *x, int32_t len) {
    int64_t total = 0;
    for (int32_t k0 = 0; k0 < len; k0 += TM_16X8_BLOCK) {
        const int32_t k1 = len - k0 < TM_16X8_BLOCK ? len : k0 + TM_16X8_BLOCK;
        int32_t s = 0;
        for (int32_t k = k0; k < k1; k++) {
            s += w[k] * (int32_t)x[k];
        }
        total += s;
    }
    return total;
}

#endif
