// ELU: x < 0 ? exp(x) - 1 : x. int8 through a 256-entry table built in float at prepare time (as TFLM,
// with expf(x) - 1); float32 with expm1f (TFLM's TfLiteExpm1).
// tinyml-types: int8 float32
// tinyml-op: ELU 111
#include "elementwise_common.h"
// tinyml-uses: tm_math.c
#include "../tm_math.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_check_unary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = tm_in(m, n, 0)->type == TM_INT8 ? 256 : 0;  // the int8 lookup table
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (tm_is_f32(in)) {
        return TM_OK;
    }
    int8_t *lut = tm_persistent(m, n);
    const float inv_scale = 1.0f / out->scale;
    for (int32_t v = -128; v <= 127; v++) {
        float f = in->scale * (float)(v - in->zero_point);
        float g = f < 0.0f ? tm_expf(f) - 1.0f : f;
        float r = g * inv_scale;
        r = r > 1e9f ? 1e9f : (r < -1e9f ? -1e9f : r);  // far outside int8 anyway: keeps the rounding defined
        lut[v + 128] = (int8_t)tm_clamp((int32_t)((float)tm_round_f32(r) + (float)out->zero_point), -128, 127);
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    int32_t count = tm_elements(in);
    if (tm_is_f32(in)) {
        const float *x = (const float *)in->data;
        float *y = (float *)out->data;
        for (int32_t i = 0; i < count; i++) {
            y[i] = x[i] < 0.0f ? tm_expm1f(x[i]) : x[i];
        }
        return TM_OK;
    }
    const int8_t *lut = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)in->data;
    int8_t *y = (int8_t *)out->data;
    for (int32_t i = 0; i < count; i++) {
        y[i] = lut[x[i] + 128];
    }
    return TM_OK;
}

int tm_kernel_elu(tm_kernel_t *k) {
    k->name = "ELU";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
