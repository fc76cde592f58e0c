// Conversions between a tensor's values and the numbers Python hands to predict(): element types of
// buffers (array, ulab, memoryview typecodes), quantization to int8/uint8/int16/int32, dequantization.
//
// float64 and int64 values become float32 here in integer arithmetic: the Cortex-M4F and ESP32 FPUs are
// single precision and native modules link no libgcc, so a plain C cast would call a helper
// (__aeabi_d2f, __aeabi_l2f, __truncdfsf2, ...) that does not exist. Both round to nearest, ties to even,
// as the cast does on a host.
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
static inline float values_f32_from_magnitude(uint64_t m, int32_t exp2, int negative) {
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
    if (v == 0) {
        return 0.0f;
    }
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return values_f32_from_magnitude(m, 0, v < 0);
}

static inline float values_f32_from_u64(uint64_t v) {
    return v ? values_f32_from_magnitude(v, 0, 0) : 0.0f;
}

// A float64 given as its bits.
static inline float values_f32_from_f64_bits(uint64_t bits) {
    const int negative = (int)(bits >> 63);
    const int32_t exp = (int32_t)((bits >> 52) & 0x7ff);
    const uint64_t frac = bits & ((((uint64_t)1) << 52) - 1);
    if (exp == 0x7ff) {
        // infinity, or NaN (kept quiet, with the top of its payload)
        return values_f32_from_bits((negative ? 0x80000000u : 0u) | 0x7f800000u |
            (frac ? 0x400000u | (uint32_t)(frac >> 29) : 0u));
    }
    if (exp == 0) {
        // zero or a float64 subnormal: far below float32's range
        return values_f32_from_bits(negative ? 0x80000000u : 0u);
    }
    return values_f32_from_magnitude(frac | (((uint64_t)1) << 52), exp - 1075, negative);
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

// Element i of a buffer with this typecode, as a float32.
static inline float values_get(const uint8_t *buf, int typecode, uint32_t i) {
    const int size = values_item_size(typecode);
    const uint8_t *p = buf + (size_t)i * (size_t)size;
    switch (typecode) {
        case 'b': return (float)(int8_t)p[0];
        case 'h': { int16_t v; memcpy(&v, p, 2); return (float)v; }
        case 'H': { uint16_t v; memcpy(&v, p, 2); return (float)(int32_t)v; }
        case 'i': { int32_t v; memcpy(&v, p, 4); return (float)v; }
        case 'I': { uint32_t v; memcpy(&v, p, 4); return values_f32_from_u64(v); }
        case 'f': { float v; memcpy(&v, p, 4); return v; }
        case 'd': { uint64_t v; memcpy(&v, p, 8); return values_f32_from_f64_bits(v); }
        case 'l': case 'q': {
            if (size == 4) { int32_t v; memcpy(&v, p, 4); return (float)v; }
            int64_t v; memcpy(&v, p, 8); return values_f32_from_i64(v);
        }
        case 'L': case 'Q': {
            if (size == 4) { uint32_t v; memcpy(&v, p, 4); return values_f32_from_u64(v); }
            uint64_t v; memcpy(&v, p, 8); return values_f32_from_u64(v);
        }
        default: return (float)(int32_t)p[0];                  // 'B', '?', bytearray
    }
}

// round(v / scale) + zero_point clamped to [lo, hi], with the QUANTIZE kernel's rounding (float32
// division, half away from zero). scale 0 (an unquantized integer tensor) takes round(v) as it is.
static inline int32_t values_quantize(float v, float scale, int32_t zero_point, int32_t lo, int32_t hi) {
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
