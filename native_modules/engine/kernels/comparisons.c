// LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL: a bool per element, with numpy broadcasting.
// Loop conditions (WHILE's cond subgraph: an int32 counter against a bound), tf.cond conditions. Types as in
// TFLM's comparisons.cc: float32 and int32 compared as they are; int8 after TFLM's rescaling of both inputs
// ((x - Z) * 2^8 times each input's own scale as a multiplier below one), which is what decides ties between
// inputs of different scales.
// tinyml-types: int8 int32 float32
// tinyml-op: LESS 58
// tinyml-op: GREATER 61
// tinyml-op: GREATER_EQUAL 62
// tinyml-op: LESS_EQUAL 63
// tinyml-op: EQUAL 71
// tinyml-op: NOT_EQUAL 72
#include "broadcast.h"

enum { OP_LESS = 58, OP_GREATER = 61, OP_GREATER_EQUAL = 62, OP_LESS_EQUAL = 63, OP_EQUAL = 71 };

// Each op is a set of outcomes it answers true for: bit 0 less, bit 1 equal, bit 2 greater, bit 3 unordered
// (a float32 NaN: only NOT_EQUAL is true then, as in C).
enum { LT = 1, EQ = 2, GT = 4, UN = 8 };

typedef struct {
    tm_bcast_t bc;
    int32_t z1, z2, m1, s1, m2, s2;     // int8: zero points and each scale as a multiplier
    uint32_t outcomes;
} cmp_params_t;

static uint32_t outcomes(int opcode) {
    switch (opcode) {
        case OP_LESS: return LT;
        case OP_LESS_EQUAL: return LT | EQ;
        case OP_GREATER: return GT;
        case OP_GREATER_EQUAL: return GT | EQ;
        case OP_EQUAL: return EQ;
        default: return LT | GT | UN;   // NOT_EQUAL
    }
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    if (tm_expect_type(m, y, TM_BOOL, "output") || tm_expect_type(m, b, a->type, "input 2")) {
        return TM_ERROR;
    }
    if (a->type == TM_INT8) {
        if (tm_check_int8(m, a, "input 1") || tm_check_int8(m, b, "input 2")) {
            return TM_ERROR;
        }
    } else if (a->type != TM_INT32 && !tm_is_f32(a)) {
        return tm_fail(m, "input type %s is not supported (float32, int32, int8)", tm_type_name(a->type));
    }
    tm_bcast_t bc;
    if (tm_bcast_init(m, a, b, y, &bc) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(cmp_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    cmp_params_t *p = tm_persistent(m, n);
    tm_bcast_init(m, a, b, y, &p->bc);
    p->outcomes = outcomes(n->opcode);
    if (a->type == TM_INT8) {
        // TFLM: QuantizeMultiplierSmallerThanOneExp(scale), which requires a scale below one.
        p->z1 = a->zero_point;
        p->z2 = b->zero_point;
        if (tm_multiplier(m, a->scale, 1.0f, 1.0f, 1.0f, &p->m1, &p->s1) ||
            tm_multiplier(m, b->scale, 1.0f, 1.0f, 1.0f, &p->m2, &p->s2)) {
            return TM_ERROR;
        }
        if (p->s1 > 0 || p->s2 > 0) {
            return tm_fail(m, "int8 input scales must be below 1 (TFLM requires it)");
        }
    }
    return TM_OK;
}

// The outcome bit of comparing u and v, tested against the op's set.
#define CMP(u, v) ((uint8_t)((p->outcomes >> ((u) < (v) ? 0 : (u) == (v) ? 1 : (u) > (v) ? 2 : 3)) & 1))
#define CMP_I8(u, v) CMP(tm_mbqm(((int32_t)(u) - p->z1) * 256, p->m1, p->s1), \
                         tm_mbqm(((int32_t)(v) - p->z2) * 256, p->m2, p->s2))

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    const cmp_params_t *p = tm_persistent(m, n);
    uint8_t *out = y->data;
    if (tm_is_f32(a)) {
        const float *x1 = (const float *)a->data, *x2 = (const float *)b->data;
        TM_BCAST_LOOP(&p->bc, out, x1, x2, CMP);
    } else if (a->type == TM_INT32) {
        const int32_t *x1 = (const int32_t *)a->data, *x2 = (const int32_t *)b->data;
        TM_BCAST_LOOP(&p->bc, out, x1, x2, CMP);
    } else {
        const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
        TM_BCAST_LOOP(&p->bc, out, x1, x2, CMP_I8);
    }
    return TM_OK;
}

int tm_kernel_comparisons(tm_kernel_t *k) {
    k->name = "COMPARISON";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
