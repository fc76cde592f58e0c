// LOGISTIC and TANH. int8: gemmlowp fixed point on the input rescaled to Q4 (no lookup table), as TFLM;
// int16 (16x8 models): TFLM's interpolated 256-entry sigmoid table (tanh(x) = 2 sigmoid(2x) - 1) on the input
// rescaled by an integer multiplier and shift; float32: from the correctly rounded expf of tm_math.
// tinyml-types: int8 int16 float32
// tinyml-op: LOGISTIC 14
// tinyml-op: TANH 28
#include "elementwise_common.h"
#include "../tm_fixedpoint.h"
#include "int16_sigmoid.h"
// tinyml-uses-float: tm_math.c
#include "../tm_math.h"

enum { OP_TANH = 28 };

typedef struct {
    int32_t zi, mult, shift, radius;
} sigmoid_params_t;

// TFLM's CheckedLog2(scale) == (k, true), i.e. scale within 1e-3 (in log2) of 2^k, for k in the table's range:
// TFLM decides it in float32 with logf, whose rounding moves the limits a few ulps (measured per k).
static int is_pot(float scale, int k) {
    union { float f; uint32_t u; } v = { scale };
    int e = (int)(v.u >> 23 & 0xff) - 127;
    uint32_t frac = v.u & 0x7fffff;
    int i = k - TM_POT_LIMITS_FIRST_K;
    if (v.u >> 31 || i < 0 || i >= (int)(sizeof tm_pot_limits / sizeof tm_pot_limits[0] / 2)) {
        return 0;
    }
    return (e == k && frac < tm_pot_limits[2 * i]) || (e == k - 1 && frac >= tm_pot_limits[2 * i + 1]);
}

// int16: symmetric (zero points 0), output scale 2^-15, as TFLM requires.
static tm_status_t init_int16(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (tm_expect_type(m, out, TM_INT16, "output")) {
        return TM_ERROR;
    }
    if (tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input has %d values, output %d", tm_elements(in), tm_elements(out));
    }
    if (in->zero_point != 0 || out->zero_point != 0) {
        return tm_fail(m, "int16 input and output must have zero point 0");
    }
    if (!is_pot(out->scale, -15)) {
        return tm_fail(m, "int16 output must have scale 2^-15");
    }
    if (!(in->scale > 0.0f && in->scale < 3e38f)) {
        return tm_fail(m, "input has no valid quantization scale");
    }
    req->persistent_bytes = sizeof(sigmoid_params_t);
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    if (tm_is_i16(tm_in(m, n, 0))) {
        return init_int16(m, n, req);
    }
    if (tm_check_unary(m, n) != TM_OK) {
        return TM_ERROR;
    }
    if (tm_in(m, n, 0)->type == TM_INT8 && n->opcode != OP_TANH && tm_out(m, n, 0)->zero_point != -128) {
        return tm_fail(m, "int8 output must have zero point -128");
    }
    req->persistent_bytes = sizeof(sigmoid_params_t);
    return TM_OK;
}

// mant * 2^x <= limit, exactly (mant < 2^26, limit < 2^16).
static int at_most(uint64_t mant, int x, uint64_t limit) {
    if (x >= 0) {
        return x <= 40 && (mant << x) <= limit;
    }
    return -x > 40 || mant <= (limit << -x);
}

// TFLM's int16 input rescaling to the table's 1/(3 * 4096) per step: a power-of-two scale (2^-12, and for TANH
// 2^-11 too) is multiplied by 3 << shift; any other by trunc(S_in * 3 * 4096 * 2^shift), the smallest shift
// (at most 31) that brings it above 32767/2, then rounded right by shift. Integers only: S_in * 3 is exact.
static tm_status_t prepare_int16(tm_model_t *m, tm_node_t *n, const tm_tensor_t *in, sigmoid_params_t *p) {
    const int tanh = n->opcode == OP_TANH;
    p->zi = 0;
    if (is_pot(in->scale, -12) || (tanh && is_pot(in->scale, -11))) {
        p->mult = 3 << (is_pot(in->scale, -12) ? 0 : 1);
        p->shift = 0;
        return TM_OK;
    }
    union { float f; uint32_t u; } v = { in->scale };
    int e = (int)(v.u >> 23 & 0xff);
    uint64_t mant = (uint64_t)((v.u & 0x7fffff) | (e ? 0x800000u : 0)) * 3;    // < 2^26
    int exp = (e ? e - 150 : -149) + 12;                                          // S_in * 12288 = mant * 2^exp
    int shift = 0;
    while (at_most(mant, exp + shift + 1, 32767) && shift <= 30) {      // multiplier <= 32767 / 2.0
        shift++;
    }
    int x = exp + shift;
    uint64_t mult = x >= 0 ? (x > 40 ? UINT64_MAX : mant << x) : (-x > 63 ? 0 : mant >> -x);   // truncated
    if (mult > 32767) {
        return tm_fail(m, "int16 input scale too large (above about 2.7): TFLM's table multiplier would overflow");
    }
    p->mult = (int32_t)mult;
    p->shift = shift;
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0);
    sigmoid_params_t *p = tm_persistent(m, n);
    if (tm_is_f32(in)) {
        return TM_OK;
    }
    if (tm_is_i16(in)) {
        return prepare_int16(m, n, in, p);
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

// TFLM's int16 LOGISTIC and TANH (int16_sigmoid.h) on the input rescaled by the layer's multiplier and shift
// (tm_int16_act_input's arithmetic, with the rounding term and the parameters read once: 16 bytes less code).
static void eval_int16(const sigmoid_params_t *p, int tanh, const int16_t *x, int16_t *y, int32_t count) {
    const int32_t mult = p->mult, shift = p->shift, round = shift > 0 ? 1 << (shift - 1) : 0;
    for (int32_t i = 0; i < count; i++) {
        const int32_t v = (x[i] * mult + round) >> shift;
        y[i] = tm_int16_sigmoid_or_tanh(v, tanh);
    }
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
    if (tm_is_i16(in)) {
        eval_int16(p, tanh, (const int16_t *)in->data, (int16_t *)out->data, count);
        return TM_OK;
    }
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
