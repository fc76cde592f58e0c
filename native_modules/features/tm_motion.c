// Motion and vibration features (tm_motion.h) over CMSIS-DSP's real FFT and statistics, compiled unchanged
// from the cmsisdsp sdist (tools/fetch_cmsisdsp.sh). arm_rfft_fast_init_f32 is replaced by tm_motion_init's
// wiring of the same tables: the bit reversal tables copied bit for bit from the sdist on the host
// (tm_motion_tables.h), and the twiddles of the one length in use computed into the state from a quarter wave
// (tm_motion_twiddle.h, checked against every sdist table by the generator): the instance is the one
// arm_rfft_fast_init_f32 builds, so arm_rfft_fast_f32 computes the sdist's transform. (All lengths' twiddle
// tables as const data were 16 KB of every module with the feature; now 1 KB, and 8 n bytes of state.)
#include <string.h>

#include "arm_math.h"
#include "tm_motion.h"
#include "tm_motion_tables.h"
#include "tm_motion_twiddle.h"

struct tm_motion {
    arm_rfft_fast_instance_f32 fft;
    uint32_t n, channels, bands;
    float inv_n2;                           // 1 / n^2, a power of two
    uint16_t bins[2 * TM_MOTION_MAX_BANDS];
    // n samples of one channel, then the n spectrum values; then the twiddles: the complex FFT's (n floats)
    // and the real stage's (n floats)
    float work[];
};

uint32_t tm_motion_bytes(uint32_t n, uint32_t channels, uint32_t bands) {
    (void)channels;
    (void)bands;
    return (uint32_t)((sizeof(struct tm_motion) + 4 * n * sizeof(float) + 7) & ~(size_t)7);
}

static int log2_n(uint32_t n) {
    int k = 0;
    while ((1u << k) < n) {
        k++;
    }
    return (1u << k) == n && n >= TM_MOTION_MIN_N && n <= TM_MOTION_MAX_N ? k : -1;
}

int tm_motion_hz_to_bins(uint32_t n, float rate, float lo, float hi, uint16_t *k0, uint16_t *k1) {
    if (log2_n(n) < 0) {
        return TM_MOTION_BAD_N;
    }
    if (!(rate > 0.0f) || !(rate < 3.0e38f)) {
        return TM_MOTION_BAD_RATE;
    }
    if (!(lo >= 0.0f) || !(hi > lo)) {
        return TM_MOTION_BAD_HZ;
    }
    const float step = rate / (float)n;     // exact: n is a power of two
    uint32_t first = n / 2 + 1, end = 0;
    for (uint32_t k = 0; k <= n / 2; k++) {
        const float f = (float)k * step;
        if (lo <= f && f < hi) {
            if (first > k) {
                first = k;
            }
            end = k + 1;
        }
    }
    if (end == 0) {
        return TM_MOTION_EMPTY_BAND;
    }
    *k0 = (uint16_t)first;
    *k1 = (uint16_t)end;
    return TM_MOTION_OK;
}

int tm_motion_init(void *mem, uint32_t n, uint32_t channels, uint32_t bands, const uint16_t *bins) {
    const int lg = log2_n(n);
    if (lg < 0) {
        return TM_MOTION_BAD_N;
    }
    if (channels < 1 || channels > TM_MOTION_MAX_CHANNELS) {
        return TM_MOTION_BAD_CHANNELS;
    }
    if (bands > TM_MOTION_MAX_BANDS) {
        return TM_MOTION_BAD_BANDS;
    }
    for (uint32_t b = 0; b < bands; b++) {
        if (!(bins[2 * b] < bins[2 * b + 1] && bins[2 * b + 1] <= n / 2 + 1)) {
            return TM_MOTION_BAD_BIN;
        }
    }
    struct tm_motion *m = mem;
    memset(m, 0, sizeof(*m));
    m->n = n;
    m->channels = channels;
    m->bands = bands;
    for (uint32_t i = 0; i < 2 * bands; i++) {
        m->bins[i] = bins[i];
    }
    union {
        uint32_t u;
        float f;
    } inv = {(uint32_t)(127 - 2 * lg) << 23};
    m->inv_n2 = inv.f;
    // arm_rfft_fast_init_<n>_f32: arm_cfft_init_<n/2>_f32 (arm_cfft_sR_f32_len<n/2>), then the real stage
    arm_rfft_fast_instance_f32 *s = &m->fft;
    float *cfft_twiddles = m->work + 2 * n, *rfft_twiddles = m->work + 3 * n;
    tm_twiddle_tables(tm_motion_quarter_wave, n, cfft_twiddles, rfft_twiddles);
    s->Sint.pTwiddle = cfft_twiddles;
    s->pTwiddleRFFT = rfft_twiddles;
    switch (n) {
#define TM_WIRE(N, N2, BITREV)                          \
    case N:                                             \
        s->Sint.fftLen = N2;                            \
        s->Sint.pBitRevTable = tm_cfft_bitrev_##N2;     \
        s->Sint.bitRevLength = BITREV;                  \
        s->fftLenRFFT = N;                              \
        break;
        TM_MOTION_TABLES(TM_WIRE)
#undef TM_WIRE
    }
    return TM_MOTION_OK;
}

uint32_t tm_motion_outputs(const tm_motion_t *m) {
    return m->channels * (TM_MOTION_STATS + m->bands);
}

uint32_t tm_motion_n(const tm_motion_t *m) {
    return m->n;
}

uint32_t tm_motion_channels(const tm_motion_t *m) {
    return m->channels;
}

uint32_t tm_motion_bands(const tm_motion_t *m) {
    return m->bands;
}

const uint16_t *tm_motion_bins(const tm_motion_t *m) {
    return m->bins;
}

void tm_motion_rfft(tm_motion_t *m, float *in, float *out) {
    arm_rfft_fast_f32(&m->fft, in, out, 0);
}

static void put(float *out, uint32_t i, float v) {
    memcpy((char *)out + 4 * i, &v, 4);
}

// The features of the channel already in m->work[0..n).
static void channel(tm_motion_t *m, float *out, uint32_t base) {
    const uint32_t n = m->n, half = n / 2;
    float *x = m->work, *spec = m->work + n;
    float mean, rms, peak;
    arm_mean_f32(x, n, &mean);
    arm_rms_f32(x, n, &rms);
    arm_absmax_no_idx_f32(x, n, &peak);
    put(out, base, mean);
    put(out, base + 1, rms);
    put(out, base + 2, peak);
    put(out, base + 3, rms > 0.0f ? peak / rms : 0.0f);
    if (!m->bands) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        x[i] = x[i] - mean;
    }
    arm_rfft_fast_f32(&m->fft, x, spec, 0);
    // spec: X_0 (real), X_{n/2} (real), then Re, Im of X_1 .. X_{n/2-1}
    for (uint32_t b = 0; b < m->bands; b++) {
        const uint32_t k0 = m->bins[2 * b], k1 = m->bins[2 * b + 1];
        const uint32_t lo = k0 > 1 ? k0 : 1, hi = k1 < half ? k1 : half;
        float e = 0.0f;
        if (hi > lo) {
            arm_power_f32(spec + 2 * lo, 2 * (hi - lo), &e);
            e = e * 2.0f;
        }
        if (k0 == 0) {
            e = e + spec[0] * spec[0];
        }
        if (k1 > half) {
            e = e + spec[1] * spec[1];
        }
        put(out, base + TM_MOTION_STATS + b, e * m->inv_n2);
    }
}

void tm_motion_compute_f32(tm_motion_t *m, const float *x, float scale, float *out) {
    const uint32_t n = m->n, c = m->channels, per = TM_MOTION_STATS + m->bands;
    const char *p = (const char *)x;
    for (uint32_t ch = 0; ch < c; ch++) {
        for (uint32_t i = 0; i < n; i++) {
            float v;
            memcpy(&v, p + 4 * (i * c + ch), 4);
            m->work[i] = v * scale;
        }
        channel(m, out, ch * per);
    }
}

void tm_motion_compute_i16(tm_motion_t *m, const int16_t *x, float scale, float *out) {
    const uint32_t n = m->n, c = m->channels, per = TM_MOTION_STATS + m->bands;
    const unsigned char *p = (const unsigned char *)x;
    for (uint32_t ch = 0; ch < c; ch++) {
        for (uint32_t i = 0; i < n; i++) {
            const unsigned char *q = p + 2 * (i * c + ch);
            const int16_t v = (int16_t)(uint16_t)(q[0] | (q[1] << 8));
            m->work[i] = (float)v * scale;
        }
        channel(m, out, ch * per);
    }
}
