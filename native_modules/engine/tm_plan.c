// The memory plan as int32 words (tm_plan.h). Not in the modules users run: only the host library and
// modules built with PLAN_DUMP=1 (tinyml report --arch) compile it.
#include "tm_internal.h"
#include "tm_plan.h"

uint32_t tm_plan_words(const tm_model_t *m) {
    return TM_PLAN_TOTAL_WORDS + TM_PLAN_TENSOR_WORDS * m->n_tensors + TM_PLAN_NODE_WORDS * m->n_nodes
           + TM_PLAN_SUBGRAPH_WORDS * (uint32_t)m->n_subgraphs + TM_PLAN_VARIABLE_WORDS * (uint32_t)m->n_variables;
}

void tm_plan_export(const tm_model_t *m, int32_t *out) {
    *out++ = (int32_t)m->n_tensors;
    *out++ = (int32_t)m->n_nodes;
    *out++ = m->n_subgraphs;
    *out++ = m->n_variables;
    *out++ = (int32_t)m->activation_bytes;
    *out++ = (int32_t)m->persistent_bytes;
    *out++ = (int32_t)m->state_bytes;
    *out++ = (int32_t)m->arena_bytes;
    *out++ = (int32_t)m->metadata_bytes;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const tm_tensor_t *t = &m->tensors[i];
        *out++ = t->alias >= 0 ? m->tensors[t->alias].arena_offset : t->arena_offset;
        *out++ = (int32_t)t->bytes;
        *out++ = t->alias;
        *out++ = m->lifetimes[i].first_use;
        *out++ = m->lifetimes[i].last_use;
        *out++ = t->is_const;
        *out++ = t->type;
    }
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const tm_node_t *n = &m->nodes[i];
        const tm_node_request_t *req = &m->requests[i];
        *out++ = n->opcode;
        *out++ = req->scratch_bytes ? n->scratch_offset : -1;
        *out++ = (int32_t)req->scratch_bytes;
        *out++ = n->persistent_offset;
        *out++ = (int32_t)req->persistent_bytes;
        *out++ = req->first;
        *out++ = req->last;
        *out++ = n->tensor_base;
        *out++ = req->calls[0];
        *out++ = req->calls[1];
    }
    for (int s = 0; s < m->n_subgraphs; s++) {
        *out++ = m->subgraphs[s].first_node;
        *out++ = m->subgraphs[s].n_nodes;
    }
    for (int v = 0; v < m->n_variables; v++) {
        *out++ = (int32_t)m->variables[v].offset;
        *out++ = (int32_t)m->variables[v].bytes;
        *out++ = m->variables[v].assigned;
    }
}
