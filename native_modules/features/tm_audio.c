// The incremental audio frontend (tm_audio.h) over TFLM's frontend sources from the pymicro-features sdist.
// FrontendPopulateState's allocations and double-precision math are replaced by one caller-owned block and
// tables computed on the host by the sdist's own code (tm_audio_tables.h): the state below is the same state,
// so FrontendProcessSamples computes the wheel's frames.
#include <string.h>

#include "tm_audio.h"
#include "tm_audio_tables.h"
#include "tensorflow/lite/experimental/microfrontend/lib/frontend.h"
#include "kiss_fft.h"
#include "tools/kiss_fftr.h"

struct tm_audio {
    struct FrontendState fs;
    uint64_t work[TM_AUDIO_CHANNELS + 1];                                   // filterbank accumulators
    uint32_t estimate[TM_AUDIO_CHANNELS];                                   // noise estimates
    int16_t window_input[TM_AUDIO_WINDOW_SAMPLES];
    int16_t window_output[TM_AUDIO_WINDOW_SAMPLES];
    int16_t fft_input[TM_AUDIO_FFT_SIZE];
    struct complex_int16_t fft_output[(TM_AUDIO_FFT_SIZE / 2 + 1) * 2];     // also the int32 energies
    void *fft_scratch[1];   // kiss_fftr_place_bytes() bytes from here (pointer-aligned)
};

#define SCRATCH_BYTES (sizeof(void *) * 3 + TM_AUDIO_KISS_SUBSTATE_BYTES + 4 * (TM_AUDIO_FFT_SIZE / 2) * 3 / 2)

uint32_t tm_audio_bytes(void) {
    return (uint32_t)(sizeof(struct tm_audio) - sizeof(void *) + ((SCRATCH_BYTES + 7) & ~7u));
}

uint32_t tm_audio_channels(void) {
    return TM_AUDIO_CHANNELS;
}

uint32_t tm_audio_window_samples(void) {
    return TM_AUDIO_WINDOW_SAMPLES;
}

tm_audio_t *tm_audio_init(void *mem, uint32_t step_samples) {
    struct tm_audio *a = mem;
    struct FrontendState *s = &a->fs;
    memset(a, 0, sizeof(*a));
    s->window.size = TM_AUDIO_WINDOW_SAMPLES;
    s->window.step = step_samples;
    s->window.coefficients = (int16_t *)tm_audio_window;        // read only
    s->window.input = a->window_input;
    s->window.output = a->window_output;
    s->fft.fft_size = TM_AUDIO_FFT_SIZE;
    s->fft.input_size = TM_AUDIO_WINDOW_SAMPLES;
    s->fft.input = a->fft_input;
    s->fft.output = a->fft_output;
    s->fft.scratch = kiss_fftr_place(a->fft_scratch, TM_AUDIO_FFT_SIZE, tm_audio_kiss_substate,
        TM_AUDIO_KISS_SUBSTATE_BYTES, (const kiss_fft_cpx *)tm_audio_super_twiddles);
    s->fft.scratch_size = kiss_fftr_place_bytes(TM_AUDIO_FFT_SIZE, TM_AUDIO_KISS_SUBSTATE_BYTES);
    s->filterbank.num_channels = TM_AUDIO_CHANNELS;
    s->filterbank.start_index = TM_AUDIO_FB_START;
    s->filterbank.end_index = TM_AUDIO_FB_END;
    s->filterbank.channel_frequency_starts = (int16_t *)tm_audio_fb_frequency_starts;
    s->filterbank.channel_weight_starts = (int16_t *)tm_audio_fb_weight_starts;
    s->filterbank.channel_widths = (int16_t *)tm_audio_fb_widths;
    s->filterbank.weights = (int16_t *)tm_audio_fb_weights;
    s->filterbank.unweights = (int16_t *)tm_audio_fb_unweights;
    s->filterbank.work = a->work;
    s->noise_reduction.smoothing_bits = TM_AUDIO_NR_SMOOTHING_BITS;
    s->noise_reduction.even_smoothing = TM_AUDIO_NR_EVEN;
    s->noise_reduction.odd_smoothing = TM_AUDIO_NR_ODD;
    s->noise_reduction.min_signal_remaining = TM_AUDIO_NR_MIN_SIGNAL;
    s->noise_reduction.num_channels = TM_AUDIO_CHANNELS;
    s->noise_reduction.estimate = a->estimate;
    s->pcan_gain_control.enable_pcan = TM_AUDIO_PCAN;
#if TM_AUDIO_PCAN
    // PCAN reads the noise reduction's estimates (as FrontendPopulateState wires it)
    s->pcan_gain_control.noise_estimate = a->estimate;
    s->pcan_gain_control.num_channels = TM_AUDIO_CHANNELS;
    s->pcan_gain_control.gain_lut = (int16_t *)tm_audio_pcan_lut;
    s->pcan_gain_control.snr_shift = TM_AUDIO_PCAN_SNR_SHIFT;
#endif
    s->log_scale.enable_log = TM_AUDIO_LOG;
    s->log_scale.scale_shift = TM_AUDIO_LOG_SCALE_SHIFT;
    FrontendReset(s);
    return a;
}

uint32_t tm_audio_step_samples(const tm_audio_t *a) {
    return (uint32_t)a->fs.window.step;
}

uint32_t tm_audio_pending(const tm_audio_t *a) {
    return (uint32_t)a->fs.window.input_used;
}

uint32_t tm_audio_frames_for(const tm_audio_t *a, uint32_t n) {
    const uint32_t have = (uint32_t)a->fs.window.input_used + n, size = TM_AUDIO_WINDOW_SAMPLES;
    return have < size ? 0 : 1 + (have - size) / (uint32_t)a->fs.window.step;
}

uint32_t tm_audio_process(tm_audio_t *a, const int16_t *pcm, uint32_t n, uint16_t *out) {
    uint32_t frames = 0;
    while (n) {
        size_t read = 0;
        struct FrontendOutput o = FrontendProcessSamples(&a->fs, pcm, n, &read);
        pcm += read;
        n -= (uint32_t)read;
        if (o.size) {
            memcpy(out + (size_t)frames * TM_AUDIO_CHANNELS, o.values, TM_AUDIO_CHANNELS * sizeof(uint16_t));
            frames++;
        }
    }
    return frames;
}

void tm_audio_reset(tm_audio_t *a) {
    FrontendReset(&a->fs);
}
