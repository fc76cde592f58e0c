// TRANSPOSE: output dim j is input dim perm[j] (perm a constant int32 vector); any element type.
// tinyml-op: TRANSPOSE 39
#include "strided_copy.h"

static tm_status_t get_params(tm_model_t *m, tm_node_t *n, tm_strided_t *p) {
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
    tm_input_strides(in, in_stride);
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
    p->base = 0;
    p->ndim = rank;
    if (rank == 0) {                // a scalar: one element
        p->dims[0] = 1;
        p->stride[0] = 0;
        p->ndim = 1;
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_strided_t p;
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK || get_params(m, n, &p) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(tm_strided_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    return get_params(m, n, tm_persistent(m, n));
}

int tm_kernel_transpose(tm_kernel_t *k) {
    k->name = "TRANSPOSE";
    k->init = init;
    k->prepare = prepare;
    k->eval = tm_strided_eval;
    k->reshapes = 0;
    return 1;
}
