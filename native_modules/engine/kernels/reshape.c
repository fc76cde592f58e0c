// RESHAPE (also serves SQUEEZE and EXPAND_DIMS): the same bytes under the model's output shape.
// tinyml-op: RESHAPE 22
// tinyml-op: SQUEEZE 43
// tinyml-op: EXPAND_DIMS 70
// The planner lets the output share the input's storage, so eval usually has nothing to copy.
#include "../tm_internal.h"

enum { OP_SPACE_TO_BATCH_ND = 38 };

// Keras' dilated Conv1D under a dynamic batch: SPACE_TO_BATCH_ND multiplies the batch, and the converter writes
// the EXPAND_DIMS after it with batch 1 (TFLM computes with that and differs from TF Lite). The refusal says
// what fixes it, in `tinyml check`'s words.
static int after_space_to_batch(tm_model_t *m, tm_node_t *n) {
    const int32_t t = tm_in_index(m, n, 0);
    for (tm_node_t *p = m->nodes; p < n; p++) {
        if (p->opcode == OP_SPACE_TO_BATCH_ND && p->n_out && tm_out_index(m, p, 0) == t) {
            return 1;
        }
    }
    return 0;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (in->bytes != out->bytes && after_space_to_batch(m, n)) {
        return tm_fail(m, "dilated Conv1D with Keras' dynamic batch: convert with keras.Input(shape=..., batch_size=1)");
    }
    if (in->type != out->type || in->bytes != out->bytes) {
        return tm_fail(m, "output (%u bytes of %s) differs from input (%u bytes of %s)", out->bytes,
            tm_type_name(out->type), in->bytes, tm_type_name(in->type));
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (out->data != in->data) {
        memmove(out->data, in->data, in->bytes);
    }
    return TM_OK;
}

int tm_kernel_reshape(tm_kernel_t *k) {
    k->name = "RESHAPE";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 1;
    return 1;
}
