// RESIZE_NEAREST_NEIGHBOR: 4-D NHWC, int8, int16 or float32 (a byte copy of each chosen pixel); Keras
// Resizing with nearest interpolation (Keras 3's UpSampling2D converts to TILE instead). The source row/column of each output row/column is computed
// as TFLM's GetNearestNeighbor does, in float32 (align_corners rounds half away from zero, otherwise floor;
// half_pixel_centers adds 0.5), so the same pixels are chosen.
// tinyml-types: int8 int16 float32
// tinyml-op: RESIZE_NEAREST_NEIGHBOR 97
#include "../tm_internal.h"
#include "../tm_quant.h"

enum { OPT_ALIGN_CORNERS = 0, OPT_HALF_PIXEL_CENTERS = 1 };

static tm_status_t check(tm_model_t *m, tm_node_t *n) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *size = tm_in(m, n, 1), *out = tm_out(m, n, 0);
    if (in->ndim != 4 || out->ndim != 4) {
        return tm_fail(m, "input and output must be 4-D (NHWC), are %d-D and %d-D", in->ndim, out->ndim);
    }
    if (in->type != out->type || (in->type != TM_INT8 && in->type != TM_INT16 && in->type != TM_FLOAT32)) {
        return tm_fail(m, "input and output must both be int8, int16 or float32");
    }
    if (tm_expect_type(m, size, TM_INT32, "size") != TM_OK) {
        return TM_ERROR;
    }
    if (!size->is_const || size->ndim != 1 || size->dims[0] != 2) {
        return tm_fail(m, "size must be a constant int32 vector of 2 (dynamic sizes are unsupported, as in TFLM)");
    }
    const int32_t h = tm_load_i32(size->data), w = tm_load_i32(size->data + 4);
    if (h != out->dims[1] || w != out->dims[2] || in->dims[0] != out->dims[0] || in->dims[3] != out->dims[3]) {
        return tm_fail(m, "output is %dx%dx%dx%d, resizing the input to %dx%d gives %dx%dx%dx%d", out->dims[0],
            out->dims[1], out->dims[2], out->dims[3], h, w, in->dims[0], h, w, in->dims[3]);
    }
    if ((in->dims[1] == 0 || in->dims[2] == 0) && h * w != 0) {
        return tm_fail(m, "empty input");
    }
    return TM_OK;
}

// Persistent data: the options, read once by prepare.
typedef struct {
    uint8_t align, half;            // align_corners, half_pixel_centers
} resize_params_t;

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    req->persistent_bytes = sizeof(resize_params_t);
    return check(m, n);
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    resize_params_t *p = tm_persistent(m, n);
    p->align = tm_opt_u8(m, n, OPT_ALIGN_CORNERS, 0) != 0;
    p->half = tm_opt_u8(m, n, OPT_HALF_PIXEL_CENTERS, 0) != 0;
    return TM_OK;
}

// TFLM's GetNearestNeighbor, in the same float32 operations.
static int32_t nearest(int32_t i, int32_t in_size, int32_t out_size, int align, int half) {
    const float scale = (align && out_size > 1) ? (float)(in_size - 1) / (float)(out_size - 1)
                                                : (float)in_size / (float)out_size;
    const float v = ((float)i + (half ? 0.5f : 0.0f)) * scale;  // >= 0, so truncation is floor
    int32_t o = align ? tm_round_f32(v) : (int32_t)v;
    o = o < in_size - 1 ? o : in_size - 1;
    if (half && o < 0) {
        o = 0;
    }
    return o;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    const resize_params_t *p = tm_persistent(m, n);
    const int align = p->align, half = p->half;
    const int32_t batches = in->dims[0], ih = in->dims[1], iw = in->dims[2];
    const int32_t oh = out->dims[1], ow = out->dims[2];
    const uint32_t pixel = (uint32_t)in->dims[3] * tm_type_size(in->type);
    const uint8_t *x = in->data;
    uint8_t *y = out->data;
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t oy = 0; oy < oh; oy++) {
            const uint8_t *row = x + ((uint32_t)(b * ih + nearest(oy, ih, oh, align, half)) * (uint32_t)iw) * pixel;
            for (int32_t ox = 0; ox < ow; ox++) {
                memcpy(y, row + (uint32_t)nearest(ox, iw, ow, align, half) * pixel, pixel);
                y += pixel;
            }
        }
    }
    return TM_OK;
}

int tm_kernel_resize_nearest_neighbor(tm_kernel_t *k) {
    k->name = "RESIZE_NEAREST_NEIGHBOR";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
