// RESHAPE (also serves SQUEEZE and EXPAND_DIMS): the same bytes under the model's output shape.
// tinyml-op: RESHAPE 22
// tinyml-op: SQUEEZE 43
// tinyml-op: EXPAND_DIMS 70
// The planner lets the output share the input's storage, so eval usually has nothing to copy.
#include "../tm_internal.h"

// Keras' dilated Conv1D under a dynamic batch (Keras' default Input(shape)): SPACE_TO_BATCH_ND multiplies the
// batch by the block size, and the converter writes the EXPAND_DIMS (and the RESHAPE that squeezes) around the
// CONV_2D with a placeholder batch of 1. TF Lite computes output shapes at run time, so these outputs hold the
// input's batch; TFLM keeps the stored shape and computes a different result. Follow TF Lite, as
// SPACE_TO_BATCH_ND (batch_space_common.h) and CONV_2D (tm_window.c) do: a dynamic-batch output stored with
// batch 1 takes the input's batch, only when both batches are the model's dynamic one and the rest of the
// output's shape holds exactly one input batch. Anything else keeps its shape and fails the size check below.
static tm_status_t follow_input_batch(tm_model_t *m, tm_tensor_t *in, tm_tensor_t *out) {
    if (in->bytes == out->bytes || in->type != out->type || in->ndim < 1 || out->ndim < 1 || out->dims[0] != 1 ||
        in->dims[0] < 2 || !tm_dynamic_batch(m, in) || !tm_dynamic_batch(m, out) ||
        (uint64_t)out->bytes * (uint32_t)in->dims[0] != in->bytes) {
        return TM_OK;
    }
    int32_t dims[TM_MAX_DIMS];
    memcpy(dims, out->dims, out->ndim * sizeof(int32_t));
    dims[0] = in->dims[0];
    return tm_set_shape(m, out, dims, out->ndim);
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    if (tm_expect_io(m, n, 1, 2, 1) != TM_OK) {
        return TM_ERROR;
    }
    tm_tensor_t *in = tm_in(m, n, 0), *out = tm_out(m, n, 0);
    if (follow_input_batch(m, in, out) != TM_OK) {
        return TM_ERROR;
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
