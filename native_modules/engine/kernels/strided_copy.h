// Copy of a strided view of the input into a contiguous output (TRANSPOSE, STRIDED_SLICE): output element
// (i_0, ..., i_k) comes from input element base + sum(i_d * stride[d]), strides may be negative.
#ifndef TM_STRIDED_COPY_H
#define TM_STRIDED_COPY_H

#include "../tm_internal.h"

typedef struct {
    int32_t ndim;                   // >= 1
    int32_t base;                   // input element of the first output element
    int32_t dims[TM_MAX_DIMS];      // output dims
    int32_t stride[TM_MAX_DIMS];    // input element stride for a step along each output dim
} tm_strided_t;

// Row-major input element strides of t.
static inline void tm_input_strides(const tm_tensor_t *t, int32_t *strides) {
    int32_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= t->dims[d];
    }
}

static inline void tm_strided_copy(const tm_strided_t *p, const uint8_t *x, uint8_t *y, uint32_t size) {
    const int last = p->ndim - 1;
    const int32_t inner = p->dims[last], step = p->stride[last];
    int32_t rows = 1, idx[TM_MAX_DIMS] = { 0 }, off = p->base;
    for (int d = 0; d < last; d++) {
        rows *= p->dims[d];
    }
    if (inner == 0) {
        return;
    }
    for (int32_t r = 0; r < rows; r++) {
        // One output row gathers input elements `step` apart; constant-size copies compile to plain moves.
#define TM_GATHER(SIZE)                                                                \
        for (int32_t i = 0; i < inner; i++) {                                          \
            memcpy(y + i * (SIZE), x + (uint32_t)(off + i * step) * (SIZE), (SIZE));   \
        }
        if (size == 1) {
            TM_GATHER(1)
        } else if (size == 2) {
            TM_GATHER(2)
        } else if (size == 4) {
            TM_GATHER(4)
        } else {
            TM_GATHER(8)
        }
        y += inner * size;
        for (int d = last - 1; d >= 0; d--) {
            off += p->stride[d];
            if (++idx[d] < p->dims[d]) {
                break;
            }
            idx[d] = 0;
            off -= p->stride[d] * p->dims[d];
        }
    }
}

// The eval of TRANSPOSE and STRIDED_SLICE: the view is the node's persistent tm_strided_t, set at prepare time.
static inline tm_status_t tm_strided_eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    tm_strided_copy(tm_persistent(m, n), in->data, out->data, tm_type_size(in->type));
    return TM_OK;
}

#endif
