// The engine as a host library, for tests (ctypes) and fuzzing: one opaque handle per model, malloc'd.
#include <stdlib.h>
#include "tm_internal.h"

typedef struct {
    tm_model_t *m;
    uint8_t *arena;
    char error[TM_ERR_LEN];
} tm_host_t;

// Load and prepare a model; returns NULL and fills `error` on failure. `buf` must outlive the handle.
// `options`: tm_model_load's (TM_KEEP_INPUTS).
void *tm_host_open(const uint8_t *buf, size_t len, uint32_t options, char *error) {
    uint32_t block_bytes;
    if (tm_model_measure(buf, len, &block_bytes, error) != TM_OK) {
        return NULL;
    }
    tm_host_t *h = calloc(1, sizeof(tm_host_t));
    void *block = malloc(block_bytes);
    if (!h || !block || tm_model_load(block, block_bytes, buf, len, options, error) != TM_OK) {
        free(h);
        free(block);
        return NULL;
    }
    h->m = block;
    h->arena = malloc(h->m->arena_bytes ? h->m->arena_bytes : 8);
    if (tm_model_prepare(h->m, h->arena) != TM_OK) {
        memcpy(error, h->m->error, TM_ERR_LEN);
        free(h->arena);
        free(h->m);
        free(h);
        return NULL;
    }
    return h;
}

void tm_host_close(void *handle) {
    tm_host_t *h = handle;
    if (h) {
        free(h->arena);
        free(h->m);
        free(h);
    }
}

int tm_host_invoke(void *handle, char *error) {
    tm_host_t *h = handle;
    if (tm_model_invoke(h->m) != TM_OK) {
        memcpy(error, h->m->error, TM_ERR_LEN);
        return 1;
    }
    return 0;
}

void tm_host_reset(void *handle) {
    tm_model_reset(((tm_host_t *)handle)->m);
}

// Pointer to input/output tensor i (kind 0 = input, 1 = output) and its size; NULL if out of range.
uint8_t *tm_host_tensor(void *handle, int kind, int i, uint32_t *bytes) {
    tm_host_t *h = handle;
    int n = kind ? h->m->n_outputs : h->m->n_inputs;
    if (i < 0 || i >= n) {
        return NULL;
    }
    tm_tensor_t *t = &h->m->tensors[kind ? h->m->outputs[i] : h->m->inputs[i]];
    *bytes = t->bytes;
    return t->data;
}

// Arena and descriptor bytes, as the MicroPython module reports them.
uint32_t tm_host_arena_bytes(void *handle) {
    tm_host_t *h = handle;
    return h->m->arena_bytes + h->m->metadata_bytes;
}

// Bytes of resource variables (the model's state across invokes), part of the arena.
uint32_t tm_host_state_bytes(void *handle) {
    return ((tm_host_t *)handle)->m->state_bytes;
}

// ---- The memory plan, for `tinyml report`: what tm_model_load decided, read back from the engine itself.
// A plan handle is a loaded model that is never prepared: the planner's lifetimes stay in the block's tail
// (prepare drops them), and no arena is allocated.

void *tm_host_plan_open(const uint8_t *buf, size_t len, uint32_t options, char *error) {
    uint32_t block_bytes;
    if (tm_model_measure(buf, len, &block_bytes, error) != TM_OK) {
        return NULL;
    }
    void *block = malloc(block_bytes);
    if (!block || tm_model_load(block, block_bytes, buf, len, options, error) != TM_OK) {
        free(block);
        return NULL;
    }
    return block;
}

void tm_host_plan_close(void *plan) {
    free(plan);
}

// out: n_tensors, n_nodes, n_subgraphs, n_variables, activation_bytes, persistent_bytes, state_bytes,
// arena_bytes, metadata_bytes.
void tm_host_plan_totals(void *plan, int32_t out[9]) {
    tm_model_t *m = plan;
    out[0] = (int32_t)m->n_tensors;
    out[1] = (int32_t)m->n_nodes;
    out[2] = m->n_subgraphs;
    out[3] = m->n_variables;
    out[4] = (int32_t)m->activation_bytes;
    out[5] = (int32_t)m->persistent_bytes;
    out[6] = (int32_t)m->state_bytes;
    out[7] = (int32_t)m->arena_bytes;
    out[8] = (int32_t)m->metadata_bytes;
}

// Tensor i (engine numbering: subgraph by subgraph). out: arena_offset (-1: not in the arena), bytes,
// alias (the tensor whose storage it shares, or -1), first_use, last_use (subgraph 0's node indices; -1 =
// before the first node, n_nodes of subgraph 0 = after the last; -2 = never written), is_const, type.
void tm_host_plan_tensor(void *plan, uint32_t i, int32_t out[7]) {
    tm_model_t *m = plan;
    const tm_tensor_t *t = &m->tensors[i];
    out[0] = t->alias >= 0 ? m->tensors[t->alias].arena_offset : t->arena_offset;
    out[1] = (int32_t)t->bytes;
    out[2] = t->alias;
    out[3] = m->lifetimes[i].first_use;
    out[4] = m->lifetimes[i].last_use;
    out[5] = t->is_const;
    out[6] = t->type;
}

// Node i (all subgraphs, in order). out: opcode, scratch_offset, scratch_bytes, persistent_offset,
// persistent_bytes, first, last (when it runs, in subgraph 0's node indices), tensor_base, calls.
void tm_host_plan_node(void *plan, uint32_t i, int32_t out[9]) {
    tm_model_t *m = plan;
    const tm_node_t *n = &m->nodes[i];
    const tm_node_request_t *req = &m->requests[i];
    out[0] = n->opcode;
    out[1] = req->scratch_bytes ? n->scratch_offset : -1;
    out[2] = (int32_t)req->scratch_bytes;
    out[3] = n->persistent_offset;
    out[4] = (int32_t)req->persistent_bytes;
    out[5] = req->first;
    out[6] = req->last;
    out[7] = n->tensor_base;
    out[8] = req->calls;
}

// Subgraph s. out: first_node, n_nodes.
void tm_host_plan_subgraph(void *plan, uint32_t s, int32_t out[2]) {
    tm_model_t *m = plan;
    out[0] = m->subgraphs[s].first_node;
    out[1] = m->subgraphs[s].n_nodes;
}

// Variable v. out: offset, bytes, assigned.
void tm_host_plan_variable(void *plan, uint32_t v, int32_t out[3]) {
    tm_model_t *m = plan;
    out[0] = (int32_t)m->variables[v].offset;
    out[1] = (int32_t)m->variables[v].bytes;
    out[2] = m->variables[v].assigned;
}
