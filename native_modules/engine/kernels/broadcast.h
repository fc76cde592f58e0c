// numpy broadcasting of two inputs to the model's output shape (up to 6 dims), and the checks and state ADD,
// SUB and MUL share (float32, int8, int16).
// Output dims of size 1 are dropped and neighbouring dims in which each input either broadcasts in both or in
// neither are merged, so the innermost loop is as long as possible; each input's inner stride is 0 or 1.
#ifndef TM_BROADCAST_H
#define TM_BROADCAST_H

#include "elementwise_common.h"

typedef struct {
    int32_t ndim;                               // >= 1 after merging
    int32_t dims[TM_MAX_DIMS];                  // merged output dims, outermost first
    int32_t st1[TM_MAX_DIMS], st2[TM_MAX_DIMS]; // element strides per merged dim, 0 where the input broadcasts
} tm_bcast_t;

// Dim d of `t` right-aligned to a shape of `rank` dims (1 for the missing leading dims).
static inline int32_t tm_bcast_dim(const tm_tensor_t *t, int d, int rank) {
    int k = d - (rank - t->ndim);
    return k < 0 ? 1 : t->dims[k];
}

static inline tm_status_t tm_bcast_init(tm_model_t *m, const tm_tensor_t *a, const tm_tensor_t *b,
                                        const tm_tensor_t *y, tm_bcast_t *bc) {
    int rank = y->ndim, n = 0, prev = -1;
    int flags[TM_MAX_DIMS];
    if (a->ndim > rank || b->ndim > rank) {
        return tm_fail(m, "output has fewer dimensions than an input");
    }
    for (int d = 0; d < rank; d++) {
        int32_t od = y->dims[d], da = tm_bcast_dim(a, d, rank), db = tm_bcast_dim(b, d, rank);
        if ((da != od && da != 1) || (db != od && db != 1) || (da != od && db != od)) {
            return tm_fail(m, "input shapes do not broadcast to the output shape (dim %d: %d and %d to %d)", d, da,
                db, od);
        }
        if (od == 1) {
            continue;
        }
        int f = (da == od) | (db == od) << 1;   // which inputs walk along this dim
        if (f == prev) {
            bc->dims[n - 1] *= od;
        } else {
            bc->dims[n] = od;
            flags[n++] = prev = f;
        }
    }
    if (n == 0) {
        bc->dims[0] = 1;
        flags[n++] = 3;
    }
    int32_t s1 = 1, s2 = 1;
    for (int i = n - 1; i >= 0; i--) {
        bc->st1[i] = flags[i] & 1 ? s1 : 0;
        bc->st2[i] = flags[i] & 2 ? s2 : 0;
        s1 *= flags[i] & 1 ? bc->dims[i] : 1;
        s2 *= flags[i] & 2 ? bc->dims[i] : 1;
    }
    bc->ndim = n;
    return TM_OK;
}

// Advance to the next row of the innermost dim: idx (ndim counters, start at 0) and the inputs' offsets.
static inline void tm_bcast_next_row(const tm_bcast_t *bc, int32_t *idx, int32_t *o1, int32_t *o2) {
    for (int d = bc->ndim - 2; d >= 0; d--) {
        *o1 += bc->st1[d];
        *o2 += bc->st2[d];
        if (++idx[d] < bc->dims[d]) {
            return;
        }
        idx[d] = 0;
        *o1 -= bc->st1[d] * bc->dims[d];
        *o2 -= bc->st2[d] * bc->dims[d];
    }
}

// Number of innermost rows (0 for an empty output).
static inline int32_t tm_bcast_rows(const tm_bcast_t *bc) {
    int32_t rows = 1;
    for (int d = 0; d < bc->ndim - 1; d++) {
        rows *= bc->dims[d];
    }
    return bc->dims[bc->ndim - 1] ? rows : 0;
}

// Loop a row `BODY(x, y)` over n elements of inputs a (stride sa) and b (stride sb), each 0 or 1, writing
// out[i]: three loops so the compiler can vectorize each.
#define TM_BCAST_ROW(out, a, sa, b, sb, n, BODY)                  \
    do {                                                          \
        if ((sa) && (sb)) {                                       \
            for (int32_t i_ = 0; i_ < (n); i_++) {                \
                (out)[i_] = BODY((a)[i_], (b)[i_]);               \
            }                                                     \
        } else if (sa) {                                          \
            for (int32_t i_ = 0; i_ < (n); i_++) {                \
                (out)[i_] = BODY((a)[i_], (b)[0]);                \
            }                                                     \
        } else if (sb) {                                          \
            for (int32_t i_ = 0; i_ < (n); i_++) {                \
                (out)[i_] = BODY((a)[0], (b)[i_]);                \
            }                                                     \
        } else {                                                  \
            for (int32_t i_ = 0; i_ < (n); i_++) {                \
                (out)[i_] = BODY((a)[0], (b)[0]);                 \
            }                                                     \
        }                                                         \
    } while (0)

// out = BODY(a, b) over the whole broadcast shape of `bc`, one innermost row at a time (a macro, so BODY
// inlines into each row loop for every element type).
#define TM_BCAST_LOOP(bc, out, a, b, BODY)                                                            \
    do {                                                                                              \
        const int32_t rows_ = tm_bcast_rows(bc), inner_ = (bc)->dims[(bc)->ndim - 1];                 \
        const int sa_ = (bc)->st1[(bc)->ndim - 1] != 0, sb_ = (bc)->st2[(bc)->ndim - 1] != 0;         \
        int32_t idx_[TM_MAX_DIMS] = { 0 }, o1_ = 0, o2_ = 0;                                          \
        for (int32_t r_ = 0; r_ < rows_; r_++) {                                                      \
            TM_BCAST_ROW((out) + r_ * inner_, (a) + o1_, sa_, (b) + o2_, sb_, inner_, BODY);          \
            tm_bcast_next_row(bc, idx_, &o1_, &o2_);                                                  \
        }                                                                                             \
    } while (0)

// out = BODY(a, b) as TM_BCAST_LOOP computes it, in one plain loop with the inner strides as variables: a
// quarter of TM_BCAST_LOOP's code, for paths whose BODY costs far more than the loop (the 16x8 int16 paths:
// every byte of native code is ESP32 IRAM, and int8-only models carry these paths too).
#define TM_BCAST_LOOP_COMPACT(bc, out, a, b, BODY)                                                    \
    do {                                                                                              \
        const int32_t rows_ = tm_bcast_rows(bc), inner_ = (bc)->dims[(bc)->ndim - 1];                 \
        const int32_t sa_ = (bc)->st1[(bc)->ndim - 1], sb_ = (bc)->st2[(bc)->ndim - 1];               \
        int32_t idx_[TM_MAX_DIMS] = { 0 }, o1_ = 0, o2_ = 0;                                          \
        for (int32_t r_ = 0; r_ < rows_; r_++) {                                                      \
            for (int32_t i_ = 0; i_ < inner_; i_++) {                                                 \
                (out)[r_ * inner_ + i_] = BODY((a)[o1_ + i_ * sa_], (b)[o2_ + i_ * sb_]);             \
            }                                                                                         \
            tm_bcast_next_row(bc, idx_, &o1_, &o2_);                                                  \
        }                                                                                             \
    } while (0)

// What ADD, SUB and MUL share: the broadcast, the zero points and the fused activation's ranges.
typedef struct {
    tm_bcast_t bc;
    int32_t z1, z2, zo, lo, hi;     // int8 and int16 only
    float flo, fhi;
} tm_binary_t;

// A per-tensor int16 tensor (16x8 quantization) with a usable scale. The converter gives int16 tensors zero
// point 0; TFLM's ADD and SUB compute with any int16 zero point ((x - z) < 2^16 keeps their 2^15 headroom in
// int32), MUL refuses any other (mul.c).
static inline tm_status_t tm_check_binary_int16(tm_model_t *m, const tm_tensor_t *t, const char *what) {
    if (tm_expect_type(m, t, TM_INT16, what)) {
        return TM_ERROR;
    }
    if (!(t->scale > 0.0f && t->scale <= 3.4028235e38f)) {
        return tm_fail(m, "%s has no valid quantization scale", what);
    }
    if (t->zero_point < -32768 || t->zero_point > 32767) {
        return tm_fail(m, "%s zero point %d is outside the int16 range", what, t->zero_point);
    }
    if (t->n_scales > 1) {
        return tm_fail(m, "%s is quantized per channel: only per-tensor quantization is supported", what);
    }
    return TM_OK;
}

// Two inputs and one output, all float32, all per-tensor int8 or all per-tensor int16, the inputs
// broadcasting to the output.
static inline tm_status_t tm_check_binary(tm_model_t *m, tm_node_t *n) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    if (tm_is_f32(a)) {
        if (tm_expect_type(m, b, TM_FLOAT32, "input 2") || tm_expect_type(m, y, TM_FLOAT32, "output")) {
            return TM_ERROR;
        }
    } else if (tm_is_i16(a)) {
        if (tm_check_binary_int16(m, a, "input 1") || tm_check_binary_int16(m, b, "input 2") ||
            tm_check_binary_int16(m, y, "output")) {
            return TM_ERROR;
        }
    } else if (tm_check_int8(m, a, "input 1") || tm_check_int8(m, b, "input 2") || tm_check_int8(m, y, "output")) {
        return TM_ERROR;
    }
    tm_bcast_t bc;
    return tm_bcast_init(m, a, b, y, &bc);
}

// Fills `t` at prepare time (the node passed tm_check_binary); act is the fused activation.
static inline void tm_binary_prepare(tm_model_t *m, tm_node_t *n, int act, tm_binary_t *t) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    tm_bcast_init(m, a, b, y, &t->bc);
    tm_activation_range_f32(act, &t->flo, &t->fhi);
    if (a->type != TM_FLOAT32) {
        t->z1 = a->zero_point;
        t->z2 = b->zero_point;
        t->zo = y->zero_point;
        if (tm_is_i16(a)) {
            tm_activation_range_int16(act, y->scale, y->zero_point, &t->lo, &t->hi);
        } else {
            tm_activation_range_int8(act, y->scale, y->zero_point, &t->lo, &t->hi);
        }
    }
}

#endif
