// READ_VARIABLE: copies a resource variable's value (kept across invokes) into its output.
// tinyml-op: READ_VARIABLE 143
#include "../tm_internal.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    if (m->lifetimes[tm_in_index(m, n, 0)].variable < 0) {
        return tm_fail(m, "input 0 is not a handle made by VAR_HANDLE");
    }
    return TM_OK;
}

// Sizes are known once every ASSIGN_VARIABLE's init has run (the planner sets the handle's bytes).
static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    const tm_tensor_t *handle = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (handle->data == 0) {
        return tm_fail(m, "the variable is never assigned (no ASSIGN_VARIABLE gives it a size and a value)");
    }
    if (out->bytes != handle->bytes) {
        return tm_fail(m, "output has %u bytes, the variable %u", out->bytes, handle->bytes);
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *out = tm_out(m, n, 0);
    memcpy(out->data, tm_in(m, n, 0)->data, out->bytes);
    return TM_OK;
}

int tm_kernel_read_variable(tm_kernel_t *k) {
    k->name = "READ_VARIABLE";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
