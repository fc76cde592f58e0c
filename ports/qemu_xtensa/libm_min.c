// The float functions of libm that the core itself calls (objfloat.c, formatfloat.c, parsenum.c,
// modbuiltins.c): there is no libm for Xtensa here, and the math module, which needs the rest, is off.
// copysignf, floorf, nearbyintf, fmodf and nanf are exact. powf is exact where the result is (integer
// exponents within float's range multiply by squaring, like the 10**e of float formatting and parsing);
// otherwise it is exp(y * log(x)) from short series, within a few units in the last place.
#include <stdint.h>
#include <math.h>

typedef union {
    float f;
    uint32_t u;
} f32_t;

float fabsf(float x) {
    f32_t a = { x };
    a.u &= 0x7fffffff;
    return a.f;
}

float copysignf(float x, float y) {
    f32_t a = { x }, b = { y };
    a.u = (a.u & 0x7fffffff) | (b.u & 0x80000000);
    return a.f;
}

float nanf(const char *tag) {
    (void)tag;
    f32_t r = { .u = 0x7fc00000 };
    return r.f;
}

float floorf(float x) {
    f32_t a = { x };
    int e = (int)((a.u >> 23) & 0xff) - 127;
    if (e >= 23) {
        return x;                       // already an integer, or inf/nan
    }
    if (e < 0) {                        // |x| < 1
        if ((a.u & 0x7fffffff) == 0) {
            return x;
        }
        a.u = (a.u >> 31) ? 0xbf800000 : 0;     // -1 or +0
        return a.f;
    }
    uint32_t frac = 0x7fffff >> e;
    if ((a.u & frac) == 0) {
        return x;
    }
    if (a.u >> 31) {
        a.u += frac + 1;                // towards -inf: add one unit of the integer part to the magnitude
    }
    a.u &= ~frac;
    return a.f;
}

// Round to the nearest integer, ties to even: adding and subtracting 2^23 leaves no fraction bits, and
// the FPU rounds to nearest even. volatile keeps the compiler from folding the pair away.
float nearbyintf(float x) {
    f32_t a = { x };
    if (((a.u >> 23) & 0xff) >= 127 + 23) {
        return x;
    }
    volatile float big = 8388608.0f;
    float m = fabsf(x);
    volatile float t = m + big;
    float r = t - big;
    return copysignf(r, x);
}

// x - n * y with n = trunc(x / y), exactly: long division of the significands, one bit per exponent step.
float fmodf(float x, float y) {
    f32_t a = { x }, b = { y };
    uint32_t sx = a.u & 0x80000000;
    int ex = (a.u >> 23) & 0xff, ey = (b.u >> 23) & 0xff;
    if ((b.u << 1) == 0 || ex == 0xff || ((b.u & 0x7fffffff) > 0x7f800000)) {
        return (x * y) / (x * y);       // NaN: y zero, x infinite, or a NaN operand
    }
    if ((a.u << 1) <= (b.u << 1)) {
        return (a.u << 1) == (b.u << 1) ? 0.0f * x : x;
    }
    uint32_t mx, my;
    if (ex == 0) {                      // subnormal: normalise, the exponent goes below 1
        for (mx = a.u << 9; !(mx >> 31); mx <<= 1) {
            ex--;
        }
        mx = a.u << (1 - ex);
    } else {
        mx = (a.u & 0x7fffff) | 0x800000;
    }
    if (ey == 0) {
        for (my = b.u << 9; !(my >> 31); my <<= 1) {
            ey--;
        }
        my = b.u << (1 - ey);
    } else {
        my = (b.u & 0x7fffff) | 0x800000;
    }
    for (; ex > ey; ex--) {
        if (mx >= my) {
            mx -= my;
            if (mx == 0) {
                return 0.0f * x;
            }
        }
        mx <<= 1;
    }
    if (mx >= my) {
        mx -= my;
        if (mx == 0) {
            return 0.0f * x;
        }
    }
    for (; !(mx >> 23); mx <<= 1) {
        ex--;
    }
    if (ex > 0) {
        a.u = sx | ((uint32_t)ex << 23) | (mx & 0x7fffff);
    } else {
        a.u = sx | (mx >> (1 - ex));    // subnormal result (exact: the low bits are zero)
    }
    return a.f;
}

// ---- powf ---------------------------------------------------------------------------------------------

static float scale2(float x, int k) {      // x * 2^k, in steps that stay in range
    while (k > 127) {
        x *= 1.7014118e38f;             // 2^127
        k -= 127;
    }
    while (k < -126) {
        x *= 1.1754944e-38f;            // 2^-126
        k += 126;
    }
    f32_t s = { .u = (uint32_t)(k + 127) << 23 };
    return x * s.f;
}

static float log_series(float x) {        // x > 0, finite
    f32_t a = { x };
    int e = (int)((a.u >> 23) & 0xff) - 127;
    if (e == -127) {                    // subnormal
        a.f = x * 8388608.0f;
        e = (int)((a.u >> 23) & 0xff) - 127 - 23;
    }
    a.u = (a.u & 0x7fffff) | 0x3f800000;        // m in [1, 2)
    float m = a.f;
    if (m > 1.41421356f) {
        m *= 0.5f;
        e++;
    }
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;  // log(m) = 2 atanh(s), |s| < 0.172
    float series = s * (2.0f + s2 * (0.6666667f + s2 * (0.4f + s2 * (0.2857143f + s2 * 0.2222222f))));
    return (float)e * 0.69314718f + series;
}

static float exp_series(float z) {
    if (z > 88.8f) {
        return INFINITY;
    }
    if (z < -104.0f) {
        return 0.0f;
    }
    int k = (int)nearbyintf(z * 1.44269504f);
    float r = (z - (float)k * 0.693145752f) - (float)k * 1.42860677e-6f;     // ln 2 in two parts
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f
        + r * 0.0013888889f)))));
    return scale2(p, k);
}

float powf(float x, float y) {
    if (y == 0.0f) {
        return 1.0f;
    }
    if (isnan(x) || isnan(y)) {
        return x + y;
    }
    if (floorf(y) == y && fabsf(y) < 2147483648.0f) {
        // Integer exponent: square and multiply (exact while the products are representable).
        int32_t n = (int32_t)y;
        uint32_t k = n < 0 ? -(uint32_t)n : (uint32_t)n;
        float result = 1.0f, base = x;
        while (k) {
            if (k & 1) {
                result *= base;
            }
            base *= base;
            k >>= 1;
        }
        return n < 0 ? 1.0f / result : result;
    }
    if (x < 0.0f) {
        return nanf("");                // a negative base with a non-integer exponent
    }
    if (x == 0.0f) {
        return y > 0.0f ? 0.0f : INFINITY;
    }
    if (isinf(x)) {
        return y > 0.0f ? INFINITY : 0.0f;
    }
    return exp_series(y * log_series(x));
}
