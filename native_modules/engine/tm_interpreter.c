// Binding the plan to an arena, preparing kernels, and running the graph.
#include "tm_internal.h"

static tm_status_t node_error(tm_model_t *m, uint32_t i, const char *stage) {
    char detail[TM_ERR_LEN];
    memcpy(detail, m->error, TM_ERR_LEN);
    m->failed_node = (int32_t)i;
    return tm_fail(m, "%s operator %u (%s): %s", stage, i, tm_opcode_name(m->nodes[i].opcode), detail);
}

tm_status_t tm_model_prepare(tm_model_t *m, uint8_t *arena) {
    m->arena = arena;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        if (m->lifetimes && m->lifetimes[i].reshaped) {
            int32_t *dims = (int32_t *)(arena + m->lifetimes[i].shape_offset);
            memcpy(dims, m->lifetimes[i].dims, m->tensors[i].ndim * 4u);
            m->tensors[i].dims = dims;
        }
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        tm_tensor_t *t = &m->tensors[i];
        if (!t->is_const && t->alias < 0 && t->arena_offset >= 0) {
            t->data = arena + t->arena_offset;
        }
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        tm_tensor_t *t = &m->tensors[i];
        if (t->alias >= 0) {
            t->data = m->tensors[t->alias].data;
        }
    }
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        tm_node_t *n = &m->nodes[i];
        tm_kernel_t k;
        tm_kernel_lookup(n->opcode, &k);
        if (k.prepare && k.prepare(m, n) != TM_OK) {
            return node_error(m, i, "preparing");
        }
    }
    tm_model_reset(m);
    // The planning tail of the metadata block is no longer needed: the caller may shrink the block now.
    m->lifetimes = 0;
    m->requests = 0;
    return TM_OK;
}

void tm_model_reset(tm_model_t *m) {
    if (!m->arena) {
        return;
    }
    for (uint32_t v = 0; v < m->n_variables; v++) {
        const tm_variable_t *var = &m->variables[v];
        if (var->assigned) {
            memset(m->arena + var->offset, (uint8_t)var->fill, var->bytes);
        }
    }
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        tm_kernel_t k;
        tm_kernel_lookup(m->nodes[i].opcode, &k);
        if (k.reset) {
            k.reset(m, &m->nodes[i]);
        }
    }
}

tm_status_t tm_model_invoke(tm_model_t *m) {
    if (!m->arena) {
        return tm_fail(m, "model is not prepared");
    }
    return tm_run_subgraph(m, 0);
}

tm_status_t tm_run_subgraph(tm_model_t *m, uint32_t s) {
    const uint32_t first = m->subgraphs[s].first_node, end = first + m->subgraphs[s].n_nodes;
    for (uint32_t i = first; i < end; i++) {
        tm_node_t *n = &m->nodes[i];
        uint32_t t0 = m->clock ? m->clock(m->clock_ctx) : 0;
        if (n->eval(m, n) != TM_OK) {
            return node_error(m, i, "running");
        }
        if (m->clock && m->node_ticks) {
            m->node_ticks[i] += m->clock(m->clock_ctx) - t0;
        }
    }
    return TM_OK;
}
