// What IF and WHILE share: moving tensors between the calling node's inputs/outputs and a called subgraph's,
// as TFLM does (kernel_util.cc, Copy*ToSubgraph*/CopyOpInputsToOpOutputs): a copy of the bytes, skipped where
// both tensors are the same storage. The loader (tm_model.c, check_callees) has checked the callee indices and
// the numbers of inputs and outputs; init checks each pair here, once, so eval only copies.
#ifndef TM_SUBGRAPH_CALL_H
#define TM_SUBGRAPH_CALL_H

#include "../tm_internal.h"

// Input (output = 0) or output (output = 1) `i` of subgraph `s`.
static inline tm_tensor_t *tm_subgraph_io(tm_model_t *m, uint32_t s, int output, int i) {
    const tm_subgraph_t *sg = &m->subgraphs[s];
    const int32_t *v = (const int32_t *)(m->buf + (output ? sg->out_pos : sg->in_pos));
    return &m->tensors[sg->tensor_base + v[i]];
}

// The callee indices a node's options name (the loader checked them): IF then/else, WHILE cond/body.
static inline void tm_callees(tm_model_t *m, tm_node_t *n, int16_t *callees) {
    callees[0] = (int16_t)tm_opt_i32(m, n, 0, 0);
    callees[1] = (int16_t)tm_opt_i32(m, n, 1, 0);
}

// prepare of both: the callees into the node's persistent data (init asked for 2 * int16_t), read by eval.
static inline tm_status_t tm_prepare_callees(tm_model_t *m, tm_node_t *n) {
    tm_callees(m, n, tm_persistent(m, n));
    return TM_OK;
}

// A copy `from` -> `to` that eval will make: same type and byte size (TFLM checks the sizes on every copy and
// fails the invoke; a loop whose tensors change shape between iterations needs dynamic tensors, which neither
// TFLM nor this engine has), and never into a constant.
static inline tm_status_t tm_check_copy(tm_model_t *m, const tm_tensor_t *from, const tm_tensor_t *to,
                                        const char *what, int i) {
    if (to->is_const) {
        return tm_fail(m, "%s %d is a constant tensor, which cannot be written", what, i);
    }
    if (from->type != to->type || from->bytes != to->bytes) {
        return tm_fail(m, "%s %d: %u bytes of %s passed where the subgraph has %u bytes of %s (tensors that "
            "change shape between subgraphs are not supported, as in TFLM)", what, i, from->bytes,
            tm_type_name(from->type), to->bytes, tm_type_name(to->type));
    }
    return TM_OK;
}

static inline void tm_copy_tensor(tm_tensor_t *to, const tm_tensor_t *from) {
    if (to->data != from->data) {
        memcpy(to->data, from->data, from->bytes);
    }
}

// Subgraph s's outputs copied to the node's outputs (IF's branch results, each WHILE iteration's new values).
static inline void tm_outputs_from_subgraph(tm_model_t *m, tm_node_t *n, uint32_t s) {
    for (int i = 0; i < n->n_out; i++) {
        tm_copy_tensor(tm_out(m, n, i), tm_subgraph_io(m, s, 1, i));
    }
}

#endif
