// ADD and SUB: int8 (TFLM's 20-bit left shift rescaling) and float32, with numpy broadcasting.
// tinyml-op: ADD 0
// tinyml-op: SUB 41
#include "elementwise_common.h"
#include "broadcast.h"

enum { OPT_ACTIVATION = 0 };
enum { OP_SUB = 41 };

typedef struct {
    tm_bcast_t bc;
    int32_t m1, s1, m2, s2, mo, so;     // input rescaling to a common scale, and to the output
    int32_t z1, z2, zo, lo, hi;
    float flo, fhi;
} add_params_t;

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
    req->persistent_bytes = sizeof(add_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    add_params_t *p = tm_persistent(m, n);
    int act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    tm_bcast_init(m, a, b, y, &p->bc);
    tm_activation_range_f32(act, &p->flo, &p->fhi);
    if (a->type == TM_FLOAT32) {
        return TM_OK;
    }
    // Both inputs go to the scale twice = 2 * max(S1, S2) with 20 bits of headroom, then to the output scale:
    // r1 = S1 / twice, r2 = S2 / twice, ro = twice / (2^20 * S_out), all < 1 (QuantizeMultiplierSmallerThanOneExp).
    float mx = a->scale > b->scale ? a->scale : b->scale;
    if (tm_multiplier(m, a->scale, 1.0f, 2.0f, mx, &p->m1, &p->s1) ||
        tm_multiplier(m, b->scale, 1.0f, 2.0f, mx, &p->m2, &p->s2) ||
        tm_multiplier(m, 2.0f, mx, 1048576.0f, y->scale, &p->mo, &p->so)) {
        return TM_ERROR;
    }
    if (p->so > 0) {
        return tm_fail(m, "output scale too small for the input scales");
    }
    p->z1 = a->zero_point;
    p->z2 = b->zero_point;
    p->zo = y->zero_point;
    tm_activation_range_int8(act, y->scale, y->zero_point, &p->lo, &p->hi);
    return TM_OK;
}

static inline int8_t add_i8(int32_t x1, int32_t x2, const add_params_t *p, int32_t sign) {
    int32_t a = tm_mbqm((x1 - p->z1) * (1 << 20), p->m1, p->s1);
    int32_t b = tm_mbqm((x2 - p->z2) * (1 << 20), p->m2, p->s2);
    return (int8_t)tm_clamp(tm_mbqm(a + sign * b, p->mo, p->so) + p->zo, p->lo, p->hi);
}

static inline float clamp_f32(float v, float lo, float hi) {
    v = v < lo ? lo : v;        // TFLM: min(max(v, lo), hi), so NaN passes through
    return v > hi ? hi : v;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    const add_params_t *p = tm_persistent(m, n);
    const tm_bcast_t *bc = &p->bc;
    int32_t rows = tm_bcast_rows(bc), inner = bc->dims[bc->ndim - 1];
    int sa = bc->st1[bc->ndim - 1] != 0, sb = bc->st2[bc->ndim - 1] != 0;
    int32_t idx[TM_MAX_DIMS] = { 0 }, o1 = 0, o2 = 0;
    const int sub = n->opcode == OP_SUB;
    if (a->type == TM_FLOAT32) {
        const float *x1 = (const float *)a->data, *x2 = (const float *)b->data;
        float *out = (float *)y->data;
        float lo = p->flo, hi = p->fhi;
#define ADD_F32(u, v) clamp_f32((u) + (v), lo, hi)
#define SUB_F32(u, v) clamp_f32((u) - (v), lo, hi)
        for (int32_t r = 0; r < rows; r++, out += inner) {
            if (sub) {
                TM_BCAST_ROW(out, x1 + o1, sa, x2 + o2, sb, inner, SUB_F32);
            } else {
                TM_BCAST_ROW(out, x1 + o1, sa, x2 + o2, sb, inner, ADD_F32);
            }
            tm_bcast_next_row(bc, idx, &o1, &o2);
        }
        return TM_OK;
    }
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    int8_t *out = (int8_t *)y->data;
    const int32_t sign = sub ? -1 : 1;
#define ADD_I8(u, v) add_i8((u), (v), p, sign)
    for (int32_t r = 0; r < rows; r++, out += inner) {
        TM_BCAST_ROW(out, x1 + o1, sa, x2 + o2, sb, inner, ADD_I8);
        tm_bcast_next_row(bc, idx, &o1, &o2);
    }
    return TM_OK;
}

int tm_kernel_add(tm_kernel_t *k) {
    k->name = "ADD";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
