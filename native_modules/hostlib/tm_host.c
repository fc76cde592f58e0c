// The engine as a host library, for tests (ctypes) and fuzzing: one opaque handle per model, malloc'd.
#include <stdlib.h>
#include "tm_internal.h"
#include "tm_plan.h"

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

// The plan as int32 words (engine/tm_plan.h's layout) into `out` of `capacity` words; returns the words it
// needs (nothing is written when that is more than capacity).
uint32_t tm_host_plan_export(void *plan, int32_t *out, uint32_t capacity) {
    const tm_model_t *m = plan;
    uint32_t words = tm_plan_words(m);
    if (words <= capacity) {
        tm_plan_export(m, out);
    }
    return words;
}
