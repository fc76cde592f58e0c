// UNPACK: splits the input along `axis` into that many outputs of one rank less (a byte copy, as TFLM's
// unpack: float32, int8, int32 and any other element type). A negative axis counts from the end.
// tinyml-op: UNPACK 88
#include "stack_common.h"

enum { OPT_NUM = 0, OPT_AXIS = 1 };

// Elements before the axis (`outer`), after checking every output against the input.
// One copy for init and prepare (noinline: GCC -O3 would inline the checks into both).
__attribute__((noinline)) static tm_status_t get_outer(tm_model_t *m, tm_node_t *n, int32_t *outer) {
    if (tm_expect_io(m, n, 1, 1, n->n_out) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0);
    const int rank = in->ndim;
    int32_t axis = tm_opt_i32(m, n, OPT_AXIS, 0);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank) {
        return tm_fail(m, "axis %d out of range for a %d-D input", tm_opt_i32(m, n, OPT_AXIS, 0), rank);
    }
    if (n->n_out < 1 || in->dims[axis] != n->n_out || tm_opt_i32(m, n, OPT_NUM, 0) != n->n_out) {
        return tm_fail(m, "num and the input's axis dim (%d) must equal the %d outputs", in->dims[axis], n->n_out);
    }
    return tm_stack_check(m, n, in, axis, 0, outer);
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    int32_t outer;
    req->persistent_bytes = sizeof(int32_t);     // outer, kept by prepare
    return get_outer(m, n, &outer);
}

// Prepare keeps the outer count (the product of the dims before the axis), so eval parses and checks nothing.
static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    int32_t outer = 0;
    get_outer(m, n, &outer);
    *(int32_t *)tm_persistent(m, n) = outer;
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const int32_t outer = *(const int32_t *)tm_persistent(m, n);
    if (outer == 0) {
        return TM_OK;
    }
    const uint8_t *x = tm_in(m, n, 0)->data;
    const uint32_t block = tm_out(m, n, 0)->bytes / (uint32_t)outer;   // output dims from the axis on
    for (int32_t o = 0; o < outer; o++) {
        for (int i = 0; i < n->n_out; i++) {
            memcpy(tm_out(m, n, i)->data + o * block, x, block);
            x += block;
        }
    }
    return TM_OK;
}

int tm_kernel_unpack(tm_kernel_t *k) {
    k->name = "UNPACK";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
