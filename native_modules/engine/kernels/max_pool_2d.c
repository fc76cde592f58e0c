// tinyml-types: int8 int16 float32
// MAX_POOL_2D: int8, int16 (16x8) and float32; the maximum over the in-image part of each window.
// tinyml-op: MAX_POOL_2D 17
// tinyml-uses: tm_window.c
#include "spatial_common.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_window_t g = { 0 };
    if (tm_pool_init(m, n, &g, 0) != TM_OK) {
        return TM_ERROR;
    }
    req->persistent_bytes = sizeof(tm_pool_params_t);
    return TM_OK;
}

// One output pixel of an integer pool: the running maximum from the type's lowest value over the taps, then
// the fused activation's clamp. A macro for int8 and int16 alike.
#define MAX_POOL_INT_PIXEL(T, LOWEST)                                                              \
    do {                                                                                           \
        T *yo = (T *)y;                                                                            \
        const T *x = (const T *)in->data;                                                          \
        for (int32_t c = 0; c < ch; c++) {                                                         \
            yo[c] = (LOWEST);                                                                      \
        }                                                                                          \
        for (int32_t ky = ky0; ky < ky1; ky++) {                                                   \
            for (int32_t kx = kx0; kx < kx1; kx++) {                                               \
                const T *xp = x + ((b * g.in_h + y0 + ky) * g.in_w + x0 + kx) * ch;                \
                for (int32_t c = 0; c < ch; c++) {                                                 \
                    yo[c] = xp[c] > yo[c] ? xp[c] : yo[c];                                         \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (int32_t c = 0; c < ch; c++) {                                                         \
            yo[c] = (T)tm_clamp(yo[c], lo, hi);                                                    \
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
    uint8_t *y = out->data;
    for (int32_t b = 0; b < g.batches; b++) {
        for (int32_t oy = 0; oy < g.out_h; oy++) {
            int32_t y0, ky0, ky1;
            tm_pool_range(&g, 1, oy, &y0, &ky0, &ky1);
            for (int32_t ox = 0; ox < g.out_w; ox++) {
                int32_t x0, kx0, kx1;
                tm_pool_range(&g, 0, ox, &x0, &kx0, &kx1);
                // The output pixel is the running maximum: start at the lowest value, fold in each tap.
                if (!is_f32 && !is_int16) {
                    MAX_POOL_INT_PIXEL(int8_t, -128);
#if TM_INT16_KERNELS    // a dead branch, yet it changed GCC's int8 loop (kws average pool: +176 M4 instructions)
                } else if (!is_f32) {
                    MAX_POOL_INT_PIXEL(int16_t, -32768);
#endif
                } else {
                    float *yo = (float *)y;
                    const float *x = (const float *)in->data;
                    for (int32_t c = 0; c < ch; c++) {
                        yo[c] = -3.402823466e38f;
                    }
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        for (int32_t kx = kx0; kx < kx1; kx++) {
                            const float *xp = x + ((b * g.in_h + y0 + ky) * g.in_w + x0 + kx) * ch;
                            for (int32_t c = 0; c < ch; c++) {
                                yo[c] = yo[c] < xp[c] ? xp[c] : yo[c]; // std::max(max, x)
                            }
                        }
                    }
                    for (int32_t c = 0; c < ch; c++) {
                        float v = yo[c] < flo ? flo : yo[c];
                        yo[c] = v > fhi ? fhi : v;
                    }
                    y += ch * 4;
                }
            }
        }
    }
    return TM_OK;
}

int tm_kernel_max_pool_2d(tm_kernel_t *k) {
    k->name = "MAX_POOL_2D";
    k->init = init;
    k->prepare = tm_pool_prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
