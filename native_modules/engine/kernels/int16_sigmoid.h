// TFLM's int16 sigmoid and tanh (reference_integer_ops::Logistic and Tanh): the kernels LOGISTIC and TANH on
// int16 tensors and the integer LSTM's gates and cell read one table through these, so that the bit-exact
// arithmetic stands in one place.
#ifndef TM_INT16_SIGMOID_H
#define TM_INT16_SIGMOID_H

#include "int16_activation_tables.h"

// The input x rescaled by TFLM's integer multiplier and right shift (rounded), as both activations take it.
static inline int32_t tm_int16_act_input(int32_t x, int32_t mult, int32_t shift) {
    const int32_t round = shift > 0 ? 1 << (shift - 1) : 0;
    return (x * mult + round) >> shift;
}

// sigmoid (tanh = 0) or tanh (tanh = 1) of a rescaled input v, Q0.15: |v| indexes the sigmoid(i/24) table in
// steps of 2^9 (sigmoid) or 2^8 (tanh, whose argument is doubled: tanh(x) = 2 sigmoid(2x) - 1), interpolated
// on the bits below, saturated at the table's end, mirrored for negative v. One body for both, as LOGISTIC's
// loop takes either (two specialised copies cost it 216 bytes of Cortex-M4 code).
static inline int16_t tm_int16_sigmoid_or_tanh(int32_t v, int tanh) {
    const int bits = tanh ? 8 : 9;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v), h = a >> bits;
    uint32_t r;
    if (h >= 255) {
        r = tanh ? 0xFFFFu << 8 : 0x7FFFu << 10;
    } else {
        const uint32_t ua = tm_sigmoid_table[h], ub = tm_sigmoid_table[h + 1];
        r = (ua << bits) + (a & ((1u << bits) - 1)) * (ub - ua);
    }
    if (tanh) {
        const int32_t s = v >= 0 ? (int32_t)r - (1 << 23) + (1 << 7) : -(int32_t)r + (1 << 23) + (1 << 7) - 1;
        return (int16_t)(s >> 8);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    return (int16_t)(r >> 10);
}

#endif
