// ADD and SUB: int8 (TFLM's 20-bit left shift rescaling) and float32, with numpy broadcasting.
// tinyml-op: ADD 0
// tinyml-op: SUB 41
#include "elementwise_common.h"
#include "broadcast.h"

enum { OPT_ACTIVATION = 0 };
enum { OP_SUB = 41 };

typedef struct {
    tm_binary_t t;
    int32_t m1, s1, m2, s2, mo, so;     // input rescaling to a common scale, and to the output
} add_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
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
    if (tm_is_f32(a)) {
        return TM_OK;
    }
    // Both inputs go to the scale twice = 2 * max(S1, S2) with 20 bits of headroom, then to the output scale:
    // r1 = S1 / twice, r2 = S2 / twice, ro = twice / (2^20 * S_out), all < 1 (QuantizeMultiplierSmallerThanOneExp).
    float mx = a->scale > b->scale ? a->scale : b->scale;
    if (tm_multiplier(m, a->scale, 1.0f, 2.0f, mx, &p->m1, &p->s1) ||
        tm_multiplier(m, b->scale, 1.0f, 2.0f, mx, &p->m2, &p->s2) ||
        tm_multiplier(m, 2.0f, mx, 1048576.0f, y->scale, &p->mo, &p->so)) {
        return TM_ERROR;
    }
    if (p->so > 0) {
        return tm_fail(m, "output scale too small for the input scales");
    }
    return TM_OK;
}

static inline int8_t add_i8(int32_t x1, int32_t x2, const add_params_t *p, int32_t sign) {
    int32_t a = tm_mbqm((x1 - p->t.z1) * (1 << 20), p->m1, p->s1);
    int32_t b = tm_mbqm((x2 - p->t.z2) * (1 << 20), p->m2, p->s2);
    return (int8_t)tm_clamp(tm_mbqm(a + sign * b, p->mo, p->so) + p->t.zo, p->t.lo, p->t.hi);
}

#if TM_ARM_DSP
#include "arm_dsp.h"
// Cortex-M4/M7 path for same-shape int8 inputs, about 13 instructions per element. The input with the larger
// scale has r = S / twice = 1/2 exactly, so TFLM's (M, s) = (2^30, 0) and its rescaled value is exactly
// (x - z) 2^19: no multiply. The other input and the output use tm_rq2 (one SMMLAR each), on doubled values:
// 2 A = (x - z) 2^20 for the first, and (x - z) 2^21 (doubled 2^20 headroom, |.| < 2^29) into tm_rq2 for the
// second; 2 (A +- B) fits easily in int32.
typedef struct {
    int32_t ze;                 // z << 20 of the exactly rescaled input
    int32_t zr;                 // z << 21 of the other (z << 20 when it rescales exactly too)
    tm_rq2_t in, out;           // the other input (zero point 0), the output (with Z_out)
    int32_t lo, hi;
} add_fast_t;

// 2 A for an exactly rescaled input: (x - z) 2^20.
__attribute__((always_inline))
static inline int32_t add_exact2(int32_t x, int32_t z20) {
    return (int32_t)((uint32_t)x << 20) - z20;
}

// 2 B for the other input: tm_rq2 of (x - z) 2^21.
__attribute__((always_inline))
static inline int32_t add_rescaled2(int32_t x, const add_fast_t *f) {
    return tm_rq2_apply((int32_t)((uint32_t)x << 21) - f->zr, &f->in) * 2;
}

// out = rq(2 (+-A +-B)) over `count` elements, signs and cases compile-time constants where inlined;
// `both_exact` when the input scales are equal. The constants are copied to locals first: stores through
// int8_t pointers could alias *f, which would reload them per element.
__attribute__((always_inline))
static inline void add_fast_loop(int8_t *out, const int8_t *xe, const int8_t *xr, int32_t count,
    const add_fast_t *f, int neg_e, int neg_r, int both_exact, int full) {
    const add_fast_t k = *f;
    for (int32_t i = 0; i < count; i++) {
        const int32_t a = add_exact2(xe[i], k.ze);
        const int32_t b = both_exact ? add_exact2(xr[i], k.zr) : add_rescaled2(xr[i], &k);
        const int32_t v = tm_rq2_apply((neg_e ? -a : a) + (neg_r ? -b : b), &k.out);
        out[i] = (int8_t)(full ? __ssat(v, 8) : (v < k.lo ? k.lo : (v > k.hi ? k.hi : v)));
    }
}

// Variants: 0 A+B, 1 A-B, 2 -A+B (A the exactly rescaled input), 3 and 4 as 0 and 1 with equal scales.
#define ADD_FAST_VARIANTS(FULL)                                                      \
    switch (variant) {                                                               \
    case 0: add_fast_loop(out, xe, xr, count, f, 0, 0, 0, FULL); break;              \
    case 1: add_fast_loop(out, xe, xr, count, f, 0, 1, 0, FULL); break;              \
    case 2: add_fast_loop(out, xe, xr, count, f, 1, 0, 0, FULL); break;              \
    case 3: add_fast_loop(out, xe, xr, count, f, 0, 0, 1, FULL); break;              \
    default: add_fast_loop(out, xe, xr, count, f, 0, 1, 1, FULL); break;             \
    }

__attribute__((noinline))
static void add_fast_full(int8_t *out, const int8_t *xe, const int8_t *xr, int32_t count, const add_fast_t *f,
    int variant) {
    ADD_FAST_VARIANTS(1)
}

__attribute__((noinline))
static void add_fast_clamped(int8_t *out, const int8_t *xe, const int8_t *xr, int32_t count,
    const add_fast_t *f, int variant) {
    ADD_FAST_VARIANTS(0)
}
#undef ADD_FAST_VARIANTS

// The fast path, if it applies: same shapes, one input rescaling exactly, shifts within tm_rq2's range.
// Returns 0 (nothing done) otherwise.
static int add_fast(const tm_tensor_t *a, const tm_tensor_t *b, int8_t *out, const add_params_t *p, int sub) {
    const tm_bcast_t *bc = &p->t.bc;
    if (bc->ndim != 1 || !bc->st1[0] || !bc->st2[0] || !tm_rq2_ok(p->mo, p->so)) {
        return 0;
    }
    const int exact1 = p->m1 == (1 << 30) && p->s1 == 0, exact2 = p->m2 == (1 << 30) && p->s2 == 0;
    const int swap = !exact1;       // the exactly rescaled input goes first
    const int32_t mr = swap ? p->m1 : p->m2, sr = swap ? p->s1 : p->s2;
    const int32_t ze = swap ? p->t.z2 : p->t.z1, zr = swap ? p->t.z1 : p->t.z2;
    const int both = exact1 && exact2;
    if (!(exact1 || exact2) || (!both && !tm_rq2_ok(mr, sr))) {
        return 0;
    }
    add_fast_t f;
    f.ze = (int32_t)((uint32_t)ze << 20);
    f.zr = (int32_t)((uint32_t)zr << (both ? 20 : 21));
    f.in = tm_rq2(both ? 1 : mr, both ? -1 : sr, 0);
    f.out = tm_rq2(p->mo, p->so, p->t.zo);
    f.lo = p->t.lo;
    f.hi = p->t.hi;
    const int variant = both ? 3 + sub : (sub ? (swap ? 2 : 1) : 0);
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    if (f.lo == -128 && f.hi == 127) {
        add_fast_full(out, swap ? x2 : x1, swap ? x1 : x2, bc->dims[0], &f, variant);
    } else {
        add_fast_clamped(out, swap ? x2 : x1, swap ? x1 : x2, bc->dims[0], &f, variant);
    }
    return 1;
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
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    int8_t *out = (int8_t *)y->data;
#if TM_ARM_DSP
    if (add_fast(a, b, out, p, sub)) {
        return TM_OK;
    }
#endif
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
