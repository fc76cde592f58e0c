// BATCH_TO_SPACE_ND: 3-D or 4-D, any element type; the inverse of SPACE_TO_BATCH_ND, then cropping.
// tinyml-op: BATCH_TO_SPACE_ND 37
// Input batch ib holds spatial phase (ib / N_out) of output batch ib % N_out; cropped positions are dropped.
#include "batch_space_common.h"

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    tm_batch_space_t s = { 0 };
    if (tm_batch_space_read(m, n, &s) != TM_OK) {
        return TM_ERROR;
    }
    if ((int64_t)s.bh * s.bw > s.n || s.n % (s.bh * s.bw)) {
        return tm_fail(m, "input batch %d is not a multiple of the block size %dx%d", s.n, s.bh, s.bw);
    }
    const int64_t oh = (int64_t)s.h * s.bh - s.top - s.bottom, ow = (int64_t)s.w * s.bw - s.left - s.right;
    if (oh < 0 || ow < 0 || oh > (1 << 24) || ow > (1 << 24)) {
        return tm_fail(m, "crops larger than the output");
    }
    return tm_batch_space_output(m, n, &s, s.n / (s.bh * s.bw), (int32_t)oh, (int32_t)ow);
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_batch_space_t s = { 0 };
    tm_batch_space_read(m, n, &s);
    tm_batch_space_copy(&s, 0, 0);
    return TM_OK;
}

int tm_kernel_batch_to_space_nd(tm_kernel_t *k) {
    k->name = "BATCH_TO_SPACE_ND";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
