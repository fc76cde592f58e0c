// LOGICAL_AND, LOGICAL_OR: bool inputs, numpy broadcasting (a WHILE cond combining two bounds, as Keras'
// RNN loops convert), as TFLM's logical.cc.
// tinyml-types: bool
// tinyml-op: LOGICAL_OR 84
// tinyml-op: LOGICAL_AND 86
#include "broadcast.h"

enum { OP_LOGICAL_AND = 86 };

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    if (tm_expect_type(m, a, TM_BOOL, "input 1") || tm_expect_type(m, b, TM_BOOL, "input 2") ||
        tm_expect_type(m, y, TM_BOOL, "output")) {
        return TM_ERROR;
    }
    tm_bcast_t bc;
    req->persistent_bytes = sizeof(tm_bcast_t);
    return tm_bcast_init(m, a, b, y, &bc);
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    return tm_bcast_init(m, tm_in(m, n, 0), tm_in(m, n, 1), tm_out(m, n, 0), tm_persistent(m, n));
}

#define AND(u, v) ((uint8_t)((u) && (v)))
#define OR(u, v) ((uint8_t)((u) || (v)))

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const tm_bcast_t *bc = tm_persistent(m, n);
    const uint8_t *x1 = tm_in(m, n, 0)->data, *x2 = tm_in(m, n, 1)->data;
    uint8_t *out = tm_out(m, n, 0)->data;
    if (n->opcode == OP_LOGICAL_AND) {
        TM_BCAST_LOOP(bc, out, x1, x2, AND);
    } else {
        TM_BCAST_LOOP(bc, out, x1, x2, OR);
    }
    return TM_OK;
}

int tm_kernel_logical(tm_kernel_t *k) {
    k->name = "LOGICAL";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
