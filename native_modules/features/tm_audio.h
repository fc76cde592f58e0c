// TFLM's audio frontend (window, FFT, filterbank, noise reduction, PCAN, log scale), incremental: feed int16
// PCM at 16 kHz in chunks of any length, get 40-channel uint16 frames as windows complete. The frontend's C
// comes from the pymicro-features sdist (tools/fetch_microfrontend.sh, patched for native modules) but for its
// FFT and filterbank (tm_audio_fft.c, tm_audio.c: the same values, faster), its tables from the host
// (tm_audio_gen.cc -> tm_audio_tables.h). Plain C: no allocation, no globals, no libm;
// all state lives in one caller-owned block of tm_audio_bytes() bytes (8-byte aligned).
#ifndef TM_AUDIO_H
#define TM_AUDIO_H

#include <stdint.h>

typedef struct tm_audio tm_audio_t;

uint32_t tm_audio_bytes(void);
uint32_t tm_audio_channels(void);
uint32_t tm_audio_window_samples(void);
// Lays the state out in mem (tm_audio_bytes() long, 8-byte aligned): windows of 30 ms every step_samples
// (160: microWakeWord's 10 ms, 320: micro_speech's 20 ms; 1..480). Returns mem as the frontend.
tm_audio_t *tm_audio_init(void *mem, uint32_t step_samples);
uint32_t tm_audio_step_samples(const tm_audio_t *a);
// Samples held for the next window.
uint32_t tm_audio_pending(const tm_audio_t *a);
// Frames that n more samples would complete.
uint32_t tm_audio_frames_for(const tm_audio_t *a, uint32_t n);
// Consumes all n samples (pcm needs no alignment), writes tm_audio_frames_for(a, n) frames of
// tm_audio_channels() values to out (no alignment needed either), returns how many.
uint32_t tm_audio_process(tm_audio_t *a, const int16_t *pcm, uint32_t n, uint16_t *out);
// Back to the state after init: no samples held, noise estimates at zero.
void tm_audio_reset(tm_audio_t *a);

#endif
