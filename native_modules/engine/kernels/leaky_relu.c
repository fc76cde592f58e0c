// LEAKY_RELU: int8 with separate requantizations of the positive and the negative side (alpha may be
// negative: its multiplier is then negative, as in TFLM), and float32.
// tinyml-types: int8 float32
// tinyml-op: LEAKY_RELU 98
#include "elementwise_common.h"

enum { OPT_ALPHA = 0 };

typedef struct {
    int32_t m_alpha, s_alpha, m_id, s_id, zi, zo;
    float alpha;                    // float32 layers
} leaky_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_check_unary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(leaky_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    leaky_params_t *p = tm_persistent(m, n);
    const float alpha = tm_opt_f32(m, n, OPT_ALPHA, 0.0f);
    p->alpha = alpha;
    if (tm_is_f32(in)) {
        return TM_OK;
    }
    p->zi = in->zero_point;
    p->zo = out->zero_point;
    if (tm_multiplier(m, in->scale, alpha, out->scale, 1.0f, &p->m_alpha, &p->s_alpha) ||
        tm_multiplier(m, in->scale, 1.0f, out->scale, 1.0f, &p->m_id, &p->s_id)) {
        return TM_ERROR;
    }
    // (x - zi) has 9 bits: keep the left-shifted value inside int32.
    if (p->s_alpha > 22 || p->s_id > 22) {
        return tm_fail(m, "output scale too small for the input scale");
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    const leaky_params_t *p = tm_persistent(m, n);
    int32_t count = tm_elements(in);
    if (tm_is_f32(in)) {
        const float *x = (const float *)in->data;
        float *y = (float *)out->data;
        const float alpha = p->alpha;
        for (int32_t i = 0; i < count; i++) {
            y[i] = x[i] > 0.0f ? x[i] : x[i] * alpha;
        }
        return TM_OK;
    }
    const int8_t *x = (const int8_t *)in->data;
    int8_t *y = (int8_t *)out->data;
    for (int32_t i = 0; i < count; i++) {
        int32_t v = x[i] - p->zi;
        int32_t r = v >= 0 ? tm_mbqm(v, p->m_id, p->s_id) : tm_mbqm(v, p->m_alpha, p->s_alpha);
        y[i] = (int8_t)tm_clamp(r + p->zo, -128, 127);
    }
    return TM_OK;
}

int tm_kernel_leaky_relu(tm_kernel_t *k) {
    k->name = "LEAKY_RELU";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
