// CALL_ONCE: runs another subgraph (the model's initialisation, e.g. resource variables' initial values) on
// the first invoke, then nothing, as TFLM. tm_model_reset() makes it run again. The loader checks the
// subgraph index (a later subgraph, with no inputs or outputs) and plans the subgraph's tensors inside this
// node's lifetime.
// tinyml-op: CALL_ONCE 129
#include "../tm_internal.h"

enum { OPT_INIT_SUBGRAPH = 0 };

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 0, 0, 0) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = 1;  // has run
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    uint8_t *has_run = tm_persistent(m, n);
    if (*has_run) {
        return TM_OK;
    }
    if (tm_run_subgraph(m, (uint32_t)tm_opt_i32(m, n, OPT_INIT_SUBGRAPH, 0)) != TM_OK) {
        return TM_ERROR;
    }
    *has_run = 1;
    return TM_OK;
}

static void reset(tm_model_t *m, tm_node_t *n) {
    *(uint8_t *)tm_persistent(m, n) = 0;
}

int tm_kernel_call_once(tm_kernel_t *k) {
    k->name = "CALL_ONCE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    k->reset = reset;
    return 1;
}
