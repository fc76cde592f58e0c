// REDUCE_MAX: int8 and float32 over any set of constant axes (Keras GlobalMaxPooling1D/2D), keep_dims or not.
// tinyml-types: int8 float32
// tinyml-op: REDUCE_MAX 82
//
// As TFLM's ReduceGeneric: every output starts at the type's lowest value and takes each input element in
// row-major order when it is greater (so no requantization: TFLM requires equal input and output
// quantization for int8, and so does this kernel).
#include "reduce_common.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_reduce_t r = { 0 };
    if (tm_reduce_parse(m, n, &r) != TM_OK) {
        return TM_ERROR;
    }
    if (r.in->type != r.out->type || (r.in->type != TM_INT8 && r.in->type != TM_FLOAT32)) {
        return tm_fail(m, "input and output must both be int8 or float32");
    }
    if (r.in->type == TM_INT8 && (r.in->scale != r.out->scale || r.in->zero_point != r.out->zero_point)) {
        return tm_fail(m, "int8 input and output must have the same scale and zero point (as TFLM requires)");
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_reduce_t r = { 0 };
    tm_reduce_parse(m, n, &r);
    const int is_int8 = !tm_is_f32(r.in);
    int8_t *yi = (int8_t *)r.out->data;
    float *yf = (float *)r.out->data;
    for (int32_t i = 0; i < r.outputs; i++) {
        if (is_int8) {
            yi[i] = -128;
        } else {
            yf[i] = -3.402823466e38f;   // std::numeric_limits<float>::lowest()
        }
    }
    // Each innermost run takes the greater of its values and the outputs they reduce into.
    const int32_t rank = r.rank;
    int32_t stride[TM_MAX_DIMS], idx[TM_MAX_DIMS];
    tm_reduce_walk_start(&r, stride, idx);
    const int32_t inner = rank ? r.in->dims[rank - 1] : 1;
    const int32_t step = rank && !r.reduced[rank - 1] ? 1 : 0;
    const int32_t runs = tm_elements(r.in) / inner;
    int32_t o = 0;
    for (int32_t run = 0; run < runs; run++) {
        const int32_t base = run * inner;
        if (is_int8) {
            const int8_t *x = (const int8_t *)r.in->data + base;
            for (int32_t j = 0; j < inner; j++) {
                int8_t *c = yi + o + j * step;
                *c = x[j] > *c ? x[j] : *c;
            }
        } else {
            const float *x = (const float *)r.in->data + base;
            for (int32_t j = 0; j < inner; j++) {
                float *c = yf + o + j * step;
                *c = x[j] > *c ? x[j] : *c;
            }
        }
        TM_REDUCE_NEXT_RUN(o, r, rank, stride, idx)
    }
    return TM_OK;
}

int tm_kernel_reduce_max(tm_kernel_t *k) {
    k->name = "REDUCE_MAX";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
