// FULLY_CONNECTED: int8 (per-channel or per-tensor weights) and float32.
// tinyml-op: FULLY_CONNECTED 9
#include "../tm_internal.h"
#include "../tm_quant.h"

enum { OPT_ACTIVATION = 0, OPT_WEIGHTS_FORMAT = 1 };

// Requantization per unit (per-channel weights) or one for all units (per-tensor): as small as TFLM's.
typedef struct {
    int32_t multiplier;
    int32_t shift;
} unit_params_t;

typedef struct {
    tm_tensor_t *in, *w, *bias, *out;
    int32_t units, depth, batches;
} shape_t;

static tm_status_t get_shape(tm_model_t *m, tm_node_t *n, shape_t *s) {
    if (tm_expect_io(m, n, 2, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    s->in = tm_in(m, n, 0);
    s->w = tm_in(m, n, 1);
    s->bias = tm_in(m, n, 2);
    s->out = tm_out(m, n, 0);
    if (s->w->ndim != 2) {
        return tm_fail(m, "weights must be 2-D [units, depth], got %d-D", s->w->ndim);
    }
    s->units = s->w->dims[0];
    s->depth = s->w->dims[1];
    if (s->units <= 0 || s->depth <= 0) {
        return tm_fail(m, "empty weights");
    }
    s->batches = tm_elements(s->out) / s->units;
    if (tm_elements(s->out) != s->batches * s->units || tm_elements(s->in) != s->batches * s->depth) {
        return tm_fail(m, "input of %d values does not fit weights of depth %d", tm_elements(s->in), s->depth);
    }
    if (tm_opt_u8(m, n, OPT_WEIGHTS_FORMAT, 0) != 0) {
        return tm_fail(m, "shuffled weights format is not supported");
    }
    if (s->bias && tm_elements(s->bias) != s->units) {
        return tm_fail(m, "bias has %d values for %d units", tm_elements(s->bias), s->units);
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    shape_t s;
    if (get_shape(m, n, &s) != TM_OK) {
        return TM_ERROR;
    }
    if (s.in->type == TM_FLOAT32) {
        if (tm_expect_type(m, s.w, TM_FLOAT32, "weights") || tm_expect_type(m, s.out, TM_FLOAT32, "output") ||
            (s.bias && tm_expect_type(m, s.bias, TM_FLOAT32, "bias"))) {
            return TM_ERROR;
        }
        return TM_OK;
    }
    if (tm_expect_type(m, s.in, TM_INT8, "input") || tm_expect_type(m, s.w, TM_INT8, "weights") ||
        tm_expect_type(m, s.out, TM_INT8, "output") || (s.bias && tm_expect_type(m, s.bias, TM_INT32, "bias"))) {
        return TM_ERROR;
    }
    if (!s.w->is_const || (s.bias && !s.bias->is_const)) {
        return tm_fail(m, "weights and bias must be constant tensors");
    }
    if (s.w->n_scales > 1 && (uint32_t)s.units != s.w->n_scales) {
        return tm_fail(m, "weights have %u scales for %d units", s.w->n_scales, s.units);
    }
    if (s.w->zero_point != 0) {
        return tm_fail(m, "int8 weights must have zero point 0 (TFLite's quantization spec)");
    }
    req->persistent_bytes = (uint32_t)(s.w->n_scales > 1 ? s.units : 1) * sizeof(unit_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    shape_t s;
    get_shape(m, n, &s);
    if (s.in->type == TM_FLOAT32) {
        return TM_OK;
    }
    unit_params_t *p = tm_persistent(m, n);
    int32_t count = s.w->n_scales > 1 ? s.units : 1;
    for (int32_t o = 0; o < count; o++) {
        float w_scale = s.w->n_scales > 1 ? tm_load_f32(s.w->scales + 4 * o) : s.w->scale;
        int shift;
        if (!tm_quantize_ratio(s.in->scale, w_scale, s.out->scale, 1.0f, &p[o].multiplier, &shift)) {
            return tm_fail(m, "quantization scales out of range (zero, infinite, or a multiplier beyond 2^30)");
        }
        p[o].shift = shift;
    }
    if (s.bias && ((uintptr_t)s.bias->data & 3)) {
        return tm_fail(m, "bias data is misaligned in the model buffer");
    }
    return TM_OK;
}

static tm_status_t eval_float(tm_model_t *m, tm_node_t *n, shape_t *s) {
    int32_t act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    float lo, hi;
    tm_activation_range_f32(act, &lo, &hi);
    const float *x = (const float *)s->in->data;
    const float *w = (const float *)s->w->data;
    const float *bias = s->bias ? (const float *)s->bias->data : 0;
    float *y = (float *)s->out->data;
    for (int32_t b = 0; b < s->batches; b++) {
        for (int32_t o = 0; o < s->units; o++) {
            float total = 0.0f;
            for (int32_t d = 0; d < s->depth; d++) {
                total += x[b * s->depth + d] * w[o * s->depth + d];
            }
            if (bias) {
                total += bias[o];
            }
            y[b * s->units + o] = total < lo ? lo : (total > hi ? hi : total);
        }
    }
    return TM_OK;
}

#if defined(__ARM_FEATURE_DSP)
#include "arm_dsp.h"
// Cortex-M4/M7 (armv7emsp) DSP instructions: three units per pass over the input, which is read in place:
// each word of four inputs is widened once by SXTAB16 (adding -Z_in to both halves, |x - Z_in| <= 255) and
// serves the three weight rows, whose words SXTB16 widens in place too, so no scratch is needed; SMLAD adds
// two 16x16 products. Three rows are what the 14 free registers hold (3 sums, 3 row and 1 input pointers,
// a count, the offset, 3 temporaries). The int32 sums equal the C loop's (both wrap modulo 2^32).
__attribute__((noinline))
static void dot3_dsp(const int8_t *w0, const int8_t *w1, const int8_t *w2, const int8_t *x, int32_t depth,
    int32_t zi, int32_t *acc) {
    const int32_t off = tm_neg_pair(zi);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2];
    int32_t n = depth >> 2;
    uint32_t x02, x13, wv, wt;
#define FC_STEP                                                                                              \
        "ldr     %[wt], [%[x]], #4\n\t"                                                                      \
        "sxtab16 %[x02], %[off], %[wt]\n\t"                                                                  \
        "sxtab16 %[x13], %[off], %[wt], ror #8\n\t"                                                          \
        "ldr     %[wv], [%[w0]], #4\n\t"                                                                     \
        "sxtb16  %[wt], %[wv]\n\t"                                                                           \
        "sxtb16  %[wv], %[wv], ror #8\n\t"                                                                   \
        "smlad   %[a0], %[x02], %[wt], %[a0]\n\t"                                                            \
        "smlad   %[a0], %[x13], %[wv], %[a0]\n\t"                                                            \
        "ldr     %[wv], [%[w1]], #4\n\t"                                                                     \
        "sxtb16  %[wt], %[wv]\n\t"                                                                           \
        "sxtb16  %[wv], %[wv], ror #8\n\t"                                                                   \
        "smlad   %[a1], %[x02], %[wt], %[a1]\n\t"                                                            \
        "smlad   %[a1], %[x13], %[wv], %[a1]\n\t"                                                            \
        "ldr     %[wv], [%[w2]], #4\n\t"                                                                     \
        "sxtb16  %[wt], %[wv]\n\t"                                                                           \
        "sxtb16  %[wv], %[wv], ror #8\n\t"                                                                   \
        "smlad   %[a2], %[x02], %[wt], %[a2]\n\t"                                                            \
        "smlad   %[a2], %[x13], %[wv], %[a2]\n\t"
#define FC_OPERANDS                                                                                          \
        : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [x] "+r" (x), [w0] "+r" (w0), [w1] "+r" (w1),      \
          [w2] "+r" (w2), [n] "+r" (n), [x02] "=&r" (x02), [x13] "=&r" (x13),             \
          [wv] "=&r" (wv), [wt] "=&r" (wt)                                                                  \
        : [off] "r" (off)                                                                                   \
        : "cc", "memory"
    if (n & 1) {
        __asm__ (FC_STEP FC_OPERANDS);
    }
    n >>= 1;
    if (n) {
        // Eight inputs per iteration: 38 instructions per 24 MACs.
        __asm__ ("1:\n\t" FC_STEP FC_STEP "subs %[n], %[n], #1\n\t" "bne 1b" FC_OPERANDS);
    }
#undef FC_STEP
#undef FC_OPERANDS
    for (int32_t d = 0; d < (depth & 3); d++) {
        a0 += w0[d] * (x[d] - zi);
        a1 += w1[d] * (x[d] - zi);
        a2 += w2[d] * (x[d] - zi);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
}
#endif

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    shape_t s;
    get_shape(m, n, &s);
    if (s.in->type == TM_FLOAT32) {
        return eval_float(m, n, &s);
    }
    int32_t lo, hi;
    tm_activation_range_int8(tm_opt_u8(m, n, OPT_ACTIVATION, 0), s.out->scale, s.out->zero_point, &lo, &hi);
    const unit_params_t *p = tm_persistent(m, n);
    const int per_channel = s.w->n_scales > 1;
    const int8_t *w = (const int8_t *)s.w->data;
    const int32_t *bias = s.bias ? (const int32_t *)s.bias->data : 0;
    int8_t *y = (int8_t *)s.out->data;
    const int32_t zi = s.in->zero_point, zo = s.out->zero_point;
    for (int32_t b = 0; b < s.batches; b++) {
        const int8_t *x = (const int8_t *)s.in->data + b * s.depth;
        #if defined(__ARM_FEATURE_DSP)
        for (int32_t o = 0; o < s.units; o += 3) {
            // Past the last unit the last row is repeated (computed again, not stored).
            const int32_t o1 = o + 1 < s.units ? o + 1 : o, o2 = o + 2 < s.units ? o + 2 : o1;
            int32_t accs[3] = { 0, 0, 0 };
            if (bias) {
                accs[0] = bias[o];
                accs[1] = bias[o1];
                accs[2] = bias[o2];
            }
            dot3_dsp(w + o * s.depth, w + o1 * s.depth, w + o2 * s.depth, x, s.depth, zi, accs);
            for (int32_t j = 0; j < 3 && o + j < s.units; j++) {
                const unit_params_t *q = &p[per_channel ? o + j : 0];
                const tm_rq_t rq = tm_rq(q->multiplier, q->shift);
                y[o + j] = (int8_t)tm_rq_out(accs[j], &rq, zo, lo, hi, 0);
            }
        }
        #else
        for (int32_t o = 0; o < s.units; o++) {
            // sum(w * (x - zi)) = sum(w * x) - zi * sum(w): two plain reductions the compiler vectorizes.
            const int8_t *wo = w + o * s.depth;
            int32_t acc = 0, wsum = 0;
            for (int32_t d = 0; d < s.depth; d++) {
                acc += (int32_t)wo[d] * x[d];
                wsum += wo[d];
            }
            acc = (int32_t)((uint32_t)acc - (uint32_t)zi * (uint32_t)wsum);
            if (bias) {
                acc += bias[o];
            }
            const unit_params_t *q = &p[per_channel ? o : 0];
            y[o] = (int8_t)tm_clamp(tm_mbqm(acc, q->multiplier, q->shift) + zo, lo, hi);
        }
        #endif
        y += s.units;
    }
    return TM_OK;
}

int tm_kernel_fully_connected(tm_kernel_t *k) {
    k->name = "FULLY_CONNECTED";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
