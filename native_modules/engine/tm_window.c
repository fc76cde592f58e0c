// The geometry of the windowed kernels (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D): TFLM's
// padding rule, the shape checks against the model's output dims, and the rebuild from what prepare kept
// (kernels/spatial_common.h declares it). An optional engine source: the build links it only when one of
// those kernels is in (`// tinyml-uses: tm_window.c`), and once, however many of them are.
#include "kernels/spatial_common.h"

// One spatial dimension: checks the model's output size `out` against TFLM's rule and gives the leading pad.
// TFLM loops over the model's output dims; requiring them to equal the computed ones keeps every tap that
// passes the in-image test inside the input, and rejects models TFLM would run on garbage geometry.
static tm_status_t tm_window_dim(tm_model_t *m, const char *what, int padding, int32_t in, int32_t k,
    int32_t stride, int32_t dil, int32_t out, int32_t *pad) {
    if (stride < 1 || dil < 1 || stride > 0xffff || dil > 0xffff) {
        return tm_fail(m, "%s: stride %d and dilation %d must be in 1..65535", what, stride, dil);
    }
    if (in < 1 || k < 1 || out < 1) {
        return tm_fail(m, "%s: empty input (%d), kernel (%d) or output (%d)", what, in, k, out);
    }
    int64_t keff = (int64_t)(k - 1) * dil + 1;
    if (keff > (1 << 28)) {
        return tm_fail(m, "%s: dilated kernel too large", what);
    }
    int64_t lo = (int64_t)(out - 1) * stride;
    if (padding == TM_PAD_VALID) {
        if (keff > in) {
            return tm_fail(m, "%s: kernel (%d, dilated %d) larger than the input (%d) with VALID padding", what,
                k, (int32_t)keff, in);
        }
        // out == (in - keff) / stride + 1
        if (!(lo <= in - keff && in - keff < lo + stride)) {
            return tm_fail(m, "%s: model's output size %d disagrees with VALID padding (input %d, kernel %d)",
                what, out, in, (int32_t)keff);
        }
    } else if (padding == TM_PAD_SAME) {
        // out == ceil(in / stride)
        if (!(lo < in && in <= lo + stride)) {
            return tm_fail(m, "%s: model's output size %d disagrees with SAME padding (input %d, stride %d)",
                what, out, in, stride);
        }
    } else {
        return tm_fail(m, "unknown padding type %d", padding);
    }
    int64_t total = lo + keff - in;
    *pad = total > 0 ? (int32_t)(total >> 1) : 0;
    return TM_OK;
}

// See kernels/spatial_common.h.
tm_status_t tm_window_init(tm_model_t *m, tm_window_t *g, const tm_tensor_t *in,
    const tm_tensor_t *out, int padding, const tm_window_keep_t *kept) {
    if (!kept && (in->ndim != 4 || out->ndim != 4)) {
        return tm_fail(m, "input and output must be 4-D NHWC, got %d-D and %d-D", in->ndim, out->ndim);
    }
    g->batches = in->dims[0];
    g->in_h = in->dims[1];
    g->in_w = in->dims[2];
    g->in_c = in->dims[3];
    g->out_h = out->dims[1];
    g->out_w = out->dims[2];
    g->out_c = out->dims[3];
    if (kept) {
        g->stride_h = kept->stride_h;
        g->stride_w = kept->stride_w;
        g->dil_h = kept->dil_h;
        g->dil_w = kept->dil_w;
        g->pad_h = kept->pad_h;
        g->pad_w = kept->pad_w;
        return TM_OK;
    }
    if (out->dims[0] != g->batches) {
        // A dynamic batch stored as 1 (Keras' default) that an earlier op resized: follow the input.
        int32_t dims[4] = { g->batches, out->dims[1], out->dims[2], out->dims[3] };
        if (!tm_dynamic_batch(m, out) || tm_set_shape(m, (tm_tensor_t *)out, dims, 4) != TM_OK) {
            return tm_fail(m, "output batch %d differs from input batch %d", out->dims[0], g->batches);
        }
    }
    if (g->batches < 1 || g->in_c < 1 || g->out_c < 1) {
        return tm_fail(m, "empty input or output");
    }
    if (tm_window_dim(m, "height", padding, g->in_h, g->k_h, g->stride_h, g->dil_h, g->out_h, &g->pad_h) ||
        tm_window_dim(m, "width", padding, g->in_w, g->k_w, g->stride_w, g->dil_w, g->out_w, &g->pad_w)) {
        return TM_ERROR;
    }
    return TM_OK;
}
