// SPACE_TO_BATCH_ND: 3-D or 4-D, any element type. Keras dilated convolutions can lower to it.
// tinyml-op: SPACE_TO_BATCH_ND 38
// Output batch ob takes the spatial phase (ob / N) of input batch ob % N from the zero-padded input.
// TFLM leaves the padded positions uninitialised (it never sets the pad value); this kernel writes the int8
// output zero point there (0 for other types), which is what TFLite does, so only models whose padded
// positions never reach an output can match TFLM byte for byte.
#include "batch_space_common.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_batch_space_t s = { 0 };
    if (tm_batch_space_read(m, n, &s) != TM_OK) {
        return TM_ERROR;
    }
    // 32-bit arithmetic suffices (dims < 2^28, paddings < 2^24) and avoids 64-bit division.
    const int32_t ph = s.h + s.top + s.bottom, pw = s.w + s.left + s.right;
    if (ph % s.bh || pw % s.bw) {
        return tm_fail(m, "padded size %dx%d is not a multiple of the block %dx%d", ph, pw, s.bh,
            s.bw);
    }
    if ((int64_t)s.n * s.bh * s.bw > (1 << 24)) {
        return tm_fail(m, "block too large");
    }
    return tm_batch_space_output(m, n, &s, s.n * s.bh * s.bw, ph / s.bh, pw / s.bw);
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_batch_space_t s = { 0 };
    tm_batch_space_read(m, n, &s);
    tm_batch_space_copy(&s, 1, s.in->type == TM_INT8 ? (uint8_t)(int8_t)s.out->zero_point : 0);
    return TM_OK;
}

int tm_kernel_space_to_batch_nd(tm_kernel_t *k) {
    k->name = "SPACE_TO_BATCH_ND";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
