// PACK: stacks equally shaped inputs along a new axis of the output (a byte copy). Any element type.
// tinyml-op: PACK 83
#include "stack_common.h"

enum { OPT_VALUES_COUNT = 0, OPT_AXIS = 1 };

// One copy for init and prepare (noinline: GCC -O3 would inline the checks into both).
__attribute__((noinline)) static tm_status_t get_outer(tm_model_t *m, tm_node_t *n, int32_t *outer) {
    tm_tensor_t *out = tm_out(m, n, 0);
    int rank = out->ndim;
    int32_t axis = tm_opt_i32(m, n, OPT_AXIS, 0);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank) {
        return tm_fail(m, "axis %d out of range for %d output dims", tm_opt_i32(m, n, OPT_AXIS, 0), rank);
    }
    if (tm_opt_i32(m, n, OPT_VALUES_COUNT, 0) != n->n_in || out->dims[axis] != n->n_in) {
        return tm_fail(m, "values_count and the output's axis dim must equal the %d inputs", n->n_in);
    }
    return tm_stack_check(m, n, out, axis, 1, outer);
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    int32_t outer;
    if (tm_expect_io(m, n, 1, TM_MAX_IO, 1) != TM_OK) {
        return TM_ERROR;
    }
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
    uint8_t *y = tm_out(m, n, 0)->data;
    uint32_t block = outer ? tm_in(m, n, 0)->bytes / (uint32_t)outer : 0;   // input dims from the axis on
    for (int32_t o = 0; o < outer; o++) {
        for (int i = 0; i < n->n_in; i++) {
            memcpy(y, tm_in(m, n, i)->data + o * block, block);
            y += block;
        }
    }
    return TM_OK;
}

int tm_kernel_pack(tm_kernel_t *k) {
    k->name = "PACK";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
