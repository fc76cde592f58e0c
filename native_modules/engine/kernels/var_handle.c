// VAR_HANDLE: names a resource variable (container, shared_name). Handles with the same names, in any
// subgraph, are one variable. Its output (a RESOURCE tensor) is a view of the variable's storage, which the
// planner places in the arena's persistent part, so eval has nothing to do. READ_VARIABLE and
// ASSIGN_VARIABLE use the handle.
// tinyml-op: VAR_HANDLE 142
#include "../tm_internal.h"

enum { OPT_CONTAINER = 0, OPT_SHARED_NAME = 1 };

static int same_string(tm_model_t *m, tm_node_t *a, tm_node_t *b, int field) {
    uint32_t la, lb;
    uint32_t pa = tm_opt_string(m, a, field, &la), pb = tm_opt_string(m, b, field, &lb);
    if (la != lb) {
        return 0;
    }
    for (uint32_t i = 0; i < la; i++) {   // no memcmp in native modules
        if (m->buf[pa + i] != m->buf[pb + i]) {
            return 0;
        }
    }
    return 1;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 0, 0, 1) != TM_OK) {
        return TM_ERROR;
    }
    int32_t out = tm_out_index(m, n, 0);
    if (tm_expect_type(m, &m->tensors[out], TM_RESOURCE, "output") != TM_OK) {
        return TM_ERROR;
    }
    uint32_t v;
    for (v = 0; v < m->n_variables; v++) {
        tm_node_t *other = &m->nodes[m->variables[v].node];
        // TFLM: a handle without a container matches any container.
        uint32_t len;
        int any_container = tm_opt_string(m, n, OPT_CONTAINER, &len) == 0;
        if ((any_container || same_string(m, n, other, OPT_CONTAINER)) &&
            same_string(m, n, other, OPT_SHARED_NAME)) {
            break;
        }
    }
    if (v == m->n_variables) {
        if (m->n_variables >= m->max_variables) {
            return tm_fail(m, "more variables than VAR_HANDLE operators");  // cannot happen: one per handle
        }
        tm_variable_t *var = &m->variables[m->n_variables++];
        var->offset = 0;
        var->bytes = 0;
        var->node = (int16_t)(n - m->nodes);
        var->fill = 0;
        var->assigned = 0;
    }
    m->lifetimes[out].variable = (int16_t)v;
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    return TM_OK;
}

int tm_kernel_var_handle(tm_kernel_t *k) {
    k->name = "VAR_HANDLE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
