// MUL: int8 (one requantization of the product of the zero-point-shifted inputs) and float32, with numpy
// broadcasting.
// tinyml-op: MUL 18
#include "elementwise_common.h"
#include "broadcast.h"

enum { OPT_ACTIVATION = 0 };

typedef struct {
    tm_bcast_t bc;
    int32_t mult, shift, z1, z2, zo, lo, hi;
    float flo, fhi;
} mul_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    if (a->type == TM_FLOAT32) {
        if (tm_expect_type(m, b, TM_FLOAT32, "input 2") || tm_expect_type(m, y, TM_FLOAT32, "output")) {
            return TM_ERROR;
        }
    } else if (tm_check_int8(m, a, "input 1") || tm_check_int8(m, b, "input 2") || tm_check_int8(m, y, "output")) {
        return TM_ERROR;
    }
    tm_bcast_t bc;
    if (tm_bcast_init(m, a, b, y, &bc) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(mul_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    mul_params_t *p = tm_persistent(m, n);
    int act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    tm_bcast_init(m, a, b, y, &p->bc);
    tm_activation_range_f32(act, &p->flo, &p->fhi);
    if (a->type == TM_FLOAT32) {
        return TM_OK;
    }
    if (tm_multiplier(m, a->scale, b->scale, y->scale, 1.0f, &p->mult, &p->shift)) {
        return TM_ERROR;
    }
    // The product of two shifted int8 values is below 2^16: keep its left-shifted form inside int32.
    if (p->shift > 15) {
        return tm_fail(m, "output scale too small for the input scales");
    }
    p->z1 = a->zero_point;
    p->z2 = b->zero_point;
    p->zo = y->zero_point;
    tm_activation_range_int8(act, y->scale, y->zero_point, &p->lo, &p->hi);
    return TM_OK;
}

static inline int8_t mul_i8(int32_t x1, int32_t x2, const mul_params_t *p) {
    int32_t prod = (x1 - p->z1) * (x2 - p->z2);
    return (int8_t)tm_clamp(tm_mbqm(prod, p->mult, p->shift) + p->zo, p->lo, p->hi);
}

static inline float clamp_f32(float v, float lo, float hi) {
    v = v < lo ? lo : v;        // TFLM: min(max(v, lo), hi), so NaN passes through
    return v > hi ? hi : v;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    const mul_params_t *p = tm_persistent(m, n);
    const tm_bcast_t *bc = &p->bc;
    int32_t rows = tm_bcast_rows(bc), inner = bc->dims[bc->ndim - 1];
    int sa = bc->st1[bc->ndim - 1] != 0, sb = bc->st2[bc->ndim - 1] != 0;
    int32_t idx[TM_MAX_DIMS] = { 0 }, o1 = 0, o2 = 0;
    if (a->type == TM_FLOAT32) {
        const float *x1 = (const float *)a->data, *x2 = (const float *)b->data;
        float *out = (float *)y->data;
        float lo = p->flo, hi = p->fhi;
#define MUL_F32(u, v) clamp_f32((u) * (v), lo, hi)
        for (int32_t r = 0; r < rows; r++, out += inner) {
            TM_BCAST_ROW(out, x1 + o1, sa, x2 + o2, sb, inner, MUL_F32);
            tm_bcast_next_row(bc, idx, &o1, &o2);
        }
        return TM_OK;
    }
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    int8_t *out = (int8_t *)y->data;
#define MUL_I8(u, v) mul_i8((u), (v), p)
    for (int32_t r = 0; r < rows; r++, out += inner) {
        TM_BCAST_ROW(out, x1 + o1, sa, x2 + o2, sb, inner, MUL_I8);
        tm_bcast_next_row(bc, idx, &o1, &o2);
    }
    return TM_OK;
}

int tm_kernel_mul(tm_kernel_t *k) {
    k->name = "MUL";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
