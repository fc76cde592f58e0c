// QUANTIZE: float32 -> int8 or uint8 (round half away from zero), and requantization between int8 and uint8
// (TFLM's Requantize: same arithmetic for every pair, e.g. microWakeWord's final int8 -> uint8).
// tinyml-op: QUANTIZE 114
#include "../tm_internal.h"
#include "../tm_quant.h"

typedef struct {
    int32_t multiplier, shift;
} requant_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (out->type != TM_INT8 && out->type != TM_UINT8) {
        return tm_fail(m, "output is %s: only int8 or uint8 outputs are supported", tm_type_name(out->type));
    }
    if (in->type != TM_FLOAT32 && in->type != TM_INT8 && in->type != TM_UINT8) {
        return tm_fail(m, "input is %s: only float32, int8 or uint8 can be quantized", tm_type_name(in->type));
    }
    if (out->n_scales > 1) {
        return tm_fail(m, "per-channel output quantization is not supported");
    }
    if (!(out->scale > 0.0f)) { // also catches NaN
        return tm_fail(m, "output scale must be positive");
    }
    if (tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input and output shapes differ");
    }
    req->persistent_bytes = sizeof(requant_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    requant_t *p = tm_persistent(m, n);
    if (in->type != TM_FLOAT32) {
        int shift;
        if (!tm_quantize_ratio(in->scale, 1.0f, out->scale, 1.0f, &p->multiplier, &shift)) {
            return tm_fail(m, "input/output scales out of range");
        }
        p->shift = shift;
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    int32_t count = tm_elements(in);
    uint8_t *y = out->data;
    int32_t zo = out->zero_point;
    // int8 and uint8 outputs: the same clamp, shifted; the byte written is the value's low 8 bits.
    const int32_t lo = out->type == TM_UINT8 ? 0 : -128, hi = lo + 255;
    if (in->type == TM_FLOAT32) {
        const float *x = (const float *)in->data;
        float scale = out->scale;
        for (int32_t i = 0; i < count; i++) {
            float v = x[i] / scale;
            v = v > 1e9f ? 1e9f : (v < -1e9f ? -1e9f : v); // out of int32 range is undefined in TFLM
            y[i] = (uint8_t)tm_clamp(tm_round_f32(v) + zo, lo, hi);
        }
    } else {
        const requant_t *p = tm_persistent(m, n);
        const uint8_t *x = in->data;
        int32_t zi = in->zero_point;
        const int is_signed = in->type == TM_INT8;
        for (int32_t i = 0; i < count; i++) {
            int32_t v = is_signed ? (int8_t)x[i] : x[i];
            y[i] = (uint8_t)tm_clamp(tm_mbqm(v - zi, p->multiplier, p->shift) + zo, lo, hi);
        }
    }
    return TM_OK;
}

int tm_kernel_quantize(tm_kernel_t *k) {
    k->name = "QUANTIZE";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
