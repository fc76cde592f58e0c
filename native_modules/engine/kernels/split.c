// SPLIT and SPLIT_V along a constant axis: each output takes its block of bytes from every outer row, as
// TFLM (the outputs' shapes in the model say where to cut; SPLIT_V's size_splits agree with them). Any
// element type.
// tinyml-op: SPLIT 49
// tinyml-op: SPLIT_V 102
#include "../tm_internal.h"

enum { BUILTIN_SPLIT_V = 102 };

// The input and its outer row count (elements before the axis), after checking every output.
static tm_status_t get_shape(tm_model_t *m, tm_node_t *n, tm_tensor_t **input, int32_t *outer) {
    const int split_v = n->opcode == BUILTIN_SPLIT_V;
    if (tm_expect_io(m, n, split_v ? 3 : 2, split_v ? 3 : 2, n->n_out) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, split_v ? 0 : 1), *axis_t = tm_in(m, n, split_v ? 2 : 0);
    if (tm_expect_type(m, axis_t, TM_INT32, "axis") != TM_OK) {
        return TM_ERROR;
    }
    if (!axis_t->is_const || tm_elements(axis_t) != 1) {
        return tm_fail(m, "axis must be a constant scalar");
    }
    const int rank = in->ndim;
    int32_t axis = tm_load_i32(axis_t->data);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank) {
        return tm_fail(m, "axis %d out of range for %d dims", tm_load_i32(axis_t->data), rank);
    }
    int32_t along = 0;
    for (int i = 0; i < n->n_out; i++) {
        tm_tensor_t *out = tm_out(m, n, i);
        if (out->type != in->type || out->ndim != rank) {
            return tm_fail(m, "output %d differs from the input in type or rank", i);
        }
        for (int d = 0; d < rank; d++) {
            if (d != axis && out->dims[d] != in->dims[d]) {
                return tm_fail(m, "output %d has dim %d of %d, the input %d", i, d, out->dims[d], in->dims[d]);
            }
        }
        along += out->dims[axis];
    }
    if (along != in->dims[axis]) {
        return tm_fail(m, "outputs add up to %d along axis %d, the input has %d", along, axis, in->dims[axis]);
    }
    *input = in;
    *outer = 1;
    for (int d = 0; d < axis; d++) {
        *outer *= in->dims[d];
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_tensor_t *in;
    int32_t outer;
    req->persistent_bytes = sizeof(int32_t);     // outer, kept by prepare
    return get_shape(m, n, &in, &outer);
}

// Prepare keeps the outer count (the product of the dims before the axis), so eval parses and checks nothing.
static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = 0;
    int32_t outer = 0;
    get_shape(m, n, &in, &outer);
    *(int32_t *)tm_persistent(m, n) = outer;
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const int32_t outer = *(const int32_t *)tm_persistent(m, n);
    if (outer == 0) {
        return TM_OK;
    }
    const uint8_t *x = tm_in(m, n, n->opcode == BUILTIN_SPLIT_V ? 0 : 1)->data;
    for (int32_t o = 0; o < outer; o++) {
        for (int i = 0; i < n->n_out; i++) {
            tm_tensor_t *out = tm_out(m, n, i);
            const uint32_t block = out->bytes / (uint32_t)outer;
            memcpy(out->data + o * block, x, block);
            x += block;
        }
    }
    return TM_OK;
}

int tm_kernel_split(tm_kernel_t *k) {
    k->name = "SPLIT";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
