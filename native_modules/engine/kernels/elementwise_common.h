// Checks and multiplier helpers shared by the elementwise kernels (activations, ADD/SUB/MUL).
#ifndef TM_ELEMENTWISE_COMMON_H
#define TM_ELEMENTWISE_COMMON_H

#include "../tm_internal.h"
#include "../tm_quant.h"

// A per-tensor int8 tensor with a usable scale and an int8 zero point: keeps (x - zero_point) small, so no
// kernel arithmetic can overflow on hostile quantization parameters.
static inline tm_status_t tm_check_int8(tm_model_t *m, const tm_tensor_t *t, const char *what) {
    if (tm_expect_type(m, t, TM_INT8, what)) {
        return TM_ERROR;
    }
    if (!(t->scale > 0.0f && t->scale <= 3.4028235e38f)) {
        return tm_fail(m, "%s has no valid quantization scale", what);
    }
    if (t->zero_point < -128 || t->zero_point > 127) {
        return tm_fail(m, "%s zero point %d is outside the int8 range", what, t->zero_point);
    }
    if (t->n_scales > 1) {
        return tm_fail(m, "%s is quantized per channel: only per-tensor quantization is supported", what);
    }
    return TM_OK;
}

// QuantizeMultiplier((n1*n2)/(d1*d2)) for tm_mbqm; fails when the left shift would exceed 31 bits.
static inline tm_status_t tm_multiplier(tm_model_t *m, float n1, float n2, float d1, float d2, int32_t *mult,
                                        int32_t *shift) {
    int s;
    tm_quantize_ratio(n1, n2, d1, d2, mult, &s);
    if (s > 31) {
        return tm_fail(m, "quantization scales out of range (multiplier 2^%d)", s);
    }
    *shift = s;
    return TM_OK;
}

// One input, one output of the same element count, both float32 or both int8 (checked as above), typed by the
// input: what every unary elementwise kernel accepts.
static inline tm_status_t tm_check_unary(tm_model_t *m, tm_node_t *n) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (in->type == TM_FLOAT32 ? tm_expect_type(m, out, TM_FLOAT32, "output")
                               : tm_check_int8(m, in, "input") || tm_check_int8(m, out, "output")) {
        return TM_ERROR;
    }
    if (tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input has %d values, output %d", tm_elements(in), tm_elements(out));
    }
    return TM_OK;
}

// TFLM's min(max(v, lo), hi) for a fused float32 activation: NaN passes through.
static inline float tm_clamp_f32(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

#endif
