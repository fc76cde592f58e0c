// Shared by PACK and UNPACK: one tensor (PACK's output, UNPACK's input) is the others (PACK's inputs,
// UNPACK's outputs) stacked along a new axis. Both are byte copies of blocks whose count is the product of
// the dims before the axis.
#ifndef TM_STACK_COMMON_H
#define TM_STACK_COMMON_H

#include "../tm_internal.h"

// Checks that each of the node's inputs (parts_are_inputs) or outputs is `whole` without dim `axis` (already
// checked in range), with whole's type, and gives the product of whole's dims before the axis in *outer.
// Inline: each kernel calls it once (from its get_outer), with a constant parts_are_inputs, so each keeps
// only its own messages.
static inline tm_status_t tm_stack_check(tm_model_t *m, tm_node_t *n, const tm_tensor_t *whole, int32_t axis,
                                         int parts_are_inputs, int32_t *outer) {
    const int rank = whole->ndim;
    const int parts = parts_are_inputs ? n->n_in : n->n_out;
    for (int i = 0; i < parts; i++) {
        tm_tensor_t *t = parts_are_inputs ? tm_in(m, n, i) : tm_out(m, n, i);
        if (!t || t->type != whole->type || t->ndim != rank - 1) {
            return tm_fail(m, parts_are_inputs ? "input %d is missing or differs from the output in type or rank"
                                               : "output %d differs from the input in type or rank", i);
        }
        for (int d = 0; d < rank - 1; d++) {
            if (t->dims[d] != whole->dims[d < axis ? d : d + 1]) {
                return tm_fail(m, parts_are_inputs ? "input %d has dim %d of %d, which does not fit the output"
                                                   : "output %d has dim %d of %d, which does not fit the input",
                               i, d, t->dims[d]);
            }
        }
    }
    *outer = 1;
    for (int d = 0; d < axis; d++) {
        *outer *= whole->dims[d];
    }
    return TM_OK;
}

#endif
