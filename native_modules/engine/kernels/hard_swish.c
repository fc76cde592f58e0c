// HARD_SWISH: x * relu6(x + 3) / 6. int8 in TFLM's int16 fixed point (a "reluish" factor in [0, 1) times
// the input on the output scale); float32 as TFLM's reference.
// tinyml-types: int8 float32
// tinyml-op: HARD_SWISH 117
#include "elementwise_common.h"

typedef struct {
    int32_t zi, zo;
    int32_t out_m16, out_e, relu_m16, relu_e;
} hard_swish_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_check_unary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(hard_swish_params_t);
    return TM_OK;
}

// A QuantizeMultiplier mantissa rounded to 16 bits (DownScaleInt32ToInt16Multiplier).
static int32_t to_int16_multiplier(int32_t m32) {
    return m32 >= INT32_MAX - (1 << 15) ? 32767 : (m32 + (1 << 15)) >> 16;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    hard_swish_params_t *p = tm_persistent(m, n);
    if (tm_is_f32(in)) {
        return TM_OK;
    }
    // The input on a 7-bit finer scale ("hires"), to the output scale and to the reluish scale 3/32768.
    float hires = (1.0f / 128.0f) * in->scale;
    int32_t m32;
    if (tm_multiplier(m, hires, 1.0f, out->scale, 1.0f, &m32, &p->out_e)) {
        return TM_ERROR;
    }
    p->out_m16 = to_int16_multiplier(m32);
    if (p->out_e > 0) {
        return tm_fail(m, "output scale is too small for HARD_SWISH (below 1/128 of the input scale)");
    }
    if (tm_multiplier(m, hires, 1.0f, 3.0f / 32768.0f, 1.0f, &m32, &p->relu_e)) {
        return TM_ERROR;
    }
    p->relu_m16 = to_int16_multiplier(m32);
    p->zi = in->zero_point;
    p->zo = out->zero_point;
    return TM_OK;
}

static inline int16_t srdhm16(int16_t a, int16_t b) {
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    int32_t ab = (int32_t)a * b;
    return (int16_t)((ab + (ab >= 0 ? (1 << 14) : 1 - (1 << 14))) / (1 << 15));
}

static inline int16_t sat_shl16(int16_t v, int e) {
    int32_t r = (int32_t)((uint32_t)(int32_t)v << e);   // |v| < 2^15 and e < 16 below: no int32 overflow
    return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    int32_t count = tm_elements(in);
    if (tm_is_f32(in)) {
        const float *x = (const float *)in->data;
        float *y = (float *)out->data;
        for (int32_t i = 0; i < count; i++) {
            float r = 0.0f < x[i] + 3.0f ? x[i] + 3.0f : 0.0f;
            y[i] = x[i] * (r < 6.0f ? r : 6.0f) / 6.0f;
        }
        return TM_OK;
    }
    const hard_swish_params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)in->data;
    int8_t *y = (int8_t *)out->data;
    const int relu_e = p->relu_e > 16 ? 16 : p->relu_e; // beyond 16 every shift saturates alike
    for (int32_t i = 0; i < count; i++) {
        int16_t hires = (int16_t)((x[i] - p->zi) * 128);
        int16_t pre = srdhm16(hires, (int16_t)p->out_m16);
        int16_t r = hires;
        if (relu_e > 0) {
            r = sat_shl16(r, relu_e - 1);
        }
        r = srdhm16(r, (int16_t)p->relu_m16);
        if (relu_e > 0) {
            r = sat_shl16(r, 1);
        } else if (relu_e < 0) {
            r = (int16_t)tm_rdbpot(r, -relu_e);
        }
        r = (int16_t)((r + (1 << 15)) >> 1);             // reluish in [0, 1) as Q15
        int16_t o = (int16_t)(((int32_t)r * pre) / (1 << 15)); // non-rounding doubling high multiply
        y[i] = (int8_t)tm_clamp(tm_rdbpot(o, -p->out_e) + p->zo, -128, 127);
    }
    return TM_OK;
}

int tm_kernel_hard_swish(tm_kernel_t *k) {
    k->name = "HARD_SWISH";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
