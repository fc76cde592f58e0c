// SOFTMAX int8 -> int8, with gemmlowp fixed-point exp and reciprocal exactly as TFLM (no lookup table), and
// float32 with glibc's expf (tm_math) as TFLM's reference kernel.
// tinyml-op: SOFTMAX 25
#include "../tm_internal.h"
#include "../tm_fixedpoint.h"
// tinyml-uses-float: tm_math.c
#include "../tm_math.h"

enum { OPT_BETA = 0 };

typedef struct {
    int32_t multiplier, left_shift, diff_min;
    int32_t rows;                   // softmaxes of `depth` (the last dim) values each
} softmax_params_t;

// A float32 layer's persistent data.
typedef struct {
    float beta;
    int32_t rows;
} softmax_f32_t;

// Rows of the last dimension (init checked ndim >= 1).
static int32_t softmax_rows(const tm_tensor_t *in) {
    const int32_t depth = in->dims[in->ndim - 1];
    return depth ? tm_elements(in) / depth : 0;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 1, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (tm_is_f32(in)) {
        if (tm_expect_type(m, out, TM_FLOAT32, "output")) {
            return TM_ERROR;
        }
        if (in->ndim < 1 || tm_elements(in) != tm_elements(out)) {
            return tm_fail(m, "input and output shapes differ");
        }
        req->persistent_bytes = sizeof(softmax_f32_t);
        return TM_OK;
    }
    if (tm_expect_type(m, in, TM_INT8, "input") || tm_expect_type(m, out, TM_INT8, "output")) {
        return TM_ERROR;
    }
    if (out->zero_point != -128 || out->scale != 1.0f / 256) {
        return tm_fail(m, "int8 output must have scale 1/256 and zero point -128");
    }
    if (in->ndim < 1 || tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input and output shapes differ");
    }
    req->persistent_bytes = sizeof(softmax_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0);
    if (tm_is_f32(in)) {
        softmax_f32_t *f = tm_persistent(m, n);
        f->beta = tm_opt_f32(m, n, OPT_BETA, 0.0f);
        f->rows = softmax_rows(in);
        return TM_OK;
    }
    softmax_params_t *p = tm_persistent(m, n);
    p->rows = softmax_rows(in);
    float beta = tm_opt_f32(m, n, OPT_BETA, 0.0f);
    int shift;
    // real = min(beta * S_in * 2^26, 2^31 - 1), then QuantizeMultiplierGreaterThanOne.
    if (!tm_quantize_ratio_raw(beta, in->scale, 1.0f / 67108864.0f, 1.0f, &p->multiplier, &shift)) {
        return tm_fail(m, "beta or input scale is not a finite number");
    }
    if (shift > 31) {
        p->multiplier = INT32_MAX;
        shift = 31;
    }
    if (shift < 0 || p->multiplier <= 0) {
        return tm_fail(m, "beta * input scale too small (< 2^-26)");
    }
    p->left_shift = shift;
    p->diff_min = -(int32_t)((31u << 26) >> shift);
    return TM_OK;
}

// Per row: exp((x - max) * beta), then each divided by the row's sum, in TFLM's order.
static void eval_float(const float *x, float *y, int32_t rows, int32_t depth, float beta) {
    for (int32_t r = 0; r < rows; r++, x += depth, y += depth) {
        float mx = -3.402823466e38f, sum = 0.0f;
        for (int32_t c = 0; c < depth; c++) {
            mx = mx < x[c] ? x[c] : mx;
        }
        for (int32_t c = 0; c < depth; c++) {
            y[c] = tm_expf((x[c] - mx) * beta);
            sum += y[c];
        }
        for (int32_t c = 0; c < depth; c++) {
            y[c] = y[c] / sum;
        }
    }
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    const softmax_params_t *p = tm_persistent(m, n);
    const int32_t depth = in->dims[in->ndim - 1];
    if (tm_is_f32(in)) {
        const softmax_f32_t *f = tm_persistent(m, n);
        eval_float((const float *)in->data, (float *)out->data, f->rows, depth, f->beta);
        return TM_OK;
    }
    const int32_t rows = p->rows;
    const int8_t *x = (const int8_t *)in->data;
    int8_t *y = (int8_t *)out->data;
    for (int32_t r = 0; r < rows; r++, x += depth, y += depth) {
        int32_t mx = -128;
        for (int32_t c = 0; c < depth; c++) {
            mx = x[c] > mx ? x[c] : mx;
        }
        uint32_t sum = 0; // Q12, wrapping like TFLM's int32 accumulator
        for (int32_t c = 0; c < depth; c++) {
            int32_t d = x[c] - mx;
            if (d >= p->diff_min) {
                int32_t e = tm_exp_neg(tm_srdhm((int32_t)((uint32_t)d << p->left_shift), p->multiplier), 5);
                sum += (uint32_t)tm_rdbpot(e, 12);
            }
        }
        int nbou;
        int32_t rec = tm_reciprocal((int32_t)sum, 12, &nbou);
        int exp = nbou + 23;
        if (exp < 0 || exp > 31) {
            return tm_fail(m, "softmax exponent out of range");
        }
        for (int32_t c = 0; c < depth; c++) {
            int32_t d = x[c] - mx;
            int32_t v = -128;
            if (d >= p->diff_min) {
                int32_t e = tm_exp_neg(tm_srdhm((int32_t)((uint32_t)d << p->left_shift), p->multiplier), 5);
                v = tm_clamp(tm_rdbpot(tm_srdhm(rec, e), exp) - 128, -128, 127);
            }
            y[c] = (int8_t)v;
        }
    }
    return TM_OK;
}

int tm_kernel_softmax(tm_kernel_t *k) {
    k->name = "SOFTMAX";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
