// Conversions between a tensor's values and the numbers Python hands to predict(): buffer element sizes
// (array, ulab, memoryview typecodes), quantization to int8/uint8/int16/int32, int64 to float32.
//
// int64 values become float32 here in integer arithmetic: native modules link no libgcc, so a plain C cast
// would call a helper (__aeabi_l2f, __floatdisf) that does not exist. It rounds to nearest, ties to even,
// as the cast does on a host. (float64 and 64-bit integer *inputs* are read by MicroPython's own
// mp_binary_get_val_array, which the firmware links with its libgcc: less native code, which on the ESP32
// takes scarce IRAM.)
#ifndef TINYML_VALUES_H
#define TINYML_VALUES_H

#include <stdint.h>
#include <string.h>

static inline float values_f32_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// |m| (a nonzero magnitude below 2^64) times 2^exp2, rounded to float32 (nearest, ties to even).
__attribute__((noinline)) static float values_f32_from_magnitude(uint64_t m, int32_t exp2, int negative) {
    int top = 63;
    while (!(m >> top)) {
        top--;
    }
    // Normalise to 2^top: the float's exponent is top + exp2; keep 24 bits, round with the rest.
    int32_t e = top + exp2;
    uint32_t sign = negative ? 0x80000000u : 0u;
    if (e > 127) {
        return values_f32_from_bits(sign | 0x7f800000u);        // overflow: infinity
    }
    int keep = 24;                                              // significand bits of a normal float
    if (e < -126) {
        keep = 24 - (-126 - e);                                 // subnormal: fewer bits
        if (keep < 0) {
            return values_f32_from_bits(sign);                  // far below the smallest subnormal
        }
    }
    int drop = top + 1 - keep;                                  // low bits rounded away
    if (drop > 63) {
        return values_f32_from_bits(sign);                      // (not reached by the callers' inputs)
    }
    uint64_t q;
    if (drop <= 0) {
        q = m << -drop;
    } else {
        q = m >> drop;
        uint64_t rest = m & ((((uint64_t)1) << drop) - 1), half = ((uint64_t)1) << (drop - 1);
        if (rest > half || (rest == half && (q & 1))) {
            q++;
        }
    }
    // q < 2^keep, or == 2^keep after rounding up (then the exponent grows by one, or a subnormal becomes
    // the smallest normal; both fall out of adding the fields below).
    uint32_t bits;
    if (e < -126) {
        bits = (uint32_t)q;                                     // exponent field 0 (or 1 if q carried)
    } else {
        bits = ((uint32_t)(e + 127) << 23) + ((uint32_t)q - 0x800000u);
        if ((bits >> 23) >= 0xff) {
            bits = 0x7f800000u;
        }
    }
    return values_f32_from_bits(sign | bits);
}

static inline float values_f32_from_i64(int64_t v) {
    if (v == (int32_t)v) {
        return (float)(int32_t)v;                               // the common case: one instruction (or i2f)
    }
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return values_f32_from_magnitude(m, 0, v < 0);
}

// Size in bytes of one element of a buffer with this typecode (MicroPython's array/memoryview/ulab codes,
// bytearray's 1), or 0 for codes predict() does not take as numbers.
static inline int values_item_size(int typecode) {
    switch (typecode) {
        case 1: case 'b': case 'B': case '?': return 1;
        case 'h': case 'H': return 2;
        case 'i': case 'I': case 'f': return 4;
        case 'l': case 'L': return (int)sizeof(long);
        case 'q': case 'Q': case 'd': return 8;
        default: return 0;
    }
}

// A little-endian integer of `size` bytes (1, 2, 4 or 8), sign-extended if `is_signed`.
static inline int64_t values_int_at(const uint8_t *p, int size, int is_signed) {
    uint64_t u = 0;
    for (int k = size - 1; k >= 0; k--) {
        u = u << 8 | p[k];
    }
    if (is_signed && size < 8) {
        const uint64_t sign = (uint64_t)1 << (8 * size - 1);
        u = (u ^ sign) - sign;
    }
    return (int64_t)u;
}

// round(v / scale) + zero_point clamped to [lo, hi], with the QUANTIZE kernel's rounding (float32
// division, half away from zero). scale 0 (an unquantized integer tensor) takes round(v) as it is.
__attribute__((noinline)) static int32_t values_quantize(float v, float scale, int32_t zero_point, int32_t lo,
    int32_t hi) {
    float q = scale != 0.0f ? v / scale : v;
    if (q != q) {                                               // NaN: no meaningful value
        q = 0.0f;
    }
    // Inside int32, where the conversion below is defined: 2147483520 is the largest float below 2^31.
    q = q > 2147483520.0f ? 2147483520.0f : (q < -2147483648.0f ? -2147483648.0f : q);
    int32_t r = (int32_t)(q >= 0 ? q + 0.5f : q - 0.5f);
    if (q >= 0 ? (float)r - q > 0.5f : q - (float)r > 0.5f) {
        r += q >= 0 ? -1 : 1;
    }
    // + zero_point in 64 bits (r near the int32 limits, zero_point up to them), then clamped.
    const int64_t z = (int64_t)r + zero_point;
    return z < lo ? lo : (z > hi ? hi : (int32_t)z);
}

#endif
