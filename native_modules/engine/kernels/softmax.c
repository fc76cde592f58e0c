// SOFTMAX int8 -> int8, with gemmlowp fixed-point exp and reciprocal exactly as TFLM (no lookup table);
// int16 -> int16 with TFLM's two interpolated 513-entry tables (exp and 1/(1+x), constants:
// int16_activation_tables.h); float32 with glibc's expf (tm_math) as TFLM's reference kernel.
// tinyml-types: int8 int16 float32
// tinyml-op: SOFTMAX 25
#include "../tm_internal.h"
#include "../tm_fixedpoint.h"
#include "int16_activation_tables.h"
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

// int16 in and out (16x8 models), as TFLM checks them: zero points 0, output scale 1/32768 within 0.1%.
static tm_status_t init_int16(tm_model_t *m, tm_tensor_t *in, tm_tensor_t *out, tm_node_request_t *req) {
    if (tm_expect_type(m, out, TM_INT16, "output")) {
        return TM_ERROR;
    }
    if (in->zero_point != 0 || out->zero_point != 0) {
        return tm_fail(m, "int16 input and output must have zero point 0");
    }
    float d = out->scale - 1.0f / 32768;
    if (!(d <= 0.001f / 32768 && -d <= 0.001f / 32768)) {
        return tm_fail(m, "int16 output must have scale 1/32768");
    }
    if (in->ndim < 1 || tm_elements(in) != tm_elements(out)) {
        return tm_fail(m, "input and output shapes differ");
    }
    req->persistent_bytes = sizeof(softmax_params_t);
    return TM_OK;
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
    if (tm_is_i16(in)) {
        return init_int16(m, in, out, req);
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

// QuantizeMultiplier((double)a * (double)b / (10.0 / 65535.0)) as TFLM computes it in double precision, in
// integers (tm_quant.c's method for a denominator that is a double, not a product of floats): the product of
// the two float mantissas is exact; the quotient by the double 10/65535 = 0x14001400140014 * 2^-65 is rounded
// to 53 bits (nearest even, an IEEE division), then to 31 bits half away from zero (QuantizeMultiplier).
// Returns 0 for a non-finite a or b; a multiplier below 2^-31 is 0, as TFLM flushes it.
static int quantize_over_double(float a, float b, int32_t *multiplier, int *shift) {
    union { float f; uint32_t u; } va = { a }, vb = { b };
    int ea = (int)(va.u >> 23 & 0xff), eb = (int)(vb.u >> 23 & 0xff);
    *multiplier = 0;
    *shift = 0;
    if (ea == 0xff || eb == 0xff) {
        return 0;
    }
    uint64_t num = (uint64_t)((va.u & 0x7fffff) | (ea ? 0x800000u : 0)) * ((vb.u & 0x7fffff) | (eb ? 0x800000u : 0));
    if (num == 0) {
        return 1;
    }
    // value = num / den * 2^exp, both brought to bit 61 (tm_quantize_quotient shifts the remainder left).
    int exp = (ea ? ea - 150 : -149) + (eb ? eb - 150 : -149) + 65;
    uint64_t den = (uint64_t)0x14001400140014u << 9;    // bit 52 -> 61: the quotient is 2^-9 of the value
    exp += 9;
    while (!(num >> 61)) {
        num <<= 1;
        exp--;
    }
    return tm_quantize_quotient(num, den, exp, (int)((va.u ^ vb.u) >> 31), multiplier, shift);
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
    if (tm_is_i16(in)) {
        // TFLM: QuantizeMultiplier(S_in * beta / (10.0 / 65535.0)): input differences in [-65535, 0] become
        // the exp table's [-10, 0].
        if (!quantize_over_double(in->scale, beta, &p->multiplier, &shift)) {
            return tm_fail(m, "beta or input scale is not a finite number");
        }
        if (shift > 14) {
            return tm_fail(m, "int16 input scale * beta too large (over 2.5): differences would overflow");
        }
        p->left_shift = shift;
        return TM_OK;
    }
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

// TFLM's LUTLookup: 512 segments of 128 input steps, linear between neighbouring entries, rounded.
static int32_t lut_lookup(int32_t v, const int16_t *lut) {
    int32_t i = 256 + (v >> 7), base = lut[i], slope = lut[i + 1] - base;
    return (int16_t)(base + ((slope * (v & 0x7f) + 64) >> 7));
}

// TFLM's SoftmaxInt16, row by row: exp of the scaled differences from the row's max from the table (kept in
// the output), their sum normalised and recentred into the 1/(1+x) table, then each exp times that
// reciprocal, shifted back by the sum's headroom.
static void eval_int16(const softmax_params_t *p, const int16_t *x, int16_t *y, int32_t depth) {
    for (int32_t r = 0; r < p->rows; r++, x += depth, y += depth) {
        int32_t mx = -32768;
        for (int32_t c = 0; c < depth; c++) {
            mx = x[c] > mx ? x[c] : mx;
        }
        int32_t sum = 0;                   // Q16.15
        for (int32_t c = 0; c < depth; c++) {
            int32_t d = tm_mbqm(x[c] - mx, p->multiplier, p->left_shift) + 32767;
            y[c] = (int16_t)lut_lookup(tm_clamp(d, -32768, 32767), tm_softmax_exp_lut);
            sum += y[c];
        }
        int headroom_plus_one = 0;         // leading zeros; sum >= exp(0) > 0
        while (!((uint32_t)sum << headroom_plus_one & 0x80000000u)) {
            headroom_plus_one++;
        }
        int32_t shifted = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        int32_t recip = lut_lookup(tm_clamp(shifted - (1 << 15) - (1 << 16), -32768, 32767), tm_softmax_recip_lut);
        int right_shift = 31 - headroom_plus_one;
        for (int32_t c = 0; c < depth; c++) {
            int64_t v = ((int64_t)y[c] * recip + ((int64_t)1 << (right_shift - 1))) >> right_shift;
            y[c] = (int16_t)(v < 0 ? 0 : (v > 32767 ? 32767 : v));
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
    if (tm_is_i16(in)) {
        eval_int16(p, (const int16_t *)in->data, (int16_t *)out->data, depth);
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
