// RELU (int8 requantizes to the output scale) and RELU6 (int8 clamps in the input's quantization and, like
// TFLM, ignores the output's), and their float32 forms.
// tinyml-types: int8 float32
// tinyml-op: RELU 19
// tinyml-op: RELU6 21
#include "elementwise_common.h"

enum { OP_RELU6 = 21 };

typedef struct {
    int32_t mult, shift, zi, zo, lo, hi;
} relu_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_check_unary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(relu_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    relu_params_t *p = tm_persistent(m, n);
    if (tm_is_f32(in)) {
        return TM_OK;
    }
    p->zi = in->zero_point;
    p->zo = out->zero_point;
    if (n->opcode == OP_RELU6) {
        p->lo = in->zero_point;
        float six = 6.0f / in->scale;
        p->hi = tm_clamp(tm_round_f32(six < 1e9f ? six : 1e9f) + in->zero_point, -128, 127);
        return TM_OK;
    }
    p->lo = out->zero_point;        // int8 zero points are checked to lie in [-128, 127]
    p->hi = 127;
    return tm_multiplier(m, in->scale, 1.0f, out->scale, 1.0f, &p->mult, &p->shift);
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    int32_t count = tm_elements(in);
    const int relu6 = n->opcode == OP_RELU6;
    if (tm_is_f32(in)) {
        const float *x = (const float *)in->data;
        float *y = (float *)out->data;
        const float hi = relu6 ? 6.0f : 3.402823466e38f;
        for (int32_t i = 0; i < count; i++) {
            float v = x[i] < 0.0f ? 0.0f : x[i];   // as TFLM: -0 and NaN pass through
            y[i] = v > hi ? hi : v;
        }
        return TM_OK;
    }
    const relu_params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)in->data;
    int8_t *y = (int8_t *)out->data;
    if (relu6) {
        for (int32_t i = 0; i < count; i++) {
            y[i] = (int8_t)tm_clamp(x[i], p->lo, p->hi);
        }
        return TM_OK;
    }
    for (int32_t i = 0; i < count; i++) {
        int32_t v = tm_mbqm(x[i] - p->zi, p->mult, p->shift) + p->zo;
        y[i] = (int8_t)tm_clamp(v, p->lo, p->hi);
    }
    return TM_OK;
}

int tm_kernel_relu(tm_kernel_t *k) {
    k->name = "RELU";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
