// DEQUANTIZE: int8 -> float32, y = S * (x - Z) as a float32 product.
// tinyml-op: DEQUANTIZE 6
#include "../tm_internal.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (tm_expect_type(m, in, TM_INT8, "input") || tm_expect_type(m, out, TM_FLOAT32, "output")) {
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
    const int8_t *x = (const int8_t *)in->data;
    float *y = (float *)out->data;
    int32_t count = tm_elements(in);
    for (int32_t i = 0; i < count; i++) {
        y[i] = in->scale * (float)(x[i] - in->zero_point);
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
