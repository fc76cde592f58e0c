// SHAPE: the input's dims as an int32 vector (int64 output is not supported, as in TFLM).
// tinyml-op: SHAPE 77
#include "../tm_internal.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK || tm_expect_type(m, tm_out(m, n, 0), TM_INT32, "output")) {
        return TM_ERROR;
    }
    if (tm_elements(tm_out(m, n, 0)) != tm_in(m, n, 0)->ndim) {
        return tm_fail(m, "output has %d entries for %d dims", tm_elements(tm_out(m, n, 0)), tm_in(m, n, 0)->ndim);
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0);
    memcpy(tm_out(m, n, 0)->data, in->dims, 4u * in->ndim);   // dims are little-endian int32 in the model
    return TM_OK;
}

int tm_kernel_shape(tm_kernel_t *k) {
    k->name = "SHAPE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
