// STRIDED_SLICE with begin/end/shrink masks, negative indices and negative strides, as TFLM (constant int32
// begin, end and strides; ellipsis and new-axis masks and `offset` are ignored like TFLM: the converter
// resolves them). Any element type.
// tinyml-op: STRIDED_SLICE 45
#include "strided_copy.h"

enum { OPT_BEGIN_MASK = 0, OPT_END_MASK = 1, OPT_SHRINK_MASK = 4 };

static int32_t clamp_index(int32_t v, int32_t n, int32_t st) {
    v = v < 0 ? v + n : v;          // may stay negative: clamped below
    int32_t lo = st > 0 ? 0 : -1, hi = st > 0 ? n : n - 1;
    return v < lo ? lo : (v > hi ? hi : v);
}

static tm_status_t get_params(tm_model_t *m, tm_node_t *n, tm_strided_t *p) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    tm_tensor_t *vec[3] = { tm_in(m, n, 1), tm_in(m, n, 2), tm_in(m, n, 3) };
    int rank = in->ndim;
    for (int i = 0; i < 3; i++) {
        if (tm_expect_type(m, vec[i], TM_INT32, "begin/end/strides") != TM_OK) {
            return TM_ERROR;
        }
        if (!vec[i]->is_const || tm_elements(vec[i]) != rank) {
            return tm_fail(m, "begin, end and strides must be constant vectors of %d entries", rank);
        }
    }
    if (out->type != in->type) {
        return tm_fail(m, "output type differs from input type");
    }
    int32_t begin_mask = tm_opt_i32(m, n, OPT_BEGIN_MASK, 0), end_mask = tm_opt_i32(m, n, OPT_END_MASK, 0);
    int32_t shrink_mask = tm_opt_i32(m, n, OPT_SHRINK_MASK, 0);
    int32_t in_stride[TM_MAX_DIMS];
    tm_input_strides(in, in_stride);
    p->base = 0;
    p->ndim = 0;
    for (int d = 0; d < rank; d++) {
        int32_t size = in->dims[d], st = tm_load_i32(vec[2]->data + 4 * d);
        int32_t b = tm_load_i32(vec[0]->data + 4 * d), e = tm_load_i32(vec[1]->data + 4 * d);
        if (st == 0) {
            return tm_fail(m, "stride of axis %d is 0", d);
        }
        if (st < -size || st > size) {
            st = st < 0 ? -size - 1 : size + 1;    // one step leaves the axis: the same slice, no overflow
        }
        int32_t start = (begin_mask >> d & 1) ? (st > 0 ? 0 : size - 1) : clamp_index(b, size, st);
        int32_t stop, count;
        if (shrink_mask >> d & 1) {
            stop = start >= size ? start : start + 1;
        } else {
            stop = (end_mask >> d & 1) ? (st > 0 ? size : -1) : clamp_index(e, size, st);
        }
        count = st > 0 ? (stop - start + st - 1) / st : (start - stop - st - 1) / -st;
        count = size == 0 || count < 0 ? 0 : count;
        p->base += count ? start * in_stride[d] : 0;
        if (!(shrink_mask >> d & 1)) {
            if (p->ndim >= out->ndim || out->dims[p->ndim] != count) {
                return tm_fail(m, "output shape does not match the slice (axis %d has %d elements)", d, count);
            }
            p->dims[p->ndim] = count;
            p->stride[p->ndim++] = st * in_stride[d];
        } else if (count != 1) {
            return tm_fail(m, "shrunk axis %d has %d elements", d, count);
        }
    }
    if (p->ndim != out->ndim) {
        return tm_fail(m, "output has %d dims, the slice %d", out->ndim, p->ndim);
    }
    if (p->ndim == 0) {             // every axis shrunk: one element
        p->dims[0] = 1;
        p->stride[0] = 0;
        p->ndim = 1;
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_strided_t p;
    if (tm_expect_io(m, n, 4, 4, 1) != TM_OK || get_params(m, n, &p) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(tm_strided_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    return get_params(m, n, tm_persistent(m, n));
}

int tm_kernel_strided_slice(tm_kernel_t *k) {
    k->name = "STRIDED_SLICE";
    k->init = init;
    k->prepare = prepare;
    k->eval = tm_strided_eval;
    k->reshapes = 0;
    return 1;
}
