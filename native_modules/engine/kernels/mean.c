// tinyml-types: int8 int16 float32
// MEAN: int8, int16 (16x8) and float32 over any set of axes (Keras GlobalAveragePooling is MEAN over axes 1
// and 2).
// tinyml-op: MEAN 40
//
// int8 and int16 follow TFLM's QuantizedMeanOrSum (one path for both): sum the raw values in int32, then one
// requantization in which the division by the element count is folded into the multiplier (so results can
// differ from a rounded average by one, exactly as in TFLM), clamped to the type's range.
#include "reduce_common.h"
#include "../tm_quant.h"

enum { OPT_KEEP_DIMS = 0 };

typedef struct {
    int32_t multiplier, shift;  // S_in / S_out with 1/count folded in
} params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_reduce_t r = { 0 };
    if (tm_reduce_parse(m, n, &r) != TM_OK) {
        return TM_ERROR;
    }
    if (r.in->type != r.out->type || (r.in->type != TM_INT8 && r.in->type != TM_INT16 && r.in->type != TM_FLOAT32)) {
        return tm_fail(m, "input and output must both be int8, int16 or float32");
    }
    if (r.in->type == TM_INT8) {
        if (r.in->zero_point < -128 || r.in->zero_point > 127 || r.out->zero_point < -128 ||
            r.out->zero_point > 127) {
            return tm_fail(m, "int8 zero points must be in -128..127");
        }
    }
    if (r.in->type == TM_INT16) {
        // Sums of more than 65536 int16 values can leave int32: they wrap (-fwrapv) as TFLM's int32 sums do.
        if (r.in->zero_point < -32768 || r.in->zero_point > 32767 || r.out->zero_point < -32768 ||
            r.out->zero_point > 32767) {
            return tm_fail(m, "int16 zero points must be in -32768..32767");
        }
    }
    if (r.in->type != TM_FLOAT32) {
        if (r.out->scale == 0.0f) {
            return tm_fail(m, "output scale is 0");
        }
        req->persistent_bytes = sizeof(params_t);
    }
    req->scratch_bytes = (uint32_t)r.outputs * 4u;   // one int32 or float sum per output
    return TM_OK;
}

// floor(a / b) for a < 2^63, without a 64-bit divide (no libgcc in native modules).
static uint64_t udiv64(uint64_t a, uint32_t b) {
    uint64_t q = 0, rem = 0;
    for (int i = 63; i >= 0; i--) {
        rem = (rem << 1) | ((a >> i) & 1u);
        if (rem >= b) {
            rem -= b;
            q |= (uint64_t)1 << i;
        }
    }
    return q;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    tm_reduce_t r = { 0 };
    tm_reduce_parse(m, n, &r);
    if (tm_is_f32(r.in)) {
        return TM_OK;
    }
    params_t *p = tm_persistent(m, n);
    int32_t mult;
    int shift;
    tm_quantize_ratio(r.in->scale, 1.0f, r.out->scale, 1.0f, &mult, &shift);
    if (shift > 31) {
        return tm_fail(m, "input/output scale ratio too large");
    }
    // TFLM: k = min(floor(log2 count), 32, 31 + shift); multiplier = (multiplier << k) / count; shift -= k.
    int k = 0;
    while (k < 31 && ((uint32_t)r.count >> (k + 1)) != 0) {
        k++;
    }
    if (k > 31 + shift) {
        k = 31 + shift;
    }
    p->multiplier = (int32_t)udiv64((uint64_t)mult << k, (uint32_t)r.count);
    p->shift = shift - k;
    return TM_OK;
}

// Adds the run at `base` of `inner` integer values of type T to the int32 sums: all into isum[o] when the run's
// dimension is reduced, else each into its own output's sum. One body for int8 and int16 inputs (a macro, not a
// function: GCC then compiles eval as before, where a function's inlined copies cost 4 to 28 bytes).
#define ADD_RUN(T) \
    do { \
        T *x = (T *)r.in->data + base; \
        if (inner_reduced) { \
            int32_t acc = 0; \
            for (int32_t j = 0; j < inner; j++) { \
                acc += x[j]; \
            } \
            isum[o] += acc; \
        } else { \
            for (int32_t j = 0; j < inner; j++) { \
                isum[o + j] += x[j]; \
            } \
        } \
    } while (0)

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_reduce_t r = { 0 };
    tm_reduce_parse(m, n, &r);
    // tm_is_f32 and tm_is_i16 are constant 0 in builds without float32 or int16 paths: those branches drop out.
    const int is_f32 = tm_is_f32(r.in), is_int16 = tm_is_i16(r.in);
    int32_t *isum = tm_scratch(m, n);
    float *fsum = tm_scratch(m, n);
    for (int32_t i = 0; i < r.outputs; i++) {
        if (!is_f32) {
            isum[i] = 0;
        } else {
            fsum[i] = 0.0f;
        }
    }
    // Each innermost run adds its values to the sums of the outputs they reduce into.
    const int32_t rank = r.rank;
    int32_t stride[TM_MAX_DIMS], idx[TM_MAX_DIMS];
    tm_reduce_walk_start(&r, stride, idx);
    const int32_t inner = rank ? r.in->dims[rank - 1] : 1;
    const int inner_reduced = rank ? r.reduced[rank - 1] : 1;
    const int32_t runs = tm_elements(r.in) / inner;
    int32_t o = 0;
    for (int32_t run = 0; run < runs; run++) {
        const int32_t base = run * inner;
        if (!is_f32 && is_int16) {
            ADD_RUN(const int16_t);
        } else if (!is_f32) {
            ADD_RUN(const int8_t);
        } else {
            const float *x = (const float *)r.in->data + base;
            if (inner_reduced) {
                for (int32_t j = 0; j < inner; j++) {
                    fsum[o] += x[j];
                }
            } else {
                for (int32_t j = 0; j < inner; j++) {
                    fsum[o + j] += x[j];
                }
            }
        }
        TM_REDUCE_NEXT_RUN(o, r, rank, stride, idx)
    }
    if (!is_f32) {
        const params_t *p = tm_persistent(m, n);
        const int32_t offset = r.in->zero_point * r.count, zo = r.out->zero_point;
        if (is_int16) {
            int16_t *y = (int16_t *)r.out->data;
            for (int32_t i = 0; i < r.outputs; i++) {
                y[i] = (int16_t)tm_clamp(tm_mbqm(isum[i] - offset, p->multiplier, p->shift) + zo, -32768, 32767);
            }
        } else {
            int8_t *y = (int8_t *)r.out->data;
            for (int32_t i = 0; i < r.outputs; i++) {
                y[i] = (int8_t)tm_clamp(tm_mbqm(isum[i] - offset, p->multiplier, p->shift) + zo, -128, 127);
            }
        }
    } else {
        const float count = (float)r.count;
        float *y = (float *)r.out->data;
        for (int32_t i = 0; i < r.outputs; i++) {
            y[i] = fsum[i] / count;
        }
    }
    return TM_OK;
}

int tm_kernel_mean(tm_kernel_t *k) {
    k->name = "MEAN";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
