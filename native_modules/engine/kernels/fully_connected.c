// FULLY_CONNECTED: int8 (per-channel or per-tensor weights), int16 (16x8) and float32.
// tinyml-op: FULLY_CONNECTED 9
// tinyml-types: int8 int16 float32
//
// int16 (16x8: int16 activations, int8 weights per-channel or per-tensor, int64 or int32 bias): TFLM's
// FullyConnected[PerChannel] sums and requantization (conv16x8.h). Arch builds run it too: the dispatch on
// the input type is here, before any arch hook.
//
// This file is the portable kernel: parsing, checks, prepare, the float32 path and the reference int8 path.
// An arch's fast int8 path lives in kernels/<arch>/fully_connected.c (cortex_m4/: SMLAD and assembly), which
// the build compiles instead of this file: it defines TM_ARCH_KERNEL, includes this file and supplies the
// hooks declared below (docs/architecture.md, "One folder per optimised arch").
#include "../tm_internal.h"
#include "../tm_quant.h"
#include "conv16x8.h"

enum { OPT_ACTIVATION = 0, OPT_WEIGHTS_FORMAT = 1, OPT_QUANTIZED_BIAS_TYPE = 4 };

// Requantization per unit (per-channel weights) or one for all units (per-tensor): as small as TFLM's.
typedef struct {
    int32_t multiplier;
    int32_t shift;
} unit_params_t;

// Persistent data of an int8 layer, set by prepare: the fused activation range, what an arch's fast path
// prepares (kernels/<arch>/fully_connected.c), then the unit parameters.
typedef struct {
    int32_t act_lo, act_hi;
#ifdef TM_ARCH_PARAMS
    TM_ARCH_PARAMS
#endif
    unit_params_t unit[];
} fc_params_t;

// Persistent data of a 16x8 layer, set by prepare.
typedef struct {
    int32_t act_lo, act_hi;         // int16 fused activation range
    int32_t acc32;                  // TFLM accumulates in int32 (int32 bias), else in int64
    unit_params_t unit[];           // per unit (per-channel weights) or one
} fc_16x8_t;

// Persistent data of a float32 layer: its fused activation range.
typedef struct {
    float lo, hi;
} fc_float_t;

typedef struct {
    tm_tensor_t *in, *w, *bias, *out;
    int32_t units, depth, batches;
} shape_t;

// The layer's tensors and sizes, as init checked them (no checks: eval calls this too).
static void get_shape(tm_model_t *m, tm_node_t *n, shape_t *s) {
    s->in = tm_in(m, n, 0);
    s->w = tm_in(m, n, 1);
    s->bias = tm_in(m, n, 2);
    s->out = tm_out(m, n, 0);
    s->units = s->w->dims[0];
    s->depth = s->w->dims[1];
    s->batches = tm_elements(s->in) / s->depth;
}

static tm_status_t check_shape(tm_model_t *m, tm_node_t *n, shape_t *s) {
    if (tm_expect_io(m, n, 2, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *w = tm_in(m, n, 1);
    if (w->ndim != 2) {
        return tm_fail(m, "weights must be 2-D [units, depth], got %d-D", w->ndim);
    }
    if (w->dims[0] <= 0 || w->dims[1] <= 0) {
        return tm_fail(m, "empty weights");
    }
    get_shape(m, n, s);
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

#if TM_ARCH_KERNEL
// The hooks of an arch's fast int8 path (kernels/<arch>/fully_connected.c).
static void arch_prepare(const shape_t *s, fc_params_t *fp);      // after fp holds the portable data
static void arch_eval_int8(const shape_t *s, const fc_params_t *fp);
#endif

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    shape_t s;
    if (check_shape(m, n, &s) != TM_OK) {
        return TM_ERROR;
    }
    if (tm_is_f32(s.in)) {
        if (tm_expect_type(m, s.w, TM_FLOAT32, "weights") || tm_expect_type(m, s.out, TM_FLOAT32, "output") ||
            (s.bias && tm_expect_type(m, s.bias, TM_FLOAT32, "bias"))) {
            return TM_ERROR;
        }
        req->persistent_bytes = sizeof(fc_float_t);
        return TM_OK;
    }
    if (tm_is_i16(s.in)) {
        if (tm_check_16x8(m, s.in, s.w, s.bias, s.out, s.units, 1) != TM_OK) {
            return TM_ERROR;
        }
        req->persistent_bytes = sizeof(fc_16x8_t) + (uint32_t)(s.w->n_scales > 1 ? s.units : 1) * sizeof(unit_params_t);
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

// TFLM's multipliers S_in * S_w / S_out: one per unit (per-channel weights) or one for all.
static tm_status_t prepare_units(tm_model_t *m, const shape_t *s, unit_params_t *p) {
    int32_t count = s->w->n_scales > 1 ? s->units : 1;
    for (int32_t o = 0; o < count; o++) {
        float w_scale = s->w->n_scales > 1 ? tm_load_f32(s->w->scales + 4 * o) : s->w->scale;
        int shift;
        if (!tm_quantize_ratio(s->in->scale, w_scale, s->out->scale, 1.0f, &p[o].multiplier, &shift)) {
            return tm_fail(m, "quantization scales out of range (zero, infinite, or a multiplier beyond 2^30)");
        }
        p[o].shift = shift;
    }
    if (s->bias && ((uintptr_t)s->bias->data & 3)) {
        return tm_fail(m, "bias data is misaligned in the model buffer");
    }
    return TM_OK;
}

static tm_status_t prepare_16x8(tm_model_t *m, tm_node_t *n, const shape_t *s, int32_t act) {
    fc_16x8_t *fp = tm_persistent(m, n);
    tm_activation_range_int16(act, s->out->scale, s->out->zero_point, &fp->act_lo, &fp->act_hi);
    fp->acc32 = tm_16x8_acc32(m, n, s->bias, OPT_QUANTIZED_BIAS_TYPE);
    if (prepare_units(m, s, fp->unit) != TM_OK) {
        return TM_ERROR;
    }
    for (int32_t o = 0; o < (s->w->n_scales > 1 ? s->units : 1); o++) {
        if (tm_16x8_check_shift(m, fp->acc32, fp->unit[o].shift, o) != TM_OK) {
            return TM_ERROR;
        }
    }
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    shape_t s;
    get_shape(m, n, &s);
    const int32_t act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    if (tm_is_f32(s.in)) {
        fc_float_t *f = tm_persistent(m, n);
        tm_activation_range_f32(act, &f->lo, &f->hi);
        return TM_OK;
    }
    if (tm_is_i16(s.in)) {
        return prepare_16x8(m, n, &s, act);
    }
    fc_params_t *fp = tm_persistent(m, n);
    tm_activation_range_int8(act, s.out->scale, s.out->zero_point, &fp->act_lo, &fp->act_hi);
    if (prepare_units(m, &s, fp->unit) != TM_OK) {
        return TM_ERROR;
    }
#if TM_ARCH_KERNEL
    arch_prepare(&s, fp);
#endif
    return TM_OK;
}

static tm_status_t eval_float(const shape_t *s, const fc_float_t *f) {
    const float lo = f->lo, hi = f->hi;
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

// 16x8: each unit's exact sum of w * x (no offsets: the checks keep zero points at 0), then TFLM's
// requantization for the layer's accumulator.
static void eval_16x8(const shape_t *s, const fc_16x8_t *fp) {
    const int per_channel = s->w->n_scales > 1;
    const int8_t *w = (const int8_t *)s->w->data;
    const int16_t *x = (const int16_t *)s->in->data;
    int16_t *y = (int16_t *)s->out->data;
    const int32_t batches = s->batches, units = s->units, depth = s->depth;
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t o = 0; o < units; o++) {
            const unit_params_t *q = &fp->unit[per_channel ? o : 0];
            const int64_t sum = tm_16x8_dot(w + o * depth, x, depth);
            y[o] = tm_16x8_output(sum, s->bias, fp->acc32, o, q->multiplier, q->shift, fp->act_lo, fp->act_hi);
        }
        x += depth;
        y += units;
    }
}

#if !TM_ARCH_KERNEL
// The reference int8 path (an arch's fast path replaces it).
__attribute__((noinline))   // inlined into eval, GCC -O3 gives armv6m a loop 12% slower (ad01)
static void eval_int8(const shape_t *s, const fc_params_t *fp) {
    const unit_params_t *p = fp->unit;
    const int per_channel = s->w->n_scales > 1;
    const int8_t *w = (const int8_t *)s->w->data;
    const int32_t *bias = s->bias ? (const int32_t *)s->bias->data : 0;
    int8_t *y = (int8_t *)s->out->data;
    const int32_t zi = s->in->zero_point, zo = s->out->zero_point, lo = fp->act_lo, hi = fp->act_hi;
    // Sizes in locals: the int8 stores through y may alias *s, which would reload them in the loops.
    const int32_t batches = s->batches, units = s->units, depth = s->depth;
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *x = (const int8_t *)s->in->data + b * depth;
        for (int32_t o = 0; o < units; o++) {
            // sum(w * (x - zi)) = sum(w * x) - zi * sum(w): two plain reductions the compiler vectorizes.
            const int8_t *wo = w + o * depth;
            int32_t acc = 0, wsum = 0;
            for (int32_t d = 0; d < depth; d++) {
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
        y += units;
    }
}
#endif

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    shape_t s;
    get_shape(m, n, &s);
    if (tm_is_f32(s.in)) {
        return eval_float(&s, tm_persistent(m, n));
    }
    if (tm_is_i16(s.in)) {
        eval_16x8(&s, tm_persistent(m, n));
        return TM_OK;
    }
#if TM_ARCH_KERNEL
    arch_eval_int8(&s, tm_persistent(m, n));
#else
    eval_int8(&s, tm_persistent(m, n));
#endif
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
