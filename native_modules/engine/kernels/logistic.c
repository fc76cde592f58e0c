// LOGISTIC and TANH. int8: gemmlowp fixed point on the input rescaled to Q4 (no lookup table), as TFLM;
// float32: from the correctly rounded expf of tm_math.
// tinyml-op: LOGISTIC 14
// tinyml-op: TANH 28
#include "elementwise_common.h"
#include "../tm_fixedpoint.h"
// tinyml-uses-float: tm_math.c
#include "../tm_math.h"

enum { OP_TANH = 28 };

typedef struct {
    int32_t zi, mult, shift, radius;
} sigmoid_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_check_unary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    if (tm_in(m, n, 0)->type == TM_INT8 && n->opcode != OP_TANH && tm_out(m, n, 0)->zero_point != -128) {
        return tm_fail(m, "int8 output must have zero point -128");
    }
    req->persistent_bytes = sizeof(sigmoid_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0);
    sigmoid_params_t *p = tm_persistent(m, n);
    if (tm_is_f32(in)) {
        return TM_OK;
    }
    // frexp(S_in * 2^27): the float mantissa is exact in 31 bits, so no rounding (QuantizeMultiplier unused).
    union { float f; uint32_t u; } v = { in->scale };
    int e = (int)(v.u >> 23 & 0xff);
    if (e == 0) {
        return tm_fail(m, "input scale too small");
    }
    p->mult = (int32_t)(((v.u & 0x7fffff) | 0x800000) << 7);
    p->shift = e - 126 + 27;
    if (p->shift < 0) {
        return tm_fail(m, "input scale too small (below 2^-28)");
    }
    // Inputs beyond +-radius saturate: floor(15 * 2^27 / 2^shift), the largest Q4 magnitude.
    p->radius = p->shift > 35 ? 0 : (int32_t)(((int64_t)15 << 27) >> p->shift);
    p->zi = in->zero_point;
    return TM_OK;
}

// gemmlowp logistic(a) for a Q4 value: Q0 result.
static int32_t logistic_q4(int32_t a) {
    if (a == 0) {
        return 1 << 30;
    }
    int32_t pos = tm_recip_iter(tm_exp_neg(a > 0 ? -a : a, 4), 0);
    return a > 0 ? pos : INT32_MAX - pos;
}

// gemmlowp tanh(a) for a Q4 value: exp of -|a| read as Q5, i.e. exp(-2|a|). Q0 result.
static int32_t tanh_q4(int32_t a) {
    if (a == 0) {
        return 0;
    }
    int32_t t = tm_recip_iter(tm_exp_neg(a > 0 ? -a : a, 5), 1);
    return a < 0 ? -t : t;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    const int tanh = n->opcode == OP_TANH;
    int32_t count = tm_elements(in);
    if (tm_is_f32(in)) {
        const float *x = (const float *)in->data;
        float *y = (float *)out->data;
        for (int32_t i = 0; i < count; i++) {
            y[i] = tanh ? tm_tanhf(x[i]) : tm_logisticf(x[i]);
        }
        return TM_OK;
    }
    const sigmoid_params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)in->data;
    int8_t *y = (int8_t *)out->data;
    for (int32_t i = 0; i < count; i++) {
        int32_t v = x[i] - p->zi, r;
        if (v <= -p->radius) {
            r = -128;
        } else if (v >= p->radius) {
            r = 127;
        } else {
            int32_t q4 = tm_mbqm(v, p->mult, p->shift);
            // Q0 to 8 fraction bits: logistic in [0, 1) with zero point -128, tanh in (-1, 1) with 7 bits.
            r = tanh ? tm_rdbpot(tanh_q4(q4), 24) : tm_rdbpot(logistic_q4(q4), 23) - 128;
        }
        y[i] = (int8_t)tm_clamp(r, -128, 127);
    }
    return TM_OK;
}

int tm_kernel_logistic(tm_kernel_t *k) {
    k->name = "LOGISTIC";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
