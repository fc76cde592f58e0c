// Motion and vibration features over windows of N samples x C channels (interleaved: x[i * C + c], as a
// sensor FIFO delivers them): per channel mean, RMS, peak (max |x|), crest factor (peak / RMS) and the
// energies of spectral bands from CMSIS-DSP's real FFT (arm_rfft_fast_f32, sources from the cmsisdsp sdist;
// tables from the host, tm_motion_gen.c -> tm_motion_tables.h). Float32 throughout, compiled with
// -ffp-contract=off everywhere: the same bits on the host, x64, Cortex-M0/M3/M4 and the ESP32.
// Plain C: no allocation, no globals, no libm (sqrtf: the FPU's, or tm_sqrtf.c); all state lives in one
// caller-owned block of tm_motion_bytes() bytes (8-byte aligned).
//
// Output per channel c, at out[c * (4 + B) ...]: mean, rms, peak, crest, band_0 .. band_{B-1}, where
//   mean = arm_mean_f32(x), rms = arm_rms_f32(x), peak = arm_absmax_no_idx_f32(x),
//   crest = peak / rms (0 when rms is 0),
//   band_b = (2 * sum_{k in band, 0 < k < N/2} |X_k|^2 + |X_0|^2 [k0 = 0] + |X_N/2|^2 [k1 > N/2]) / N^2
// with X the real FFT of x - mean. Summed over all bins 0..N/2 the bands give the variance (Parseval).
#ifndef TM_MOTION_H
#define TM_MOTION_H

#include <stdint.h>

#define TM_MOTION_MIN_N 32
#define TM_MOTION_MAX_N 1024
#define TM_MOTION_MAX_CHANNELS 64
#define TM_MOTION_MAX_BANDS 32
#define TM_MOTION_STATS 4       // mean, rms, peak, crest

typedef struct tm_motion tm_motion_t;

// Errors of tm_motion_init and tm_motion_hz_to_bins (0: fine).
enum {
    TM_MOTION_OK = 0,
    TM_MOTION_BAD_N,          // n is not a power of two in 32..1024
    TM_MOTION_BAD_CHANNELS,   // channels not in 1..64
    TM_MOTION_BAD_BANDS,      // more than 32 bands
    TM_MOTION_BAD_BIN,        // a band's bins are not 0 <= k0 < k1 <= n/2 + 1
    TM_MOTION_BAD_RATE,       // rate not > 0 (or not finite)
    TM_MOTION_BAD_HZ,         // a band in Hz not 0 <= lo < hi
    TM_MOTION_EMPTY_BAND,     // a band in Hz holds no FFT bin
};

uint32_t tm_motion_bytes(uint32_t n, uint32_t channels, uint32_t bands);
// Bins [k0, k1) of a band given in Hz: the bins k (0..n/2) whose frequency k * (rate / n), in float32,
// satisfies lo <= f < hi.
int tm_motion_hz_to_bins(uint32_t n, float rate, float lo, float hi, uint16_t *k0, uint16_t *k1);
// Lays the state out in mem: bins holds 2 * bands values k0, k1 (half-open bin ranges). Checks everything
// first; on an error mem is untouched and the error code is returned.
int tm_motion_init(void *mem, uint32_t n, uint32_t channels, uint32_t bands, const uint16_t *bins);
// Values per window: channels * (4 + bands).
uint32_t tm_motion_outputs(const tm_motion_t *m);
uint32_t tm_motion_n(const tm_motion_t *m);
uint32_t tm_motion_channels(const tm_motion_t *m);
uint32_t tm_motion_bands(const tm_motion_t *m);
const uint16_t *tm_motion_bins(const tm_motion_t *m);
// One window of n * channels samples, each taken as x * scale (float32 multiply), features to out
// (tm_motion_outputs() float32 values). Neither x nor out needs any alignment.
void tm_motion_compute_f32(tm_motion_t *m, const float *x, float scale, float *out);
void tm_motion_compute_i16(tm_motion_t *m, const int16_t *x, float scale, float *out);
// arm_rfft_fast_f32 alone on n floats (in is overwritten, as CMSIS-DSP does), for comparisons.
void tm_motion_rfft(tm_motion_t *m, float *in, float *out);

#endif
