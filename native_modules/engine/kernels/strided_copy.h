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

// `inner` elements of `size` bytes from x's elements off, off + step, ... to consecutive places in y. Always
// inlined with a literal size, so each element is a few inline moves (TM_COPY_SMALL), not a memcpy call on
// xtensawin.
static TM_ALWAYS_INLINE void tm_strided_gather(uint8_t *y, const uint8_t *x, int32_t off, int32_t step,
    int32_t inner, uint32_t size) {
    for (int32_t i = 0; i < inner; i++) {
        TM_COPY_SMALL(y + (uint32_t)i * size, x + (uint32_t)(off + i * step) * size, size);
    }
}

// Why the fast path: on xtensawin a memcpy is a call through mp_fun_table (clang -ffreestanding; see
// TM_COPY_SMALL in tm_internal.h). One per element was ~65 instructions per int8 element on qemu-xtensa (a
// streaming model's ring-buffer STRIDED_SLICEs: 83,408 instructions for 1,280 bytes).
// So trailing dims that are contiguous in the input are merged into one run copied with a single memcpy:
// a slice that is one block of bytes costs one call. Rows that are not contiguous (TRANSPOSE) are gathered
// element by element with inline copies (tm_strided_gather).
static inline void tm_strided_copy(const tm_strided_t *p, const uint8_t *x, uint8_t *y, uint32_t size) {
    int last = p->ndim - 1;
    int32_t inner = p->dims[last], step = p->stride[last];
    int32_t rows = 1, idx[TM_MAX_DIMS] = { 0 }, off = p->base;
    if (step == 1 || inner == 1) {
        // The inner row is contiguous; an outer dim joins it while its step is exactly one row (the next row
        // follows in the input) or it has a single entry (its step is never taken).
        step = 1;
        while (last > 0 && (p->dims[last - 1] == 1 || p->stride[last - 1] == inner)) {
            inner *= p->dims[--last];
        }
    }
    for (int d = 0; d < last; d++) {
        rows *= p->dims[d];
    }
    if (inner == 0) {
        return;
    }
    for (int32_t r = 0; r < rows; r++) {
        if (step == 1) {
            memcpy(y, x + (uint32_t)off * size, (uint32_t)inner * size);
        } else {
            // One output row gathers input elements `step` apart; one literal size per element size.
            if (size == 1) {
                tm_strided_gather(y, x, off, step, inner, 1);
            } else if (size == 2) {
                tm_strided_gather(y, x, off, step, inner, 2);
            } else if (size == 4) {
                tm_strided_gather(y, x, off, step, inner, 4);
            } else {
                tm_strided_gather(y, x, off, step, inner, 8);
            }
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
