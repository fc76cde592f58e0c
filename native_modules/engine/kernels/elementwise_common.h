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

// One input, one output of the same element count and the given types (int8 ones checked as above).
static inline tm_status_t tm_check_unary(tm_model_t *m, tm_node_t *n, int type) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (type == TM_INT8 ? tm_check_int8(m, in, "input") || tm_check_int8(m, out, "output")
                        : tm_expect_type(m, in, type, "input") || tm_expect_type(m, out, type, "output")) {
        return TM_ERROR;
    }
    if (tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input has %d values, output %d", tm_elements(in), tm_elements(out));
    }
    return TM_OK;
}

#endif
