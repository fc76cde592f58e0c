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

// Persistent data: whether every int32 sum stays below 2^30 in magnitude (|bias| + depth * 255 * 128; the
// Cortex-M4 path then requantizes doubled sums), then the unit parameters.
typedef struct {
    int32_t sums_small;
    unit_params_t unit[];
} fc_params_t;

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
    if (tm_is_f32(s.in)) {
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
    req->persistent_bytes = sizeof(fc_params_t) + (uint32_t)(s.w->n_scales > 1 ? s.units : 1) * sizeof(unit_params_t);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    shape_t s;
    get_shape(m, n, &s);
    if (tm_is_f32(s.in)) {
        return TM_OK;
    }
    fc_params_t *fp = tm_persistent(m, n);
    unit_params_t *p = fp->unit;
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
    // |x - Z_in| <= 255 and |w| <= 128 (int64 bound: depth may be large)
    int64_t bound = (int64_t)s.depth * 255 * 128;
    int64_t max_bias = 0;
    for (int32_t o = 0; s.bias && o < s.units; o++) {
        int64_t b = ((const int32_t *)s.bias->data)[o];
        max_bias = b < 0 ? (-b > max_bias ? -b : max_bias) : (b > max_bias ? b : max_bias);
    }
    fp->sums_small = bound + max_bias < ((int64_t)1 << 30);
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

#if TM_ARM_DSP
#include "arm_dsp.h"
// Cortex-M4/M7 (armv7emsp) DSP instructions: four units per pass over the input, which is read in place:
// each word of four inputs is widened once by SXTAB16 (adding -Z_in to both halves, |x - Z_in| <= 255) and
// serves the four weight rows, whose words SXTB16 widens in place too, so no scratch is needed; SMLAD adds
// two 16x16 products: 23 instructions per 16 MACs. The rows are w0, w0 + st, w2, w2 + st, so two pointers
// and a stride (LDR with a register offset, then post-increment) address them: 4 sums, 3 pointers and the
// stride, the offset pair and 4 temporaries take 13 of the 14 registers. The int32 sums equal the C loop's
// (both wrap modulo 2^32).
#define FC_ROW(a, wld)                                                                                       \
        "ldr     %[wv], " wld "\n\t"                                                                         \
        "sxtb16  %[wt], %[wv]\n\t"                                                                           \
        "sxtb16  %[wv], %[wv], ror #8\n\t"                                                                   \
        "smlad   %[" a "], %[x02], %[wt], %[" a "]\n\t"                                                      \
        "smlad   %[" a "], %[x13], %[wv], %[" a "]\n\t"
#define FC_STEP                                                                                              \
        "ldr     %[wt], [%[x]], #4\n\t"                                                                      \
        "sxtab16 %[x02], %[off], %[wt]\n\t"                                                                  \
        "sxtab16 %[x13], %[off], %[wt], ror #8\n\t"                                                          \
        FC_ROW("a1", "[%[w0], %[st]]")                                                                       \
        FC_ROW("a0", "[%[w0]], #4")                                                                          \
        FC_ROW("a3", "[%[w2], %[st]]")                                                                       \
        FC_ROW("a2", "[%[w2]], #4")
#define FC_OUTPUTS                                                                                           \
        : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), [w0] "+r" (w0),      \
          [w2] "+r" (w2), [x02] "=&r" (x02), [x13] "=&r" (x13), [wv] "=&r" (wv), [wt] "=&r" (wt)
#define FC_INPUTS : [off] "r" (off), [st] "r" (st)
#define FC_CLOBBERS : "cc", "memory"

// acc[j] += sum over depth of row j times (x - zi), rows w0, w0 + st, w2, w2 + st. `any_depth` (a
// constant where inlined) is 0 when depth is known to be a multiple of 16: no remainder steps.
__attribute__((always_inline))
static inline void fc_dot4(const int8_t *w0, const int8_t *w2, int32_t st, const int8_t *x, int32_t depth,
    int32_t zi, int32_t acc[4], int any_depth) {
    const int32_t off = tm_neg_pair(zi);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int32_t n = depth >> 2;
    uint32_t x02, x13, wv, wt;
    if (any_depth && (n & 1)) {
        __asm__ (FC_STEP FC_OUTPUTS FC_INPUTS FC_CLOBBERS);
    }
    if (any_depth && (n & 2)) {
        __asm__ (FC_STEP FC_STEP FC_OUTPUTS FC_INPUTS FC_CLOBBERS);
    }
    if (!any_depth || (n >> 2)) {
        // Sixteen inputs per iteration, until x reaches its end (kept in memory: no register is left).
        const int8_t *end = x + 16 * (n >> 2);
        __asm__ ("1:\n\t" FC_STEP FC_STEP FC_STEP FC_STEP
                 "ldr     %[wt], %[end]\n\t"
                 "cmp     %[x], %[wt]\n\t"
                 "bne     1b"
                 FC_OUTPUTS FC_INPUTS, [end] "m" (end) FC_CLOBBERS);
    }
    for (int32_t d = 0; any_depth && d < (depth & 3); d++) {
        const int32_t v = x[d] - zi;
        a0 += w0[d] * v;
        a1 += w0[st + d] * v;
        a2 += w2[d] * v;
        a3 += w2[st + d] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
// The same for two rows w0, w0 + st (the last one or two units: 13 instructions per 8 MACs).
#define FC_STEP2                                                                                             \
        "ldr     %[wt], [%[x]], #4\n\t"                                                                      \
        "sxtab16 %[x02], %[off], %[wt]\n\t"                                                                  \
        "sxtab16 %[x13], %[off], %[wt], ror #8\n\t"                                                          \
        FC_ROW("a1", "[%[w0], %[st]]")                                                                       \
        FC_ROW("a0", "[%[w0]], #4")
__attribute__((always_inline))
static inline void fc_dot2(const int8_t *w0, int32_t st, const int8_t *x, int32_t depth, int32_t zi,
    int32_t acc[2]) {
    const int32_t off = tm_neg_pair(zi);
    int32_t a0 = acc[0], a1 = acc[1];
    int32_t n = depth >> 2;
    uint32_t x02, x13, wv, wt;
    if (n & 1) {
        __asm__ (FC_STEP2
                 : [a0] "+r" (a0), [a1] "+r" (a1), [x] "+r" (x), [w0] "+r" (w0), [x02] "=&r" (x02),
                   [x13] "=&r" (x13), [wv] "=&r" (wv), [wt] "=&r" (wt)
                 FC_INPUTS FC_CLOBBERS);
    }
    n >>= 1;
    if (n) {
        __asm__ ("1:\n\t" FC_STEP2 FC_STEP2 "subs %[n], %[n], #1\n\t" "bne 1b"
                 : [a0] "+r" (a0), [a1] "+r" (a1), [x] "+r" (x), [w0] "+r" (w0), [n] "+r" (n),
                   [x02] "=&r" (x02), [x13] "=&r" (x13), [wv] "=&r" (wv), [wt] "=&r" (wt)
                 FC_INPUTS FC_CLOBBERS);
    }
    for (int32_t d = 0; d < (depth & 3); d++) {
        const int32_t v = x[d] - zi;
        a0 += w0[d] * v;
        a1 += w0[st + d] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
}
#undef FC_STEP2
#undef FC_ROW
#undef FC_STEP
#undef FC_OUTPUTS
#undef FC_INPUTS
#undef FC_CLOBBERS

// Sums of units o..o+left-1 (left = 1..4) in acc[0..left-1]: rows o..o+3, or o, o+1, o+1, o+2 for three
// (one pointer and a stride still address them, never past the last row), or two rows. A function of its
// own: the DSP block takes 13 of the 14 registers, and GCC finds no allocation for it inside a larger
// loop body.
__attribute__((noinline))
static void fc_group_sums(const int8_t *w, const int32_t *bias, const int8_t *x, int32_t o, int32_t left,
    int32_t depth, int32_t zi, int32_t acc[4]) {
    if (left <= 2) {
        // two rows (o twice when left == 1)
        const int32_t r1 = left == 2 ? o + 1 : o;
        int32_t a[2] = { bias ? bias[o] : 0, bias ? bias[r1] : 0 };
        fc_dot2(w + o * depth, (r1 - o) * depth, x, depth, zi, a);
        acc[0] = a[0];
        acc[1] = a[1];
        return;
    }
    const int32_t r1 = o + 1, r2 = left == 4 ? o + 2 : o + 1, r3 = left == 4 ? o + 3 : o + 2;
    int32_t a[4] = { 0, 0, 0, 0 };
    if (bias) {
        a[0] = bias[o];
        a[1] = bias[r1];
        a[2] = bias[r2];
        a[3] = bias[r3];
    }
    fc_dot4(w + o * depth, w + r2 * depth, depth, x, depth, zi, a, 1);
    acc[0] = a[0];
    acc[1] = a[1];
    acc[2] = left == 4 ? a[2] : a[3];      // row o+2 is the last one when left == 3
    acc[3] = a[3];
}

// Sums of units o..o+3, from their biases.
__attribute__((always_inline))
static inline void fc_sums4(const int8_t *w, const int32_t *bias, const int8_t *x, int32_t o, int32_t depth,
    int32_t zi, int32_t acc[4], int any_depth) {
    acc[0] = acc[1] = acc[2] = acc[3] = 0;
    if (bias) {
        acc[0] = bias[o];
        acc[1] = bias[o + 1];
        acc[2] = bias[o + 2];
        acc[3] = bias[o + 3];
    }
    const int8_t *w0 = w + o * depth;
    fc_dot4(w0, w0 + 2 * depth, depth, x, depth, zi, acc, any_depth);
}

// Per-tensor weights, sums below 2^30, shift in tm_rq2's range and no clamp beyond int8 (ad01 and every
// reference model): 6 instructions per unit after its sum (tm_rq2 on the doubled sum, SSAT).
__attribute__((always_inline))
static inline void fc_rows_fast(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, const tm_rq2_t *rq, int any_depth) {
    int32_t o = 0;
    for (; o + 4 <= units; o += 4) {
        int32_t acc[4];
        fc_sums4(w, bias, x, o, depth, zi, acc, any_depth);
        y[o] = (int8_t)__ssat(tm_rq2_apply_sum(acc[0], rq), 8);
        y[o + 1] = (int8_t)__ssat(tm_rq2_apply_sum(acc[1], rq), 8);
        y[o + 2] = (int8_t)__ssat(tm_rq2_apply_sum(acc[2], rq), 8);
        y[o + 3] = (int8_t)__ssat(tm_rq2_apply_sum(acc[3], rq), 8);
    }
    if (o < units) {
        int32_t acc[4];
        fc_group_sums(w, bias, x, o, units - o, depth, zi, acc);
        for (int32_t j = 0; j < units - o; j++) {
            y[o + j] = (int8_t)__ssat(tm_rq2_apply_sum(acc[j], rq), 8);
        }
    }
}

__attribute__((noinline))
static void fc_rows_fast_any(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, tm_rq2_t rq) {
    fc_rows_fast(w, bias, x, y, units, depth, zi, &rq, 1);
}

__attribute__((noinline))
static void fc_rows_fast_16(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, tm_rq2_t rq) {
    fc_rows_fast(w, bias, x, y, units, depth, zi, &rq, 0);
}

// Any weights and activation: per unit tm_rq (two SMLAL) and a clamp to [lo, hi].
__attribute__((noinline))
static void fc_rows_general(const int8_t *w, const int32_t *bias, const int8_t *x, int8_t *y, int32_t units,
    int32_t depth, int32_t zi, int32_t zo, int32_t lo, int32_t hi, const unit_params_t *p, int per_channel) {
    for (int32_t o = 0; o < units; o += 4) {
        int32_t acc[4];
        const int32_t left = units - o < 4 ? units - o : 4;
        fc_group_sums(w, bias, x, o, left, depth, zi, acc);
        for (int32_t j = 0; j < left; j++) {
            const unit_params_t *q = &p[per_channel ? o + j : 0];
            const tm_rq_t rq = tm_rq(q->multiplier, q->shift);
            y[o + j] = (int8_t)tm_rq_out(acc[j], &rq, zo, lo, hi, 0);
        }
    }
}
#endif

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    shape_t s;
    get_shape(m, n, &s);
    if (tm_is_f32(s.in)) {
        return eval_float(m, n, &s);
    }
    int32_t lo, hi;
    tm_activation_range_int8(tm_opt_u8(m, n, OPT_ACTIVATION, 0), s.out->scale, s.out->zero_point, &lo, &hi);
    const fc_params_t *fp = tm_persistent(m, n);
    const unit_params_t *p = fp->unit;
    const int per_channel = s.w->n_scales > 1;
    const int8_t *w = (const int8_t *)s.w->data;
    const int32_t *bias = s.bias ? (const int32_t *)s.bias->data : 0;
    int8_t *y = (int8_t *)s.out->data;
    const int32_t zi = s.in->zero_point, zo = s.out->zero_point;
#if TM_ARM_DSP
    const int fast = !per_channel && fp->sums_small && tm_rq2_ok(p->multiplier, p->shift) && lo == -128 && hi == 127;
    const tm_rq2_t rq = tm_rq2(fast ? p->multiplier : 1, fast ? p->shift : -1, zo);
#endif
    for (int32_t b = 0; b < s.batches; b++) {
        const int8_t *x = (const int8_t *)s.in->data + b * s.depth;
        #if TM_ARM_DSP
        if (fast && (s.depth & 15) == 0) {
            fc_rows_fast_16(w, bias, x, y, s.units, s.depth, zi, rq);
        } else if (fast) {
            fc_rows_fast_any(w, bias, x, y, s.units, s.depth, zi, rq);
        } else {
            fc_rows_general(w, bias, x, y, s.units, s.depth, zi, zo, lo, hi, p, per_channel);
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
