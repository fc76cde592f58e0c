// RESHAPE (also serves SQUEEZE and EXPAND_DIMS): the same bytes under the model's output shape.
// tinyml-op: RESHAPE 22
// tinyml-op: SQUEEZE 43
// tinyml-op: EXPAND_DIMS 70
// The planner lets the output share the input's storage, so eval usually has nothing to copy.
#include "../tm_internal.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (in->type != out->type || in->bytes != out->bytes) {
        return tm_fail(m, "output (%u bytes of %s) differs from input (%u bytes of %s)", out->bytes,
            tm_type_name(out->type), in->bytes, tm_type_name(in->type));
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (out->data != in->data) {
        memmove(out->data, in->data, in->bytes);
    }
    return TM_OK;
}

int tm_kernel_reshape(tm_kernel_t *k) {
    k->name = "RESHAPE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 1;
    return 1;
}
