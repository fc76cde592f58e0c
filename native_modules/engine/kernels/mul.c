// tinyml-types: int8 int16 float32
// MUL: int8 and int16 (16x8; one requantization of the product of the zero-point-shifted inputs, as TFLM's
// int16 x int16 -> int16 path, which needs zero points 0) and float32, with numpy broadcasting.
// tinyml-op: MUL 18
#include "elementwise_common.h"
#include "broadcast.h"

enum { OPT_ACTIVATION = 0 };

typedef struct {
    tm_binary_t t;
    int32_t mult, shift;
} mul_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_check_binary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    if (tm_is_i16(a) && (a->zero_point || b->zero_point || y->zero_point)) {
        return tm_fail(m, "int16 inputs and output need zero point 0 (as in TFLM), not %d, %d and %d",
            a->zero_point, b->zero_point, y->zero_point);
    }
    req->persistent_bytes = sizeof(mul_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    mul_params_t *p = tm_persistent(m, n);
    tm_binary_prepare(m, n, tm_opt_u8(m, n, OPT_ACTIVATION, 0), &p->t);
    if (tm_is_f32(a)) {
        return TM_OK;
    }
    if (tm_multiplier(m, a->scale, b->scale, y->scale, 1.0f, &p->mult, &p->shift)) {
        return TM_ERROR;
    }
    // The product of two shifted int8 values is below 2^16, of two int16 values at most 2^30: keep its
    // left-shifted form inside int32.
    if (p->shift > (tm_is_i16(a) ? 0 : 15)) {
        return tm_fail(m, "output scale too small for the input scales");
    }
    return TM_OK;
}

static inline int32_t mul_q(int32_t x1, int32_t x2, const mul_params_t *p) {
    int32_t prod = (x1 - p->t.z1) * (x2 - p->t.z2);
    return tm_clamp(tm_mbqm(prod, p->mult, p->shift) + p->t.zo, p->t.lo, p->t.hi);
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    const mul_params_t *p = tm_persistent(m, n);
    if (tm_is_f32(a)) {
        const float *x1 = (const float *)a->data, *x2 = (const float *)b->data;
        float *out = (float *)y->data;
        const float lo = p->t.flo, hi = p->t.fhi;
#define MUL_F32(u, v) tm_clamp_f32((u) * (v), lo, hi)
        TM_BCAST_LOOP(&p->t.bc, out, x1, x2, MUL_F32);
        return TM_OK;
    }
    if (tm_is_i16(a)) {
        const int16_t *x1 = (const int16_t *)a->data, *x2 = (const int16_t *)b->data;
        int16_t *out = (int16_t *)y->data;
#define MUL_I16(u, v) (int16_t)mul_q((u), (v), p)
        TM_BCAST_LOOP_COMPACT(&p->t.bc, out, x1, x2, MUL_I16);
        return TM_OK;
    }
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    int8_t *out = (int8_t *)y->data;
#define MUL_I8(u, v) (int8_t)mul_q((u), (v), p)
    TM_BCAST_LOOP(&p->t.bc, out, x1, x2, MUL_I8);
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
