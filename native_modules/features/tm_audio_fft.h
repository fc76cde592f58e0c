// The audio frontend's 512-point real FFT (tm_audio_fft.c): kissfft's fixed-point kiss_fftr (FIXED_POINT=16,
// as TFLM's frontend and the pymicro-features wheel use it), bit for bit, without its recursion, its generic
// radix dispatch or its scratch buffers.
#ifndef TM_AUDIO_FFT_H
#define TM_AUDIO_FFT_H

#include <stdint.h>

// Complex values travel packed as kissfft stores them in memory on a little-endian core: one uint32_t with
// the int16 real part in the low half and the imaginary part in the high half.
//
// out[0..256] = kiss_fftr of the 512 samples in `window` (4-byte aligned; samples 480..511 must be zero: the
// frontend's 480-sample window, padded), each first scaled as the frontend's FftCompute does:
// (int16)((uint16)x << shift), 0 <= shift < 16. twiddles: tm_audio_fft_twiddles, super_twiddles: kiss_fftr's
// super twiddles (both from tm_audio_tables.h, 4-byte aligned). out also holds the complex FFT while it runs.
void tm_audio_fft512(const int16_t *window, int shift, const int16_t *twiddles, const int16_t *super_twiddles,
    uint32_t *out);

#endif
