// tinyml-types: int8 int16 float32
// AVERAGE_POOL_2D: int8, int16 (16x8) and float32. Border windows average only their in-image values, as TFLM
// does; int8 and int16 share TFLM's integer arithmetic (an int32 sum, rounded half away from zero).
// tinyml-op: AVERAGE_POOL_2D 1
// tinyml-uses: tm_window.c
#include "spatial_common.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_window_t g = { 0 };
    if (tm_pool_init(m, n, &g, 0) != TM_OK) {
        return TM_ERROR;
    }
    // Sums per channel for one output pixel (int32, or float).
    req->scratch_bytes = (uint32_t)g.in_c * 4u;
    req->persistent_bytes = sizeof(tm_pool_params_t);
    return TM_OK;
}

// One output pixel of an integer pool: the channels' int32 sums over the window's taps, then TFLM's rounded
// average (half away from zero: (s +- count/2) / count, truncating), clamped. A macro for int8 and int16 alike.
#define AVG_POOL_INT_PIXEL(T)                                                                      \
    do {                                                                                           \
        const T *x = (const T *)in->data;                                                          \
        for (int32_t c = 0; c < ch; c++) {                                                         \
            isum[c] = 0;                                                                           \
        }                                                                                          \
        for (int32_t ky = ky0; ky < ky1; ky++) {                                                   \
            for (int32_t kx = kx0; kx < kx1; kx++) {                                               \
                const T *xp = x + ((b * g.in_h + y0 + ky) * g.in_w + x0 + kx) * ch;                \
                for (int32_t c = 0; c < ch; c++) {                                                 \
                    isum[c] += xp[c];                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        T *yo = (T *)y;                                                                            \
        for (int32_t c = 0; c < ch; c++) {                                                         \
            int32_t s = isum[c];                                                                   \
            int32_t avg = s > 0 ? (s + count / 2) / count : (s - count / 2) / count;               \
            yo[c] = (T)tm_clamp(avg, lo, hi);                                                      \
        }                                                                                          \
        y += ch * (int32_t)sizeof(T);                                                              \
    } while (0)

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_window_t g = { 0 };
    const tm_pool_params_t *p = tm_persistent(m, n);
    tm_pool_init(m, n, &g, p);
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    const int32_t ch = g.in_c;
    // tm_is_f32 and tm_is_i16 are constant 0 in builds without float32 or int16 paths: those branches drop out
    // (the int16 one by the preprocessor too, below).
    const int is_f32 = tm_is_f32(in), is_int16 = tm_is_i16(in);
    const int32_t lo = p->lo, hi = p->hi;
    const float flo = p->flo, fhi = p->fhi;
    int32_t *isum = tm_scratch(m, n);
    float *fsum = tm_scratch(m, n);
    uint8_t *y = out->data;
    for (int32_t b = 0; b < g.batches; b++) {
        for (int32_t oy = 0; oy < g.out_h; oy++) {
            int32_t y0, ky0, ky1;
            tm_pool_range(&g, 1, oy, &y0, &ky0, &ky1);
            for (int32_t ox = 0; ox < g.out_w; ox++) {
                int32_t x0, kx0, kx1;
                tm_pool_range(&g, 0, ox, &x0, &kx0, &kx1);
                const int32_t count = (ky1 > ky0 && kx1 > kx0) ? (ky1 - ky0) * (kx1 - kx0) : 0;
                if (count == 0) {
                    return tm_fail(m, "empty pooling window");
                }
                // Channels innermost so that the sums vectorize; each channel still adds its taps in TFLM's
                // row-major order, which keeps the float sums bit-exact.
                if (!is_f32 && !is_int16) {
                    AVG_POOL_INT_PIXEL(int8_t);
#if TM_INT16_KERNELS    // a dead branch, yet it changed GCC's int8 loop (kws average pool: +176 M4 instructions)
                } else if (!is_f32) {
                    AVG_POOL_INT_PIXEL(int16_t);
#endif
                } else {
                    const float *x = (const float *)in->data;
                    for (int32_t c = 0; c < ch; c++) {
                        fsum[c] = 0.0f;
                    }
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        for (int32_t kx = kx0; kx < kx1; kx++) {
                            const float *xp = x + ((b * g.in_h + y0 + ky) * g.in_w + x0 + kx) * ch;
                            for (int32_t c = 0; c < ch; c++) {
                                fsum[c] += xp[c];
                            }
                        }
                    }
                    float *yo = (float *)y;
                    const float fcount = (float)count;
                    for (int32_t c = 0; c < ch; c++) {
                        float v = fsum[c] / fcount;
                        v = v < flo ? flo : v;
                        yo[c] = v > fhi ? fhi : v;
                    }
                    y += ch * 4;
                }
            }
        }
    }
    return TM_OK;
}

int tm_kernel_average_pool_2d(tm_kernel_t *k) {
    k->name = "AVERAGE_POOL_2D";
    k->init = init;
    k->prepare = tm_pool_prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
