// REDUCE_MAX: int8 and float32 over any set of constant axes (Keras GlobalMaxPooling1D/2D), keep_dims or not.
// tinyml-op: REDUCE_MAX 82
//
// As TFLM's ReduceGeneric: every output starts at the type's lowest value and takes each input element in
// row-major order when it is greater (so no requantization: TFLM requires equal input and output
// quantization for int8, and so does this kernel).
#include "../tm_internal.h"

typedef struct {
    tm_tensor_t *in, *out;
    int32_t rank, outputs;
    uint8_t reduced[TM_MAX_DIMS];
} reduce_t;

static tm_status_t get_reduce(tm_model_t *m, tm_node_t *n, reduce_t *r) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    r->in = tm_in(m, n, 0);
    r->out = tm_out(m, n, 0);
    tm_tensor_t *axes = tm_in(m, n, 1);
    if (tm_expect_type(m, axes, TM_INT32, "axis") || !axes->is_const || axes->ndim > 1) {
        return tm_fail(m, "axis must be a constant int32 scalar or vector");
    }
    r->rank = r->in->ndim;
    for (int d = 0; d < TM_MAX_DIMS; d++) {
        r->reduced[d] = 0;
    }
    const int32_t n_axes = tm_elements(axes);
    for (int32_t i = 0; i < n_axes; i++) {
        int32_t a = tm_load_i32(axes->data + 4 * i);
        if (a < 0) {
            a += r->rank;
        }
        if (a < 0 || a >= r->rank) {
            return tm_fail(m, "axis %d out of range for a %d-D input", tm_load_i32(axes->data + 4 * i), r->rank);
        }
        r->reduced[a] = 1;      // duplicates count once, as in TFLM
    }
    r->outputs = 1;
    for (int d = 0; d < r->rank; d++) {
        if (!r->reduced[d]) {
            r->outputs *= r->in->dims[d];
        }
    }
    if (tm_elements(r->in) == 0) {
        return tm_fail(m, "empty input");
    }
    if (tm_elements(r->out) != r->outputs) {
        return tm_fail(m, "output has %d values, reducing the input gives %d", tm_elements(r->out), r->outputs);
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    reduce_t r = { 0 };
    if (get_reduce(m, n, &r) != TM_OK) {
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
    reduce_t r = { 0 };
    get_reduce(m, n, &r);
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
    // Visit the input in row-major order, one innermost run at a time; `o` is the output index, which only
    // the kept dims move.
    const int32_t rank = r.rank;
    int32_t stride[TM_MAX_DIMS], idx[TM_MAX_DIMS];
    int32_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        stride[d] = r.reduced[d] ? 0 : s;
        s *= r.reduced[d] ? 1 : r.in->dims[d];
        idx[d] = 0;
    }
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
        for (int d = rank - 2; d >= 0; d--) {
            o += stride[d];
            if (++idx[d] < r.in->dims[d]) {
                break;
            }
            o -= stride[d] * r.in->dims[d];
            idx[d] = 0;
        }
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
