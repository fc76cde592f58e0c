// tinyml-types: int8 int16 int32 float32
// tinyml-types: SUB int8 int16 float32
// ADD and SUB: int8 (TFLM's 20-bit left shift rescaling), int16 (16x8 quantization: the same arithmetic with a
// 15-bit left shift, TFLM's general path; TFLM's kernel never takes the reference code's power-of-two special
// case) and float32, with numpy broadcasting; ADD also int32 (a loop counter in a WHILE body; as in TFLM, no
// fused activation is applied to it and a sum wraps).
// tinyml-op: ADD 0
// tinyml-op: SUB 41
//
// This file is the portable kernel. An arch's fast int8 path lives in kernels/<arch>/add.c (cortex_m4/:
// same-shape inputs with SMMLAR), which the build compiles instead of this file: it defines TM_ARCH_KERNEL,
// includes this file and supplies the hooks declared below (docs/architecture.md). Its hooks see int8 nodes
// only: int16 always takes the portable loop here.
#include "elementwise_common.h"
#include "broadcast.h"

// int32 sums are loop counters in WHILE bodies: only builds that can run a loop carry them (each byte of a
// pack's code takes ESP32 IRAM). The generated op list (tinyml.ops.ops_header) defines TM_HAS_<OP>.
#ifndef TM_OPS_HEADER
#define TM_OPS_HEADER "tm_ops.h"
#endif
#define TM_OP(code, fn, name)
#include TM_OPS_HEADER
#undef TM_OP
#if defined(TM_HAS_WHILE)
#define ADD_INT32 1
#else
#define ADD_INT32 0
#endif

enum { OPT_ACTIVATION = 0 };
enum { OP_SUB = 41 };

typedef struct {
    tm_binary_t t;
    int32_t m1, s1, m2, s2, mo, so;     // input rescaling to a common scale, and to the output
#ifdef TM_ARCH_PARAMS
    TM_ARCH_PARAMS                      // what the arch's prepare adds (kernels/<arch>/add.c)
#endif
} add_params_t;

#if TM_ARCH_KERNEL
// The hooks of an arch's fast int8 path (kernels/<arch>/add.c).
static void arch_prepare(add_params_t *p, int sub);                  // after p holds the portable data
// 1 if it computed the int8 output, 0 to leave it to the portable loop.
static int arch_eval_int8(const tm_tensor_t *a, const tm_tensor_t *b, int8_t *out, const add_params_t *p);
#endif

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
#if ADD_INT32
    if (n->opcode != OP_SUB && n->n_in == 2 && n->n_out == 1 && tm_in(m, n, 0) && tm_in(m, n, 0)->type == TM_INT32) {
        tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
        tm_bcast_t bc;
        if (!b || tm_expect_type(m, b, TM_INT32, "input 2") || tm_expect_type(m, y, TM_INT32, "output") ||
            tm_bcast_init(m, a, b, y, &bc)) {
            return TM_ERROR;
        }
    } else
#endif
    if (tm_check_binary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(add_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    add_params_t *p = tm_persistent(m, n);
    tm_binary_prepare(m, n, tm_opt_u8(m, n, OPT_ACTIVATION, 0), &p->t);
    if (tm_is_f32(a) || a->type == TM_INT32) {
        return TM_OK;
    }
    // Both inputs go to the scale twice = 2 * max(S1, S2) with 2^L of headroom (L = 20 for int8, 15 for int16:
    // (x - z) 2^15 < 2^31 for int16), then to the output scale: r1 = S1 / twice, r2 = S2 / twice,
    // ro = twice / (2^L * S_out), all < 1 (QuantizeMultiplierSmallerThanOneExp).
    const int int16 = tm_is_i16(a);
    float mx = a->scale > b->scale ? a->scale : b->scale;
    if (tm_multiplier(m, a->scale, 1.0f, 2.0f, mx, &p->m1, &p->s1) ||
        tm_multiplier(m, b->scale, 1.0f, 2.0f, mx, &p->m2, &p->s2) ||
        tm_multiplier(m, 2.0f, mx, int16 ? 32768.0f : 1048576.0f, y->scale, &p->mo, &p->so)) {
        return TM_ERROR;
    }
    if (p->so > 0) {
        return tm_fail(m, "output scale too small for the input scales");
    }
#if TM_ARCH_KERNEL
    if (!int16) {
        arch_prepare(p, n->opcode == OP_SUB);
    }
#endif
    return TM_OK;
}

// TFLM's quantized sum or difference with headroom 2^left_shift, clamped to the activation range.
static inline int32_t add_q(int32_t x1, int32_t x2, const add_params_t *p, int32_t sign, int left_shift) {
    int32_t a = tm_mbqm((x1 - p->t.z1) * (1 << left_shift), p->m1, p->s1);
    int32_t b = tm_mbqm((x2 - p->t.z2) * (1 << left_shift), p->m2, p->s2);
    return tm_clamp(tm_mbqm(a + sign * b, p->mo, p->so) + p->t.zo, p->t.lo, p->t.hi);
}

static inline int8_t add_i8(int32_t x1, int32_t x2, const add_params_t *p, int32_t sign) {
    return (int8_t)add_q(x1, x2, p, sign, 20);
}

static inline int16_t add_i16(int32_t x1, int32_t x2, const add_params_t *p, int32_t sign) {
    return (int16_t)add_q(x1, x2, p, sign, 15);
}

#if ADD_INT32
// int32 sums (loop counters: a few values), in one plain loop rather than TM_BCAST_LOOP's four specialised ones.
static void add_i32(const tm_bcast_t *bc, const uint32_t *x1, const uint32_t *x2, uint32_t *out) {
    const int32_t rows = tm_bcast_rows(bc), inner = bc->dims[bc->ndim - 1];
    const int32_t s1 = bc->st1[bc->ndim - 1], s2 = bc->st2[bc->ndim - 1];
    int32_t idx[TM_MAX_DIMS] = { 0 }, o1 = 0, o2 = 0;
    for (int32_t r = 0; r < rows; r++) {
        for (int32_t i = 0; i < inner; i++) {
            *out++ = x1[o1 + i * s1] + x2[o2 + i * s2];     // unsigned: wraps as TFLM's int32 sum does in practice
        }
        tm_bcast_next_row(bc, idx, &o1, &o2);
    }
}
#endif

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *a = tm_in(m, n, 0), *b = tm_in(m, n, 1), *y = tm_out(m, n, 0);
    const add_params_t *p = tm_persistent(m, n);
    const int sub = n->opcode == OP_SUB;
    if (tm_is_f32(a)) {
        const float *x1 = (const float *)a->data, *x2 = (const float *)b->data;
        float *out = (float *)y->data;
        const float lo = p->t.flo, hi = p->t.fhi;
#define ADD_F32(u, v) tm_clamp_f32((u) + (v), lo, hi)
#define SUB_F32(u, v) tm_clamp_f32((u) - (v), lo, hi)
        if (sub) {
            TM_BCAST_LOOP(&p->t.bc, out, x1, x2, SUB_F32);
        } else {
            TM_BCAST_LOOP(&p->t.bc, out, x1, x2, ADD_F32);
        }
        return TM_OK;
    }
#if ADD_INT32
    if (a->type == TM_INT32) {
        add_i32(&p->t.bc, (const uint32_t *)a->data, (const uint32_t *)b->data, (uint32_t *)y->data);
        return TM_OK;
    }
#endif
    if (tm_is_i16(a)) {
        const int32_t sign = sub ? -1 : 1;
        const int16_t *x1 = (const int16_t *)a->data, *x2 = (const int16_t *)b->data;
        int16_t *out = (int16_t *)y->data;
#define ADD_I16(u, v) add_i16((u), (v), p, sign)
        TM_BCAST_LOOP_COMPACT(&p->t.bc, out, x1, x2, ADD_I16);
        return TM_OK;
    }
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    int8_t *out = (int8_t *)y->data;
#if TM_ARCH_KERNEL
    if (arch_eval_int8(a, b, out, p)) {
        return TM_OK;
    }
#endif
    // After the arch's fast path, not before: held across its call it cost the M4 2 instructions per ADD.
    const int32_t sign = sub ? -1 : 1;
#define ADD_I8(u, v) add_i8((u), (v), p, sign)
    TM_BCAST_LOOP(&p->t.bc, out, x1, x2, ADD_I8);
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
