// Shared by the reductions over constant axes (MEAN, REDUCE_MAX): the axis input's parse and the shape
// checks, and the row-major walk that visits the input one innermost run at a time while it keeps the index
// of the output the run reduces into.
#ifndef TM_REDUCE_COMMON_H
#define TM_REDUCE_COMMON_H

#include "../tm_internal.h"

typedef struct {
    tm_tensor_t *in, *out;
    int32_t rank, count, outputs;       // count: input values per output
    uint8_t reduced[TM_MAX_DIMS];       // 1 for each reduced input dim
} tm_reduce_t;

// Inputs (data, axes) and one output. The axes: a constant int32 scalar or vector, negative ones counting
// from the end, duplicates counting once (as in TFLM). The output holds one value per kept index. Not inline:
// init, prepare and eval call it, and one copy is smaller.
static tm_status_t tm_reduce_parse(tm_model_t *m, tm_node_t *n, tm_reduce_t *r) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    r->in = tm_in(m, n, 0);
    r->out = tm_out(m, n, 0);
    tm_tensor_t *axes = tm_in(m, n, 1);
    if (tm_expect_type(m, axes, TM_INT32, "axis") || !axes->is_const || axes->ndim > 1) {
        return tm_fail(m, "axis must be a constant int32 scalar or vector");
    }
    r->rank = r->in->ndim;
    for (int d = 0; d < TM_MAX_DIMS; d++) {
        r->reduced[d] = 0;
    }
    const int32_t n_axes = tm_elements(axes);
    for (int32_t i = 0; i < n_axes; i++) {
        int32_t a = tm_load_i32(axes->data + 4 * i);
        if (a < 0) {
            a += r->rank;
        }
        if (a < 0 || a >= r->rank) {
            return tm_fail(m, "axis %d out of range for a %d-D input", tm_load_i32(axes->data + 4 * i), r->rank);
        }
        r->reduced[a] = 1;
    }
    r->count = 1;
    r->outputs = 1;
    for (int d = 0; d < r->rank; d++) {
        if (r->reduced[d]) {
            r->count *= r->in->dims[d];
        } else {
            r->outputs *= r->in->dims[d];
        }
    }
    if (r->count == 0 || r->outputs == 0) {
        return tm_fail(m, "empty input");
    }
    if (tm_elements(r->out) != r->outputs) {
        return tm_fail(m, "output has %d values, reducing the input gives %d", tm_elements(r->out), r->outputs);
    }
    return TM_OK;
}

// The walk: the input in row-major order (TFLM's order, which float sums depend on), one innermost run of
// dims[rank - 1] values at a time. `stride` is each input dim's stride in the output (0 for a reduced dim) and
// `idx` the position, both the caller's arrays, kept in its frame: the kernel's stores to the output could
// alias a struct whose address went elsewhere and make it reload them on every run. The output index starts at
// 0 for the first run; TM_REDUCE_NEXT_RUN gives the next run's. Within a run the output index moves by 1 per
// value unless the innermost dim is reduced.
static inline void tm_reduce_walk_start(const tm_reduce_t *r, int32_t *stride, int32_t *idx) {
    int32_t s = 1;
    for (int d = r->rank - 1; d >= 0; d--) {
        stride[d] = r->reduced[d] ? 0 : s;
        s *= r->reduced[d] ? 1 : r->in->dims[d];
        idx[d] = 0;
    }
}

// Moves `o`, the output index of a run, to the next run's (only the kept dims move it). A macro, not an inline
// function: GCC -O3 compiled the function form, inlined, with more spills around the run loop (REDUCE_MAX
// 1-5% more instructions on the emulated Cortex-M4); written out in place it gives the loop it had before.
#define TM_REDUCE_NEXT_RUN(o, r, rank, stride, idx) \
    for (int d_ = (rank) - 2; d_ >= 0; d_--) { \
        (o) += (stride)[d_]; \
        if (++(idx)[d_] < (r).in->dims[d_]) { \
            break; \
        } \
        (o) -= (stride)[d_] * (r).in->dims[d_]; \
        (idx)[d_] = 0; \
    }

#endif
