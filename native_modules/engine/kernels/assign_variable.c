// ASSIGN_VARIABLE: copies a tensor into a resource variable's storage (kept across invokes). As in TFLM, the
// first ASSIGN_VARIABLE of a variable in prepare order (subgraph by subgraph, node by node) sets its size and
// its initial fill (every byte = that tensor's zero point); later ones must assign as many bytes.
// tinyml-op: ASSIGN_VARIABLE 144
#include "../tm_internal.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 2, 2, 0) != TM_OK) {
        return TM_ERROR;
    }
    int32_t handle = tm_in_index(m, n, 0);
    int32_t v = m->lifetimes[handle].variable;
    if (v < 0) {
        return tm_fail(m, "input 0 is not a handle made by VAR_HANDLE");
    }
    const tm_tensor_t *value = tm_in(m, n, 1);
    tm_variable_t *var = &m->variables[v];
    if (!var->assigned) {
        var->assigned = 1;
        var->bytes = value->bytes;
        var->fill = (int8_t)value->zero_point;
    } else if (var->bytes != value->bytes) {
        return tm_fail(m, "assigns %u bytes to a variable of %u bytes (its first assignment)", value->bytes,
            var->bytes);
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const tm_tensor_t *value = tm_in(m, n, 1);
    memcpy(tm_in(m, n, 0)->data, value->data, value->bytes);
    return TM_OK;
}

int tm_kernel_assign_variable(tm_kernel_t *k) {
    k->name = "ASSIGN_VARIABLE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
