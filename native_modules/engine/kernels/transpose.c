// TRANSPOSE: output dim j is input dim perm[j] (perm a constant int32 vector); any element type.
// tinyml-op: TRANSPOSE 39
#include "../tm_internal.h"

typedef struct {
    int32_t ndim;
    int32_t dims[TM_MAX_DIMS];      // output dims
    int32_t stride[TM_MAX_DIMS];    // input element stride for a step along each output dim
} transpose_params_t;

static tm_status_t get_params(tm_model_t *m, tm_node_t *n, transpose_params_t *p) {
    tm_tensor_t *in = tm_in(m, n, 0), *perm = tm_in(m, n, 1), *out = tm_out(m, n, 0);
    int rank = in->ndim;
    if (tm_expect_type(m, perm, TM_INT32, "perm") != TM_OK) {
        return TM_ERROR;
    }
    if (!perm->is_const) {
        return tm_fail(m, "perm must be a constant tensor");
    }
    if (tm_elements(perm) != rank || out->ndim != rank || out->type != in->type) {
        return tm_fail(m, "perm of %d entries, input of %d dims and output of %d dims differ", tm_elements(perm),
            rank, out->ndim);
    }
    int32_t in_stride[TM_MAX_DIMS];
    int32_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        in_stride[d] = s;
        s *= in->dims[d];
    }
    uint32_t seen = 0;
    for (int j = 0; j < rank; j++) {
        int32_t k = tm_load_i32(perm->data + 4 * j);
        if (k < 0 || k >= rank || (seen >> k & 1)) {
            return tm_fail(m, "perm entry %d is out of range or repeated", k);
        }
        seen |= 1u << k;
        if (out->dims[j] != in->dims[k]) {
            return tm_fail(m, "output dim %d is %d, but perm takes input dim of %d", j, out->dims[j], in->dims[k]);
        }
        p->dims[j] = out->dims[j];
        p->stride[j] = in_stride[k];
    }
    if (rank == 0) {                // a scalar: one element
        p->dims[0] = 1;
        p->stride[0] = 0;
        rank = 1;
    }
    p->ndim = rank;
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    transpose_params_t p;
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK || get_params(m, n, &p) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(transpose_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    return get_params(m, n, tm_persistent(m, n));
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    const transpose_params_t *p = tm_persistent(m, n);
    const uint32_t size = tm_type_size(in->type);
    const int last = p->ndim - 1;
    const int32_t inner = p->dims[last], step = p->stride[last];
    int32_t rows = 1, idx[TM_MAX_DIMS] = { 0 }, off = 0;
    for (int d = 0; d < last; d++) {
        rows *= p->dims[d];
    }
    if (inner == 0) {
        return TM_OK;
    }
    const uint8_t *x = in->data;
    uint8_t *y = out->data;
    for (int32_t r = 0; r < rows; r++) {
        // One output row gathers input elements `step` apart; constant-size copies compile to plain moves.
#define GATHER(SIZE)                                                                   \
        for (int32_t i = 0; i < inner; i++) {                                          \
            memcpy(y + i * (SIZE), x + (uint32_t)(off + i * step) * (SIZE), (SIZE));   \
        }
        if (size == 1) {
            GATHER(1)
        } else if (size == 2) {
            GATHER(2)
        } else if (size == 4) {
            GATHER(4)
        } else {
            GATHER(8)
        }
        y += inner * size;
        for (int d = last - 1; d >= 0; d--) {
            off += p->stride[d];
            if (++idx[d] < p->dims[d]) {
                break;
            }
            idx[d] = 0;
            off -= p->stride[d] * p->dims[d];
        }
    }
    return TM_OK;
}

int tm_kernel_transpose(tm_kernel_t *k) {
    k->name = "TRANSPOSE";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
