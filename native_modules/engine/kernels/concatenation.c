// CONCATENATION along an axis: a byte copy (int8 inputs must share the output's scale and zero point, as
// TFLM requires; the converter inserts requantizations). int16 (16x8) tensors need zero point 0 but, as in
// TFLM, not equal scales: their values are copied as they are. Any element type.
// tinyml-op: CONCATENATION 2
#include "../tm_internal.h"

enum { OPT_AXIS = 0, OPT_ACTIVATION = 1 };

typedef struct {
    int32_t axis, outer;
} concat_shape_t;

static tm_status_t get_shape(tm_model_t *m, tm_node_t *n, concat_shape_t *s) {
    tm_tensor_t *out = tm_out(m, n, 0);
    int rank = out->ndim;
    int32_t axis = tm_opt_i32(m, n, OPT_AXIS, 0);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank) {
        return tm_fail(m, "axis %d out of range for %d dims", tm_opt_i32(m, n, OPT_AXIS, 0), rank);
    }
    if (tm_opt_u8(m, n, OPT_ACTIVATION, 0) != 0) {
        return tm_fail(m, "fused activations are not supported");
    }
    int32_t along = 0;
    for (int i = 0; i < n->n_in; i++) {
        tm_tensor_t *in = tm_in(m, n, i);
        if (!in) {
            return tm_fail(m, "input %d is missing", i);
        }
        if (in->type != out->type || in->ndim != rank) {
            return tm_fail(m, "input %d differs from the output in type or rank", i);
        }
        if (in->type == TM_INT8 && (in->scale != out->scale || in->zero_point != out->zero_point)) {
            return tm_fail(m, "int8 input %d has another scale or zero point than the output", i);
        }
        if (in->type == TM_INT16 && (in->zero_point != 0 || out->zero_point != 0)) {
            return tm_fail(m, "int16 input %d and the output need zero point 0 (as in TFLM), not %d and %d", i,
                in->zero_point, out->zero_point);
        }
        for (int d = 0; d < rank; d++) {
            if (d != axis && in->dims[d] != out->dims[d]) {
                return tm_fail(m, "input %d has dim %d of %d, the output %d", i, d, in->dims[d], out->dims[d]);
            }
        }
        along += in->dims[axis];
    }
    if (along != out->dims[axis]) {
        return tm_fail(m, "inputs add up to %d along axis %d, the output has %d", along, axis, out->dims[axis]);
    }
    s->axis = axis;
    s->outer = 1;
    for (int d = 0; d < axis; d++) {
        s->outer *= out->dims[d];
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    concat_shape_t s;
    if (tm_expect_io(m, n, 1, TM_MAX_IO, 1) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(int32_t);     // outer, kept by prepare
    return get_shape(m, n, &s);
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    concat_shape_t s = { 0, 0 };
    get_shape(m, n, &s);
    *(int32_t *)tm_persistent(m, n) = s.outer;
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    concat_shape_t s;
    s.outer = *(const int32_t *)tm_persistent(m, n);
    uint8_t *y = tm_out(m, n, 0)->data;
    // Each input contributes a block of bytes (its dims from the axis on) to each outer row.
    uint32_t block[TM_MAX_IO];
    for (int i = 0; i < n->n_in; i++) {
        block[i] = s.outer ? tm_in(m, n, i)->bytes / (uint32_t)s.outer : 0;
    }
    for (int32_t o = 0; o < s.outer; o++) {
        for (int i = 0; i < n->n_in; i++) {
            memcpy(y, tm_in(m, n, i)->data + o * block[i], block[i]);
            y += block[i];
        }
    }
    return TM_OK;
}

int tm_kernel_concatenation(tm_kernel_t *k) {
    k->name = "CONCATENATION";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
