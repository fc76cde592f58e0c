// The real FFT's twiddle factors for every length from one quarter wave. CMSIS-DSP's tables (cfft twiddles
// cos, sin of 2 pi k / L for L = 16..512; rfft twiddles sin, cos of 2 pi i / N for N = 32..1024) are all
// values of sin and cos at multiples of 2 pi / 1024, correctly rounded to float, so each equals, bit for bit,
// +-sin(2 pi j / 1024) for some j in 0..256: quarter[j], the first 257 sines of the sdist's 1024-point rfft
// table. Only the zeros' signs do not follow from the symmetry: the sdist has sin(pi) = +0 and
// cos(3 pi / 2) = -0. tm_motion_gen.c checks every entry of every sdist table against these functions when it
// builds tm_motion_tables.h, and fails the build on any difference.
#ifndef TM_MOTION_TWIDDLE_H
#define TM_MOTION_TWIDDLE_H

#include <stdint.h>

// sin(2 pi j / 1024), j in 0..1023
static inline float tm_twiddle_sin(const float *quarter, uint32_t j) {
    j &= 1023;
    if (j == 512) {
        return 0.0f;
    }
    const uint32_t h = j & 511;
    const float v = quarter[h <= 256 ? h : 512 - h];
    return j > 512 ? -v : v;
}

// cos(2 pi j / 1024) = sin(2 pi (j + 256) / 1024), j in 0..1023
static inline float tm_twiddle_cos(const float *quarter, uint32_t j) {
    return j == 768 ? -0.0f : tm_twiddle_sin(quarter, j + 256);
}

// CMSIS-DSP's tables for arm_rfft_fast_f32 of length n (32..1024, a power of two): the complex FFT's of
// n / 2 points (cfft: n floats, cos and sin pairs) and the real stage's (rfft: n floats, sin and cos pairs).
static inline void tm_twiddle_tables(const float *quarter, uint32_t n, float *cfft, float *rfft) {
    const uint32_t cstep = 2048 / n, rstep = 1024 / n;     // 1024 / (n / 2), 1024 / n
    for (uint32_t k = 0; k < n / 2; k++) {
        cfft[2 * k] = tm_twiddle_cos(quarter, k * cstep);
        cfft[2 * k + 1] = tm_twiddle_sin(quarter, k * cstep);
        rfft[2 * k] = tm_twiddle_sin(quarter, k * rstep);
        rfft[2 * k + 1] = tm_twiddle_cos(quarter, k * rstep);
    }
}

#endif
