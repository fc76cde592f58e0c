// GATHER: slices of the input along `axis` picked by int32 indices (tf.gather; the step input of a Keras
// LSTM/GRU loop reading its sequence), with batch_dims, as TFLM's gather.cc: float32 and int8 values (a byte
// copy per slice). An index outside the axis fails the invoke (TFLM reads out of bounds there).
// tinyml-types: int8 float32
// tinyml-op: GATHER 36
#include "../tm_internal.h"

enum { OPT_AXIS = 0, OPT_BATCH_DIMS = 1 };

typedef struct {
    int32_t batches, outer, axis_size, coords, inner_bytes;
} gather_params_t;

// The sizes of TFLM's loops; fails on what TFLM's Prepare refuses.
static tm_status_t plan(tm_model_t *m, tm_node_t *n, gather_params_t *p) {
    const tm_tensor_t *in = tm_in(m, n, 0), *idx = tm_in(m, n, 1), *out = tm_out(m, n, 0);
    int32_t axis = tm_opt_i32(m, n, OPT_AXIS, 0), batch_dims = tm_opt_i32(m, n, OPT_BATCH_DIMS, 0);
    axis += axis < 0 ? in->ndim : 0;
    batch_dims += batch_dims < 0 ? idx->ndim : 0;
    if (axis < 0 || axis >= in->ndim) {
        return tm_fail(m, "axis %d is outside the input's %d dimensions", axis, in->ndim);
    }
    if (batch_dims < 0 || batch_dims > axis || batch_dims > idx->ndim) {
        return tm_fail(m, "batch_dims %d is out of range", batch_dims);
    }
    p->batches = p->outer = p->coords = 1;
    int32_t inner = 1;
    for (int d = 0; d < in->ndim; d++) {
        if (d < batch_dims) {
            if (in->dims[d] != idx->dims[d]) {
                return tm_fail(m, "batch dimension %d differs between input and indices", d);
            }
            p->batches *= in->dims[d];
        } else if (d < axis) {
            p->outer *= in->dims[d];
        } else if (d > axis) {
            inner *= in->dims[d];
        }
    }
    for (int d = batch_dims; d < idx->ndim; d++) {
        p->coords *= idx->dims[d];
    }
    p->axis_size = in->dims[axis];
    p->inner_bytes = inner * (int32_t)tm_type_size(in->type);
    if ((uint32_t)p->batches * (uint32_t)p->outer * (uint32_t)p->coords * (uint32_t)p->inner_bytes != out->bytes) {
        return tm_fail(m, "output has %u bytes, the gathered slices %d", out->bytes,
            p->batches * p->outer * p->coords * p->inner_bytes);
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 2, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    const tm_tensor_t *in = tm_in(m, n, 0);
    if (!tm_is_f32(in) && in->type != TM_INT8) {
        return tm_fail(m, "input type %s is not supported (float32, int8, as in TFLM)", tm_type_name(in->type));
    }
    if (tm_expect_type(m, tm_in(m, n, 1), TM_INT32, "indices") || tm_expect_type(m, tm_out(m, n, 0), in->type, "output")) {
        return TM_ERROR;
    }
    gather_params_t p;
    req->persistent_bytes = sizeof(gather_params_t);
    return plan(m, n, &p);
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    return plan(m, n, tm_persistent(m, n));
}

// The gather with slices of `slice` bytes. Always inlined: where eval passes a literal (a slice of one int8 or
// one float32 value, GATHER of scalars) each slice is an inline copy (TM_COPY_SMALL), else a memcpy call.
static TM_ALWAYS_INLINE tm_status_t gather(tm_model_t *m, const gather_params_t *p, const uint8_t *in,
    const int32_t *idx, uint8_t *out, uint32_t slice) {
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t o = 0; o < p->outer; o++) {
            const uint8_t *from = in + (uint32_t)(b * p->outer + o) * (uint32_t)p->axis_size * slice;
            for (int32_t c = 0; c < p->coords; c++) {
                const int32_t k = idx[b * p->coords + c];
                if (k < 0 || k >= p->axis_size) {
                    return tm_fail(m, "index %d is outside [0, %d)", k, p->axis_size);
                }
                TM_COPY_SMALL(out, from + (uint32_t)k * slice, slice);
                out += slice;
            }
        }
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const gather_params_t *p = tm_persistent(m, n);
    const uint8_t *in = tm_in(m, n, 0)->data;
    const int32_t *idx = (const int32_t *)tm_in(m, n, 1)->data;
    uint8_t *out = tm_out(m, n, 0)->data;
    switch (p->inner_bytes) {
        case 1:
            return gather(m, p, in, idx, out, 1);
        case 4:
            return gather(m, p, in, idx, out, 4);
        default:
            return gather(m, p, in, idx, out, (uint32_t)p->inner_bytes);
    }
}

int tm_kernel_gather(tm_kernel_t *k) {
    k->name = "GATHER";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
