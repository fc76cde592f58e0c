// Host program (built at build time by host/tinyml/features.py, never on a device): runs the sdist's own
// FrontendPopulateState -- compiled exactly as the pymicro-features wheel's setup.py compiles it, C++ with
// -DFIXED_POINT=16 and the host's libm -- and prints its tables as the C header tm_audio_tables.h that
// tm_audio.c compiles in as const data. So the device needs neither malloc nor cos/log/pow/sqrt in double
// precision, and its tables are the wheel's, bit for bit.
//   tm_audio_gen WINDOW_MS STEP_MS CHANNELS LOWER_HZ UPPER_HZ SMOOTHING_BITS EVEN ODD MIN_SIGNAL
//                ENABLE_PCAN STRENGTH OFFSET GAIN_BITS ENABLE_LOG SCALE_SHIFT [run]
// With `run` it is instead the reference for any configuration (the wheel has only microWakeWord's): int16
// PCM on stdin, 10 ms chunks through FrontendProcessSamples as the wheel feeds it, uint16 frames on stdout.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "tensorflow/lite/experimental/microfrontend/lib/frontend.h"
#include "tensorflow/lite/experimental/microfrontend/lib/frontend_util.h"
#include "tensorflow/lite/experimental/microfrontend/lib/pcan_gain_control_util.h"
}

static void array16(const char *type, const char *name, const int16_t *v, int n) {
    printf("static const %s %s[%d] __attribute__((aligned(4))) = {", type, name, n);
    for (int i = 0; i < n; i++) {
        printf("%s%d", i == 0 ? "\n    " : i % 16 ? ", " : ",\n    ", (int)v[i]);
    }
    printf("\n};\n");
}

int main(int argc, char **argv) {
    if (argc != 16 && !(argc == 17 && !strcmp(argv[16], "run"))) {
        fprintf(stderr, "usage: see the top of tm_audio_gen.cc\n");
        return 2;
    }
    struct FrontendConfig c;
    c.window.size_ms = atoi(argv[1]);
    c.window.step_size_ms = atoi(argv[2]);
    c.filterbank.num_channels = atoi(argv[3]);
    c.filterbank.lower_band_limit = strtof(argv[4], NULL);
    c.filterbank.upper_band_limit = strtof(argv[5], NULL);
    c.noise_reduction.smoothing_bits = atoi(argv[6]);
    c.noise_reduction.even_smoothing = strtof(argv[7], NULL);
    c.noise_reduction.odd_smoothing = strtof(argv[8], NULL);
    c.noise_reduction.min_signal_remaining = strtof(argv[9], NULL);
    c.pcan_gain_control.enable_pcan = atoi(argv[10]);
    c.pcan_gain_control.strength = strtof(argv[11], NULL);
    c.pcan_gain_control.offset = strtof(argv[12], NULL);
    c.pcan_gain_control.gain_bits = atoi(argv[13]);
    c.log_scale.enable_log = atoi(argv[14]);
    c.log_scale.scale_shift = atoi(argv[15]);
    struct FrontendState s;
    if (!FrontendPopulateState(&c, &s, 16000)) {
        return 1;
    }
    if (argc == 17) {
        int16_t chunk[160];
        size_t n;
        while ((n = fread(chunk, 2, 160, stdin)) > 0) {
            const int16_t *p = chunk;
            while (n) {
                size_t read = 0;
                struct FrontendOutput o = FrontendProcessSamples(&s, p, n, &read);
                p += read;
                n -= read;
                if (o.size) {
                    fwrite(o.values, 2, o.size, stdout);
                }
            }
        }
        FrontendFreeStateContents(&s);
        return 0;
    }
    // kiss_fftr_alloc's block: {substate, tmpbuf, super_twiddles} pointers, then the kiss_fft_state of the
    // 256-point complex FFT (int nfft, int inverse, int factors[64], then its twiddles), tmpbuf, super twiddles.
    // tm_audio_fft.c is a fixed radix-4 FFT of exactly this plan: check the plan, and hand it kissfft's own
    // twiddles (the host's double cos/sin rounded as kissfft rounds them) in the order its stages read them.
    void **fftr = (void **)s.fft.scratch;
    const int32_t *sub = (const int32_t *)fftr[0];
    const int16_t *tw = (const int16_t *)(sub + 2 + 64);     // twiddles[k] = {tw[2k], tw[2k + 1]}
    const int32_t plan[] = {4, 64, 4, 16, 4, 4, 4, 1};
    if (s.fft.fft_size != 512 || sub[0] != 256 || sub[1] != 0 || memcmp(sub + 2, plan, sizeof(plan))
        || tw[0] != 32767 || tw[1] != 0) {
        fprintf(stderr, "the FFT is not kissfft's 512-point radix-4 plan that tm_audio_fft.c implements\n");
        return 1;
    }
    const struct FilterbankState *fb = &s.filterbank;
    int weights = 0;
    for (int ch = 0; ch <= fb->num_channels; ch++) {
        const int end = fb->channel_weight_starts[ch] + fb->channel_widths[ch];
        weights = end > weights ? end : weights;
        // tm_audio.c computes each energy where a channel weighs it; the sdist computes the energies of bins
        // start_index..end_index - 1 only (the channels' widths are padded to multiples of 4 beyond them, with
        // zero weights): the two agree while every bin outside has both weights zero
        for (int j = 0; j < fb->channel_widths[ch]; j++) {
            const int bin = fb->channel_frequency_starts[ch] + j, w = fb->channel_weight_starts[ch] + j;
            if ((bin < fb->start_index || bin >= fb->end_index) && (fb->weights[w] || fb->unweights[w])) {
                fprintf(stderr, "filterbank channel %d weighs bin %d, outside %d..%d\n", ch, bin, fb->start_index,
                        fb->end_index - 1);
                return 1;
            }
        }
    }
    printf("// Generated by host/tinyml/features.py (tm_audio_gen.cc): TFLM's audio frontend tables from\n"
           "// FrontendPopulateState in the pymicro-features sdist, for %s ms windows, %s channels, %s-%s Hz.\n",
           argv[1], argv[3], argv[4], argv[5]);
    printf("#define TM_AUDIO_STEP_SAMPLES %u\n", (unsigned)s.window.step);
    printf("#define TM_AUDIO_WINDOW_SAMPLES %u\n", (unsigned)s.window.size);
    printf("#define TM_AUDIO_FFT_SIZE %u\n", (unsigned)s.fft.fft_size);
    printf("#define TM_AUDIO_CHANNELS %d\n", fb->num_channels);
    printf("#define TM_AUDIO_FB_START %d\n#define TM_AUDIO_FB_END %d\n", fb->start_index, fb->end_index);
    printf("#define TM_AUDIO_NR_SMOOTHING_BITS %d\n#define TM_AUDIO_NR_EVEN %u\n#define TM_AUDIO_NR_ODD %u\n"
           "#define TM_AUDIO_NR_MIN_SIGNAL %u\n", s.noise_reduction.smoothing_bits,
           s.noise_reduction.even_smoothing, s.noise_reduction.odd_smoothing,
           s.noise_reduction.min_signal_remaining);
    printf("#define TM_AUDIO_PCAN %d\n#define TM_AUDIO_PCAN_SNR_SHIFT %d\n", s.pcan_gain_control.enable_pcan,
           (int)s.pcan_gain_control.snr_shift);
    printf("#define TM_AUDIO_LOG %d\n#define TM_AUDIO_LOG_SCALE_SHIFT %d\n", s.log_scale.enable_log,
           s.log_scale.scale_shift);
    array16("int16_t", "tm_audio_window", s.window.coefficients, (int)s.window.size);
    // (little-endian ints, as on every target)
    // Stage twiddles: for the stages of 4, 16 and 64 butterflies per group (fstride 16, 4, 1), k = 1..m-1:
    // twiddles[k fstride], [2k fstride], [3k fstride] (k = 0 multiplies by 32767 + 0i, an identity there).
    int16_t stage_tw[(3 + 15 + 63) * 3 * 2];
    int n = 0;
    for (int m = 4; m <= 64; m *= 4) {
        const int fstride = 64 / m;
        for (int k = 1; k < m; k++) {
            for (int q = 1; q <= 3; q++) {
                stage_tw[n++] = tw[2 * q * k * fstride];
                stage_tw[n++] = tw[2 * q * k * fstride + 1];
            }
        }
    }
    array16("int16_t", "tm_audio_fft_twiddles", stage_tw, n);
    array16("int16_t", "tm_audio_super_twiddles", (const int16_t *)fftr[2], (int)(s.fft.fft_size / 4 * 2));
    array16("int16_t", "tm_audio_fb_frequency_starts", fb->channel_frequency_starts, fb->num_channels + 1);
    array16("int16_t", "tm_audio_fb_weight_starts", fb->channel_weight_starts, fb->num_channels + 1);
    array16("int16_t", "tm_audio_fb_widths", fb->channel_widths, fb->num_channels + 1);
    array16("int16_t", "tm_audio_fb_weights", fb->weights, weights);
    array16("int16_t", "tm_audio_fb_unweights", fb->unweights, weights);
    if (s.pcan_gain_control.enable_pcan) {
        array16("int16_t", "tm_audio_pcan_lut", s.pcan_gain_control.gain_lut, kWideDynamicFunctionLUTSize);
    }
    FrontendFreeStateContents(&s);
    return 0;
}
