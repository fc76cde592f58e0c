// WHILE (tf.while_loop, Keras RNN layers without unroll=True): as TFLM, the node's inputs are the loop
// variables; they are copied to the node's outputs, which hold the current values; then, while the cond
// subgraph's one bool output is true, the body subgraph runs on a copy of them and its outputs become the
// new values. The loader plans cond's and body's tensors inside this node's lifetime (tm_model.c); like
// TFLM, nothing bounds the number of iterations (except in the fuzzer's build: TM_WHILE_MAX_ITERATIONS).
// tinyml-op: WHILE 119
#include "subgraph_call.h"

enum { COND = 0, BODY = 1 };

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    const uint32_t cond = (uint32_t)req->calls[COND], body = (uint32_t)req->calls[BODY];
    const tm_tensor_t *flag = tm_subgraph_io(m, cond, 1, 0);
    if (tm_expect_type(m, flag, TM_BOOL, "the cond subgraph's output") != TM_OK) {
        return TM_ERROR;
    }
    if (tm_elements(flag) < 1) {
        return tm_fail(m, "the cond subgraph's output is empty");
    }
    for (int i = 0; i < n->n_in; i++) {
        const tm_tensor_t *in = tm_in(m, n, i), *out = tm_out(m, n, i);
        if (!in) {
            return tm_fail(m, "input %d is omitted", i);
        }
        if (tm_check_copy(m, in, out, "output", i) != TM_OK ||
            tm_check_copy(m, out, tm_subgraph_io(m, cond, 0, i), "loop variable", i) != TM_OK ||
            tm_check_copy(m, out, tm_subgraph_io(m, body, 0, i), "loop variable", i) != TM_OK ||
            tm_check_copy(m, tm_subgraph_io(m, body, 1, i), out, "body output", i) != TM_OK) {
            return TM_ERROR;
        }
    }
    req->persistent_bytes = 2 * sizeof(int16_t);
    return TM_OK;
}

// Copy the node's current values (its outputs) into subgraph s's inputs.
static void to_subgraph(tm_model_t *m, tm_node_t *n, uint32_t s) {
    for (int i = 0; i < n->n_out; i++) {
        tm_copy_tensor(tm_subgraph_io(m, s, 0, i), tm_out(m, n, i));
    }
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const int16_t *callees = tm_persistent(m, n);
    const uint32_t cond = (uint32_t)callees[COND], body = (uint32_t)callees[BODY];
    for (int i = 0; i < n->n_in; i++) {
        tm_copy_tensor(tm_out(m, n, i), tm_in(m, n, i));
    }
    const uint8_t *flag = tm_subgraph_io(m, cond, 1, 0)->data;
#ifdef TM_WHILE_MAX_ITERATIONS
    for (uint32_t iterations = 0;; iterations++) {
        if (iterations > TM_WHILE_MAX_ITERATIONS) {
            return tm_fail(m, "more than %u iterations", (uint32_t)TM_WHILE_MAX_ITERATIONS);
        }
#else
    for (;;) {
#endif
        to_subgraph(m, n, cond);
        if (tm_run_subgraph(m, cond) != TM_OK) {
            return TM_ERROR;
        }
        if (!flag[0]) {
            return TM_OK;
        }
        to_subgraph(m, n, body);
        if (tm_run_subgraph(m, body) != TM_OK) {
            return TM_ERROR;
        }
        tm_outputs_from_subgraph(m, n, body);
    }
}

int tm_kernel_while(tm_kernel_t *k) {
    k->name = "WHILE";
    k->init = init;
    k->prepare = tm_prepare_callees;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
