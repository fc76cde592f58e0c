// IF (tf.cond): runs the then or the else subgraph, as TFLM: input 0 is the condition (one bool), the other
// inputs are copied into the chosen subgraph's inputs, and its outputs are copied to the node's outputs.
// The loader plans both branches' tensors inside this node's lifetime (tm_model.c).
// tinyml-op: IF 118
#include "subgraph_call.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    const tm_tensor_t *cond = tm_in(m, n, 0);
    if (!cond || tm_expect_type(m, cond, TM_BOOL, "condition") != TM_OK) {
        return TM_ERROR;
    }
    if (tm_elements(cond) != 1) {
        return tm_fail(m, "condition has %d values (one bool expected)", tm_elements(cond));
    }
    for (int b = 0; b < 2; b++) {
        const uint32_t s = (uint32_t)req->calls[b];
        for (int i = 1; i < n->n_in; i++) {
            const tm_tensor_t *in = tm_in(m, n, i);
            if (!in) {
                return tm_fail(m, "input %d is omitted", i);
            }
            if (tm_check_copy(m, in, tm_subgraph_io(m, s, 0, i - 1), "input", i) != TM_OK) {
                return TM_ERROR;
            }
        }
        for (int i = 0; i < n->n_out; i++) {
            if (tm_check_copy(m, tm_subgraph_io(m, s, 1, i), tm_out(m, n, i), "output", i) != TM_OK) {
                return TM_ERROR;
            }
        }
    }
    req->persistent_bytes = 2 * sizeof(int16_t);
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const int16_t *callees = tm_persistent(m, n);
    const uint32_t s = (uint32_t)callees[tm_in(m, n, 0)->data[0] ? 0 : 1];
    for (int i = 1; i < n->n_in; i++) {
        tm_copy_tensor(tm_subgraph_io(m, s, 0, i - 1), tm_in(m, n, i));
    }
    if (tm_run_subgraph(m, s) != TM_OK) {
        return TM_ERROR;
    }
    tm_outputs_from_subgraph(m, n, s);
    return TM_OK;
}

int tm_kernel_if(tm_kernel_t *k) {
    k->name = "IF";
    k->init = init;
    k->prepare = tm_prepare_callees;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
