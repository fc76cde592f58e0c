// The incremental audio frontend (tm_audio.h) over TFLM's frontend sources from the pymicro-features sdist.
// FrontendPopulateState's allocations and double-precision math are replaced by one caller-owned block and
// tables computed on the host by the sdist's own code (tm_audio_tables.h), and its FFT (kissfft) by
// tm_audio_fft.c, which computes kissfft's values exactly; the other stages are the sdist's own functions,
// called in FrontendProcessSamples' order, so tm_audio_process computes the wheel's frames.
#include <string.h>

#include "tm_audio.h"
#include "tm_audio_fft.h"
#include "tm_audio_tables.h"
#include "tensorflow/lite/experimental/microfrontend/lib/bits.h"
#include "tensorflow/lite/experimental/microfrontend/lib/filterbank.h"
#include "tensorflow/lite/experimental/microfrontend/lib/log_scale.h"
#include "tensorflow/lite/experimental/microfrontend/lib/noise_reduction.h"
#include "tensorflow/lite/experimental/microfrontend/lib/pcan_gain_control.h"
#include "tensorflow/lite/experimental/microfrontend/lib/window.h"

#if TM_AUDIO_FFT_SIZE != 512
#error "tm_audio_fft.c is the 512-point FFT of 30 ms windows at 16 kHz"
#endif

struct tm_audio {
    struct WindowState window;
    struct FilterbankState filterbank;
    struct NoiseReductionState noise_reduction;
    struct PcanGainControlState pcan_gain_control;
    struct LogScaleState log_scale;
    uint64_t work[TM_AUDIO_CHANNELS + 1];                   // filterbank accumulators
    uint32_t estimate[TM_AUDIO_CHANNELS];                   // noise estimates
    uint32_t fft[TM_AUDIO_FFT_SIZE / 2 + 1];                // the FFT's bins (packed int16 pairs), then energies
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
    a->filterbank.num_channels = TM_AUDIO_CHANNELS;
    a->filterbank.start_index = TM_AUDIO_FB_START;
    a->filterbank.end_index = TM_AUDIO_FB_END;
    a->filterbank.channel_frequency_starts = (int16_t *)tm_audio_fb_frequency_starts;
    a->filterbank.channel_weight_starts = (int16_t *)tm_audio_fb_weight_starts;
    a->filterbank.channel_widths = (int16_t *)tm_audio_fb_widths;
    a->filterbank.weights = (int16_t *)tm_audio_fb_weights;
    a->filterbank.unweights = (int16_t *)tm_audio_fb_unweights;
    a->filterbank.work = a->work;
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

// FrontendProcessSamples after a completed window: FFT, energies, filterbank, noise reduction, PCAN, log.
static const uint16_t *tm_audio_frame(struct tm_audio *a) {
    // scale the FFT's input up to use all 16 bits
    const int input_shift = 15 - MostSignificantBit32((uint32_t)a->window.max_abs_output_value);
    tm_audio_fft512(a->window_output, input_shift, tm_audio_fft_twiddles, tm_audio_super_twiddles, a->fft);
    int32_t *energy = (int32_t *)a->fft;
    FilterbankConvertFftComplexToEnergy(&a->filterbank, (struct complex_int16_t *)a->fft, energy);
    FilterbankAccumulateChannels(&a->filterbank, energy);
    uint32_t *scaled = FilterbankSqrt(&a->filterbank, input_shift);
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
    // FrontendReset's parts (its FftReset only clears buffers every frame overwrites)
    WindowReset(&a->window);
    FilterbankReset(&a->filterbank);
    NoiseReductionReset(&a->noise_reduction);
}
