// DEQUANTIZE: int8, uint8 or int16 -> float32, y = S * (x - Z) as a float32 product (TFLM's double product
// rounded to float: the same, as (x - Z) has at most 17 bits).
// tinyml-types: int8 uint8 int16
// tinyml-op: DEQUANTIZE 6
#include "../tm_internal.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (in->type != TM_INT8 && in->type != TM_UINT8 && in->type != TM_INT16) {
        return tm_fail(m, "input is %s: only int8, uint8 or int16 can be dequantized", tm_type_name(in->type));
    }
    if (tm_expect_type(m, out, TM_FLOAT32, "output")) {
        return TM_ERROR;
    }
    if (in->n_scales > 1) {
        return tm_fail(m, "per-channel dequantization is not supported");
    }
    if (tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input and output shapes differ");
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    float *y = (float *)out->data;
    const int32_t count = tm_elements(in), zp = in->zero_point;
    const float scale = in->scale;
    if (in->type == TM_INT16) {
        const int16_t *x = (const int16_t *)in->data;
        for (int32_t i = 0; i < count; i++) {
            y[i] = scale * (float)(x[i] - zp);
        }
    } else if (in->type == TM_UINT8) {
        const uint8_t *x = in->data;
        for (int32_t i = 0; i < count; i++) {
            y[i] = scale * (float)(x[i] - zp);
        }
    } else {
        const int8_t *x = (const int8_t *)in->data;
        for (int32_t i = 0; i < count; i++) {
            y[i] = scale * (float)(x[i] - zp);
        }
    }
    return TM_OK;
}

int tm_kernel_dequantize(tm_kernel_t *k) {
    k->name = "DEQUANTIZE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
