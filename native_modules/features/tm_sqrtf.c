// sqrtf for the archs whose compilers call it (CMSIS-DSP's arm_rms_f32 through arm_sqrt_f32): Cortex-M0/M3
// have no FPU and the ESP32's FPU has no square root. Correctly rounded (IEEE round to nearest: a square
// root never falls exactly halfway), as the x64 (sqrtss) and Cortex-M4 (vsqrt.f32) instructions are, so every
// arch gets the same bits; tests/test_motion_features.py compares it with the host's over millions of values.
// Integer arithmetic only, so that the compiler calls nothing from here.
#include <stdint.h>

float sqrtf(float x) {
    union {
        float f;
        uint32_t u;
    } v = {x};
    const uint32_t u = v.u;
    if ((u & 0x7fffffffu) == 0) {
        return x;                                   // +-0
    }
    if (u >> 31) {
        v.u = 0x7fc00000u;                          // negative (or -NaN): the default NaN
        return v.f;
    }
    if (u >= 0x7f800000u) {
        if (u > 0x7f800000u) {
            v.u = u | 0x00400000u;                  // NaN: quiet it
        }
        return v.f;                                 // +inf
    }
    int32_t e = (int32_t)(u >> 23);
    uint32_t m = u & 0x007fffffu;
    if (e == 0) {                                   // subnormal: normalise
        while (!(m & 0x00800000u)) {
            m <<= 1;
            e--;
        }
        e++;
    } else {
        m |= 0x00800000u;
    }
    e -= 127;                                       // x = m * 2^(e - 23), 2^23 <= m < 2^24
    if (e & 1) {                                    // make the exponent even
        m <<= 1;
        e--;
    }
    // sqrt(m * 2^(e-23)) = sqrt(m * 2^25) * 2^(e/2 - 24): a 25-bit root of m << 25 (< 2^50), one rounding bit
    uint64_t rem = (uint64_t)m << 25, root = 0, bit = (uint64_t)1 << 48;
    while (bit > rem) {
        bit >>= 2;
    }
    while (bit) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    // root: 2^24 <= root < 2^25 (25 bits: 24 of mantissa and a rounding bit), rem: whether inexact
    uint32_t r = (uint32_t)root;
    const uint32_t round = r & 1;
    r >>= 1;
    if (round) {
        r++;                                        // above halfway (never exactly halfway)
    }
    (void)rem;
    v.u = ((uint32_t)(e / 2 + 127) << 23) + (r - 0x00800000u);
    return v.f;
}
