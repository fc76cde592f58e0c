// The frontend's 512-point real FFT, bit-exact with kissfft's fixed-point kiss_fftr (tm_audio_fft.h).
//
// kiss_fftr packs the 512 real samples as 256 complex ones, runs kissfft's 256-point complex FFT, then splits
// the result into the 257 bins of the real FFT. For 256 points kissfft's plan is four radix-4 stages: its
// recursion (kf_work) first copies the input in base-4 digit-reversed order, then runs kf_bfly4 on groups of
// 4m values with m = 1, 4, 16, 64 (twiddle stride 64 / m). The groups of one stage are independent, so doing
// them stage by stage, and each stage's butterfly index k in the outer loop (its three twiddles loaded once),
// computes the same values as the recursion. What must match kissfft exactly is its fixed-point arithmetic:
//   - every value is an int16: each sum, difference and product is truncated to 16 bits when kissfft stores
//     it (its scratch variables are int16 too), the same as wrapping 16-bit lanes (SADD16, SSUB16);
//   - C_FIXDIV(x, 4) is (x * 8191 + 16384) >> 15 (SAMP_MAX / 4 = 8191, not a shift by 2), C_FIXDIV(x, 2)
//     is (x * 16383 + 16384) >> 15, before every butterfly's inputs are used;
//   - C_MUL rounds each of its two sums of products: (ar*br - ai*bi + 16384) >> 15, in wrapping int32;
//   - the split's HALF_OF((a + b)) is an arithmetic shift of the 17-bit sum (SHADD16/SHSUB16).
// kissfft's twiddle 0 is 32767 + 0i: multiplying by it returns any |x| <= 16384 unchanged, and a butterfly's
// inputs are |x| <= 8191 after C_FIXDIV(x, 4), so the k = 0 butterflies (and all of the first stage) skip
// their multiplies. On the Cortex-M4 (armv7emsp) the packed pairs go through its DSP instructions; elsewhere
// the same operations are written out in C.
#include <string.h>

#include "tm_audio_fft.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

#define ADD16(a, b) ((uint32_t)__sadd16((int16x2_t)(a), (int16x2_t)(b)))
#define SUB16(a, b) ((uint32_t)__ssub16((int16x2_t)(a), (int16x2_t)(b)))
// {a.r + b.i, a.i - b.r} and {a.r - b.i, a.i + b.r}: the butterfly's multiplications by -i and +i
#define SUB_TIMES_I(a, b) ((uint32_t)__ssax((int16x2_t)(a), (int16x2_t)(b)))
#define ADD_TIMES_I(a, b) ((uint32_t)__sasx((int16x2_t)(a), (int16x2_t)(b)))
#define HALF_ADD16(a, b) ((uint32_t)__shadd16((int16x2_t)(a), (int16x2_t)(b)))
#define HALF_SUB16(a, b) ((uint32_t)__shsub16((int16x2_t)(a), (int16x2_t)(b)))
#define PACK(r, i) (((uint32_t)(r) & 0xFFFFu) | ((uint32_t)(i) << 16))

// {lo >> 15, the top half of hi} in one PKHTB (GCC does not find it by itself)
static inline uint32_t pack_top_and_shifted(uint32_t hi, int32_t lo) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #15" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

// C_MUL: each sum rounded and shifted by 15; the imaginary one shifted by 16 - 1 (its top half, doubled)
static inline uint32_t cmul(uint32_t a, uint32_t w) {
    return pack_top_and_shifted((uint32_t)__smladx((int16x2_t)a, (int16x2_t)w, 16384) << 1,
        __smlsd((int16x2_t)a, (int16x2_t)w, 16384));
}

// C_FIXDIV of both halves: (x * k + 16384) >> 15, k = 32767 / div. The imaginary half is computed doubled,
// (x * 2k + 32768), so that its result already sits in the top half.
static inline uint32_t fixdiv(uint32_t x, int32_t k) {
    return pack_top_and_shifted((uint32_t)__smlatb((int32_t)x, 2 * k, 32768), __smlabb((int32_t)x, k, 16384));
}

// C_FIXDIV(x, 2) of {x.r, -x.i}: kiss_fftr's conjugate, its negation wrapping in int16 as kissfft's does
static inline uint32_t fixdiv2_conj(uint32_t x) {
    const int32_t neg = (int32_t)__ssub16(0, (int16x2_t)x);
    return pack_top_and_shifted((uint32_t)__smlatb(neg, 2 * 16383, 32768), __smlabb((int32_t)x, 16383, 16384));
}

#else

#define LO(x) ((int32_t)(int16_t)(uint16_t)(x))
#define HI(x) ((int32_t)(int16_t)(uint16_t)((x) >> 16))
#define PACK(r, i) (((uint32_t)(r) & 0xFFFFu) | ((uint32_t)(i) << 16))
#define ADD16(a, b) PACK(LO(a) + LO(b), HI(a) + HI(b))
#define SUB16(a, b) PACK(LO(a) - LO(b), HI(a) - HI(b))
#define SUB_TIMES_I(a, b) PACK(LO(a) + HI(b), HI(a) - LO(b))
#define ADD_TIMES_I(a, b) PACK(LO(a) - HI(b), HI(a) + LO(b))
#define HALF_ADD16(a, b) PACK((LO(a) + LO(b)) >> 1, (HI(a) + HI(b)) >> 1)
#define HALF_SUB16(a, b) PACK((LO(a) - LO(b)) >> 1, (HI(a) - HI(b)) >> 1)

// (sum + 16384) >> 15 of an int32 sum kissfft lets wrap: summed as uint32 (defined), then read as int32
static inline int32_t round15(uint32_t sum) {
    return (int32_t)(sum + 16384u) >> 15;
}

static inline uint32_t cmul(uint32_t a, uint32_t w) {
    const int32_t ar = LO(a), ai = HI(a), wr = LO(w), wi = HI(w);
    return PACK(round15((uint32_t)(ar * wr) - (uint32_t)(ai * wi)), round15((uint32_t)(ar * wi) + (uint32_t)(ai * wr)));
}

static inline uint32_t fixdiv(uint32_t x, int32_t k) {
    return PACK((LO(x) * k + 16384) >> 15, (HI(x) * k + 16384) >> 15);
}

static inline uint32_t fixdiv2_conj(uint32_t x) {
    return PACK((LO(x) * 16383 + 16384) >> 15, ((int32_t)(int16_t)(uint16_t)-HI(x) * 16383 + 16384) >> 15);
}

#endif

static inline uint32_t load32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

// kf_bfly4's arithmetic on four values already divided by 4 and multiplied by their twiddles (s0 = f1 w1,
// s1 = f2 w2, s2 = f3 w3), in kissfft's order of operations
#define BUTTERFLY(f0, s0, s1, s2, o0, o1, o2, o3) do { \
        const uint32_t s5 = SUB16(f0, s1), f0s = ADD16(f0, s1); \
        const uint32_t s3 = ADD16(s0, s2), s4 = SUB16(s0, s2); \
        o2 = SUB16(f0s, s3); \
        o0 = ADD16(f0s, s3); \
        o1 = SUB_TIMES_I(s5, s4); \
        o3 = ADD_TIMES_I(s5, s4); \
} while (0)

void tm_audio_fft512(const int16_t *window, int shift, const int16_t *twiddles, const int16_t *super_twiddles,
    uint32_t *out) {
    // The input scaling on packed pairs: shift the word, then clear the bits the real part pushed into the
    // imaginary part's low end.
    const uint32_t keep = ~((((uint32_t)1 << shift) - 1) << 16);
    // Stage 1 (m = 1, twiddles all 32767 + 0i): group b reads the complex inputs rev(b) + 64 q, q = 0..3, with
    // rev the base-4 digit reversal of b's three digits (kf_work's copy), and writes out[4b..4b+3].
    for (uint32_t b = 0; b < 64; b++) {
        const uint32_t r = ((b & 3) << 4) | (b & 12) | (b >> 4);
        const int16_t *x = window + 2 * r;
        const uint32_t f0 = fixdiv((load32(x) << shift) & keep, 8191);
        const uint32_t f1 = fixdiv((load32(x + 128) << shift) & keep, 8191);
        const uint32_t f2 = fixdiv((load32(x + 256) << shift) & keep, 8191);
        const uint32_t f3 = fixdiv((load32(x + 384) << shift) & keep, 8191);
        BUTTERFLY(f0, f1, f2, f3, out[4 * b], out[4 * b + 1], out[4 * b + 2], out[4 * b + 3]);
    }
    // Stages 2..4: groups of 4m values, butterfly k of each group combines k, k + m, k + 2m, k + 3m.
    const int16_t *tw = twiddles;
    for (uint32_t m = 4; m <= 64; m *= 4) {
        for (uint32_t g = 0; g < 256; g += 4 * m) {     // k = 0: twiddles 32767 + 0i, no multiplies
            uint32_t *p = out + g;
            const uint32_t f0 = fixdiv(p[0], 8191), f1 = fixdiv(p[m], 8191);
            const uint32_t f2 = fixdiv(p[2 * m], 8191), f3 = fixdiv(p[3 * m], 8191);
            BUTTERFLY(f0, f1, f2, f3, p[0], p[m], p[2 * m], p[3 * m]);
        }
        for (uint32_t k = 1; k < m; k++, tw += 6) {
            const uint32_t w1 = load32(tw), w2 = load32(tw + 2), w3 = load32(tw + 4);
            for (uint32_t g = 0; g < 256; g += 4 * m) {
                uint32_t *p = out + g + k;
                const uint32_t f0 = fixdiv(p[0], 8191);
                const uint32_t s0 = cmul(fixdiv(p[m], 8191), w1);
                const uint32_t s1 = cmul(fixdiv(p[2 * m], 8191), w2);
                const uint32_t s2 = cmul(fixdiv(p[3 * m], 8191), w3);
                BUTTERFLY(f0, s0, s1, s2, p[0], p[m], p[2 * m], p[3 * m]);
            }
        }
    }
    // kiss_fftr's split, in place: bins k and 256 - k come from the complex bins k and 256 - k only.
    const uint32_t dc = fixdiv(out[0], 16383);
    const int32_t dc_r = (int16_t)(uint16_t)dc, dc_i = (int16_t)(uint16_t)(dc >> 16);
    out[0] = PACK(dc_r + dc_i, 0);
    out[256] = PACK(dc_r - dc_i, 0);
    for (uint32_t k = 1; k <= 128; k++) {
        const uint32_t fpk = fixdiv(out[k], 16383), fpnk = fixdiv2_conj(out[256 - k]);
        const uint32_t f1k = ADD16(fpk, fpnk);
        const uint32_t t = cmul(SUB16(fpk, fpnk), load32(super_twiddles + 2 * (k - 1)));
        out[k] = HALF_ADD16(f1k, t);
        // {(f1k.r - t.r) / 2, (t.i - f1k.i) / 2}, each rounded down as kissfft's HALF_OF does
        out[256 - k] = PACK(HALF_SUB16(f1k, t), HALF_SUB16(t, f1k) >> 16);
    }
}
