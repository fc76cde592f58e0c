// The incremental audio frontend (tm_audio.h) over TFLM's frontend sources from the pymicro-features sdist.
// FrontendPopulateState's allocations and double-precision math are replaced by one caller-owned block and
// tables computed on the host by the sdist's own code (tm_audio_tables.h). Its FFT (kissfft) is replaced by
// tm_audio_fft.c and its filterbank (energies, weighted sums, square roots) by the functions below, faster and
// computing the same values bit for bit; window, noise reduction, PCAN and log scale are the sdist's own
// functions. All are called in FrontendProcessSamples' order, so tm_audio_process computes the wheel's frames.
#include <string.h>

#include "tm_audio.h"
#include "tm_audio_fft.h"
#include "tm_audio_tables.h"
#include "tensorflow/lite/experimental/microfrontend/lib/bits.h"
#include "tensorflow/lite/experimental/microfrontend/lib/filterbank.h"     // kFilterbankBits
#include "tensorflow/lite/experimental/microfrontend/lib/log_scale.h"
#include "tensorflow/lite/experimental/microfrontend/lib/noise_reduction.h"
#include "tensorflow/lite/experimental/microfrontend/lib/pcan_gain_control.h"
#include "tensorflow/lite/experimental/microfrontend/lib/window.h"

#if TM_AUDIO_FFT_SIZE != 512
#error "tm_audio_fft.c is the 512-point FFT of 30 ms windows at 16 kHz"
#endif

struct tm_audio {
    struct WindowState window;
    struct NoiseReductionState noise_reduction;
    struct PcanGainControlState pcan_gain_control;
    struct LogScaleState log_scale;
    uint64_t work[TM_AUDIO_CHANNELS + 1];                   // filterbank accumulators
    uint32_t estimate[TM_AUDIO_CHANNELS];                   // noise estimates
    uint32_t scaled[TM_AUDIO_CHANNELS];                     // the channels' amplitudes, then their log
    uint32_t fft[TM_AUDIO_FFT_SIZE / 2 + 1];                // the FFT's bins (packed int16 pairs)
    int16_t window_input[TM_AUDIO_WINDOW_SAMPLES];
    // the windowed samples, zero-padded to the FFT's length (the window code writes the first 480 only)
    int16_t window_output[TM_AUDIO_FFT_SIZE] __attribute__((aligned(4)));
};

uint32_t tm_audio_bytes(void) {
    return (uint32_t)((sizeof(struct tm_audio) + 7) & ~(size_t)7);
}

uint32_t tm_audio_channels(void) {
    return TM_AUDIO_CHANNELS;
}

uint32_t tm_audio_window_samples(void) {
    return TM_AUDIO_WINDOW_SAMPLES;
}

tm_audio_t *tm_audio_init(void *mem, uint32_t step_samples) {
    struct tm_audio *a = mem;
    memset(a, 0, sizeof(*a));
    a->window.size = TM_AUDIO_WINDOW_SAMPLES;
    a->window.step = step_samples;
    a->window.coefficients = (int16_t *)tm_audio_window;       // read only
    a->window.input = a->window_input;
    a->window.output = a->window_output;
    a->noise_reduction.smoothing_bits = TM_AUDIO_NR_SMOOTHING_BITS;
    a->noise_reduction.even_smoothing = TM_AUDIO_NR_EVEN;
    a->noise_reduction.odd_smoothing = TM_AUDIO_NR_ODD;
    a->noise_reduction.min_signal_remaining = TM_AUDIO_NR_MIN_SIGNAL;
    a->noise_reduction.num_channels = TM_AUDIO_CHANNELS;
    a->noise_reduction.estimate = a->estimate;
    a->pcan_gain_control.enable_pcan = TM_AUDIO_PCAN;
#if TM_AUDIO_PCAN
    // PCAN reads the noise reduction's estimates (as FrontendPopulateState wires it)
    a->pcan_gain_control.noise_estimate = a->estimate;
    a->pcan_gain_control.num_channels = TM_AUDIO_CHANNELS;
    a->pcan_gain_control.gain_lut = (int16_t *)tm_audio_pcan_lut;
    a->pcan_gain_control.snr_shift = TM_AUDIO_PCAN_SNR_SHIFT;
#endif
    a->log_scale.enable_log = TM_AUDIO_LOG;
    a->log_scale.scale_shift = TM_AUDIO_LOG_SCALE_SHIFT;
    tm_audio_reset(a);
    return a;
}

// FilterbankConvertFftComplexToEnergy and FilterbankAccumulateChannels in one pass over the FFT's bins, each
// energy computed where it is weighed. The sdist sums `weight * (uint64_t)energy` with energy an int32 (a bin
// of -32768 - 32768i has energy 2^31, read back as negative) and the int16 weight widened to uint64 too: both
// sign-extended, so the product is the signed 64-bit product modulo 2^64, which SMLAL computes in one step.
static void tm_audio_filterbank(const uint32_t *bins, uint64_t *work) {
    uint64_t weighted = 0, unweighted = 0;
    for (int ch = 0; ch <= TM_AUDIO_CHANNELS; ch++) {
        const uint32_t *bin = bins + tm_audio_fb_frequency_starts[ch];
        const int16_t *weights = tm_audio_fb_weights + tm_audio_fb_weight_starts[ch];
        const int16_t *unweights = tm_audio_fb_unweights + tm_audio_fb_weight_starts[ch];
        for (int j = 0; j < tm_audio_fb_widths[ch]; j++) {
            const int32_t re = (int16_t)(uint16_t)bin[j], im = (int16_t)(uint16_t)(bin[j] >> 16);
            const int32_t energy = (int32_t)((uint32_t)(re * re) + (uint32_t)(im * im));    // wraps as the sdist's
            weighted += (uint64_t)((int64_t)weights[j] * energy);
            unweighted += (uint64_t)((int64_t)unweights[j] * energy);
        }
        work[ch] = weighted;
        weighted = unweighted;
        unweighted = 0;
    }
}

// floor(sqrt(n)), digit by digit (two bits of n per step), in 32-bit arithmetic when n fits
static uint32_t isqrt_digits(uint64_t n) {
    if (n >> 32 == 0) {
        uint32_t v = (uint32_t)n, r = 0, bit = 1u << 30;
        while (bit > v) {
            bit >>= 2;
        }
        for (; bit; bit >>= 2) {
            if (v >= r + bit) {
                v -= r + bit;
                r = (r >> 1) + bit;
            } else {
                r >>= 1;
            }
        }
        return r;
    }
    uint64_t v = n, r = 0, bit = (uint64_t)1 << 62;
    while (bit > v) {
        bit >>= 2;
    }
    for (; bit; bit >>= 2) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return (uint32_t)r;
}

// FilterbankSqrt's rounded square root of one channel. Its loop ends with res = floor(sqrt(n)) and the
// remainder n - res^2, and rounds up when the remainder exceeds res, unless res is 0xFFFF on its 32-bit path
// (taken for n < 2^32; above that res >= 65536) or 0xFFFFFFFF. Where the core has a single-precision square
// root, the floor starts from sqrtf(n), within 1 of it for n < 2^48 (40 channels of at most 2^31 energy times
// 12-bit weights over fewer than 32 bins; a bin of -32768 - 32768i wraps a sum close to 2^64 instead, which
// takes the loop), and the two corrections make it exact.
static uint32_t rounded_sqrt(uint64_t n) {
    uint64_t r;
#if (defined(__ARM_FP) || defined(__SSE2__)) && !defined(TM_AUDIO_DIGIT_SQRT)    // (tests check both ways)
    if (n >> 48 == 0) {
        r = (uint32_t)__builtin_sqrtf((float)(uint32_t)(n >> 32) * 4294967296.0f + (float)(uint32_t)n);
        while (r * r > n) {
            r--;
        }
        while ((r + 1) * (r + 1) <= n) {
            r++;
        }
    } else
#endif
    {
        r = isqrt_digits(n);
    }
    if (n - r * r > r && r != 0xFFFF && r != 0xFFFFFFFF) {
        r++;
    }
    return (uint32_t)r;
}

// FrontendProcessSamples after a completed window: FFT, energies, filterbank, noise reduction, PCAN, log.
static const uint16_t *tm_audio_frame(struct tm_audio *a) {
    // scale the FFT's input up to use all 16 bits
    const int input_shift = 15 - MostSignificantBit32((uint32_t)a->window.max_abs_output_value);
    tm_audio_fft512(a->window_output, input_shift, tm_audio_fft_twiddles, tm_audio_super_twiddles, a->fft);
    tm_audio_filterbank(a->fft, a->work);
    uint32_t *scaled = a->scaled;
    for (int ch = 0; ch < TM_AUDIO_CHANNELS; ch++) {     // FilterbankSqrt
        scaled[ch] = rounded_sqrt(a->work[ch + 1]) >> input_shift;
    }
    NoiseReductionApply(&a->noise_reduction, scaled);
    if (a->pcan_gain_control.enable_pcan) {
        PcanGainControlApply(&a->pcan_gain_control, scaled);
    }
    const int correction_bits = MostSignificantBit32(TM_AUDIO_FFT_SIZE) - 1 - (kFilterbankBits / 2);
    return LogScaleApply(&a->log_scale, scaled, TM_AUDIO_CHANNELS, correction_bits);
}

uint32_t tm_audio_step_samples(const tm_audio_t *a) {
    return (uint32_t)a->window.step;
}

uint32_t tm_audio_pending(const tm_audio_t *a) {
    return (uint32_t)a->window.input_used;
}

uint32_t tm_audio_frames_for(const tm_audio_t *a, uint32_t n) {
    const uint32_t have = (uint32_t)a->window.input_used + n, size = TM_AUDIO_WINDOW_SAMPLES;
    return have < size ? 0 : 1 + (have - size) / (uint32_t)a->window.step;
}

uint32_t tm_audio_process(tm_audio_t *a, const int16_t *pcm, uint32_t n, uint16_t *out) {
    uint32_t frames = 0;
    while (n) {
        size_t read = 0;
        const int complete = WindowProcessSamples(&a->window, pcm, n, &read);
        pcm += read;
        n -= (uint32_t)read;
        if (complete) {
            memcpy(out + (size_t)frames * TM_AUDIO_CHANNELS, tm_audio_frame(a), TM_AUDIO_CHANNELS * sizeof(uint16_t));
            frames++;
        }
    }
    return frames;
}

void tm_audio_reset(tm_audio_t *a) {
    // FrontendReset's parts (its FftReset and FilterbankReset only clear buffers every frame overwrites)
    WindowReset(&a->window);
    NoiseReductionReset(&a->noise_reduction);
}
