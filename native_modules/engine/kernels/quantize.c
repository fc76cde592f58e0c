// QUANTIZE: float32 -> int8, uint8 or int16 (round half away from zero), and requantization between int8
// and uint8 (e.g. microWakeWord's final int8 -> uint8) and between int8 and int16 (16x8 quantization): TFLM's
// Requantize, the same arithmetic for every pair, clamped to the output type's range. As in TFLM, uint8 and
// int16 do not convert into each other.
// tinyml-types: float32 int8 uint8 int16
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
    if (out->type != TM_INT8 && out->type != TM_UINT8 && out->type != TM_INT16) {
        return tm_fail(m, "output is %s: only int8, uint8 or int16 outputs are supported", tm_type_name(out->type));
    }
    if (in->type != TM_FLOAT32 && in->type != TM_INT8 && in->type != TM_UINT8 && in->type != TM_INT16) {
        return tm_fail(m, "input is %s: only float32, int8, uint8 or int16 can be quantized", tm_type_name(in->type));
    }
    if ((in->type == TM_UINT8 && out->type == TM_INT16) || (in->type == TM_INT16 && out->type == TM_UINT8)) {
        return tm_fail(m, "%s -> %s is not supported (nor by TFLM)", tm_type_name(in->type), tm_type_name(out->type));
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

// Element i of an int8, uint8 or int16 tensor's data.
static inline int32_t load_int(const uint8_t *x, int type, int32_t i) {
    return type == TM_INT16 ? ((const int16_t *)x)[i] : (type == TM_INT8 ? (int8_t)x[i] : x[i]);
}

// Store v (already clamped to the type's range) as element i.
static inline void store_int(uint8_t *y, int type, int32_t i, int32_t v) {
    if (type == TM_INT16) {
        ((int16_t *)y)[i] = (int16_t)v;
    } else {
        y[i] = (uint8_t)v;  // int8 and uint8: the value's low 8 bits
    }
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    int32_t count = tm_elements(in);
    uint8_t *y = out->data;
    const int32_t zo = out->zero_point, ot = out->type;
    const int32_t lo = ot == TM_UINT8 ? 0 : (ot == TM_INT16 ? -32768 : -128);
    const int32_t hi = ot == TM_UINT8 ? 255 : (ot == TM_INT16 ? 32767 : 127);
    if (in->type == TM_FLOAT32) {
        const float *x = (const float *)in->data;
        float scale = out->scale;
        for (int32_t i = 0; i < count; i++) {
            float v = x[i] / scale;
            // Out of int32 range (and NaN) the conversion is undefined in C, and TFLM's result depends on the
            // CPU: saturate, and take NaN as 0 (the zero point), as predict() does (tinyml/values.h).
            v = v != v ? 0.0f : (v > 1e9f ? 1e9f : (v < -1e9f ? -1e9f : v));
            store_int(y, ot, i, tm_clamp(tm_round_f32(v) + zo, lo, hi));
        }
    } else {
        const requant_t *p = tm_persistent(m, n);
        const uint8_t *x = in->data;
        const int32_t zi = in->zero_point, it = in->type;
        for (int32_t i = 0; i < count; i++) {
            int32_t v = load_int(x, it, i);
            store_int(y, ot, i, tm_clamp(tm_mbqm(v - zi, p->multiplier, p->shift) + zo, lo, hi));
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
