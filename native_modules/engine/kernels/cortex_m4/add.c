// ADD and SUB on Cortex-M4/M7 (armv7emsp): the DSP-extension fast path of the int8 kernel.
//
// The build compiles this file instead of kernels/add.c for armv7emsp (not for `tinyml pack --small`). It
// includes that portable kernel and supplies its hooks arch_prepare and arch_eval_int8 (at the end of this
// file). Same integers as the portable path, so no tolerance (docs/architecture.md).
#if !defined(__ARM_FEATURE_DSP) || defined(TM_SMALL)
#error "kernels/cortex_m4/ needs the Cortex-M4 DSP extension (armv7emsp) and is left out of small builds"
#endif
#define TM_ARCH_KERNEL 1
#include "arm_dsp.h"

// The fast path: for same-shape int8 inputs, about 13 instructions per element. The input with the larger
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

#define TM_ARCH_PARAMS                                                                                      \
    int32_t fast_variant;   /* add_fast_loop's variant (see ADD_FAST_VARIANTS), -1 if the layer is not fast */ \
    int32_t fast_swap;      /* the second input is the exactly rescaled one */                           \
    add_fast_t fast;
#include "../add.c"

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

// ---- The hooks of kernels/add.c ----

// The fast path applies to same-shape inputs, one of them rescaling exactly, shifts within tm_rq2's range.
static void arch_prepare(add_params_t *p, int sub) {
    p->fast_variant = -1;
    const tm_bcast_t *bc = &p->t.bc;
    if (bc->ndim != 1 || !bc->st1[0] || !bc->st2[0] || !tm_rq2_ok(p->mo, p->so)) {
        return;
    }
    const int exact1 = p->m1 == (1 << 30) && p->s1 == 0, exact2 = p->m2 == (1 << 30) && p->s2 == 0;
    const int swap = !exact1;       // the exactly rescaled input goes first
    const int32_t mr = swap ? p->m1 : p->m2, sr = swap ? p->s1 : p->s2;
    const int32_t ze = swap ? p->t.z2 : p->t.z1, zr = swap ? p->t.z1 : p->t.z2;
    const int both = exact1 && exact2;
    if (!(exact1 || exact2) || (!both && !tm_rq2_ok(mr, sr))) {
        return;
    }
    add_fast_t *f = &p->fast;
    f->ze = (int32_t)((uint32_t)ze << 20);
    f->zr = (int32_t)((uint32_t)zr << (both ? 20 : 21));
    f->in = tm_rq2(both ? 1 : mr, both ? -1 : sr, 0);
    f->out = tm_rq2(p->mo, p->so, p->t.zo);
    f->lo = p->t.lo;
    f->hi = p->t.hi;
    p->fast_swap = swap;
    p->fast_variant = both ? 3 + sub : (sub ? (swap ? 2 : 1) : 0);
}

static int arch_eval_int8(const tm_tensor_t *a, const tm_tensor_t *b, int8_t *out, const add_params_t *p) {
    const int variant = p->fast_variant;
    if (variant < 0) {
        return 0;
    }
    const add_fast_t *f = &p->fast;
    const int8_t *x1 = (const int8_t *)a->data, *x2 = (const int8_t *)b->data;
    const int swap = p->fast_swap;
    if (f->lo == -128 && f->hi == 127) {
        add_fast_full(out, swap ? x2 : x1, swap ? x1 : x2, p->t.bc.dims[0], f, variant);
    } else {
        add_fast_clamped(out, swap ? x2 : x1, swap ? x1 : x2, p->t.bc.dims[0], f, variant);
    }
    return 1;
}
