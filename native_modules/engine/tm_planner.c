// Arena planning: every intermediate tensor and every node's scratch buffer gets an offset in one block,
// so that buffers alive at the same time never overlap. Greedy by size (largest first, lowest offset that
// fits), like TFLM's greedy planner. Reshape-like ops share their input's storage.
#include "tm_internal.h"

#define ALIGN 16u

static uint32_t align16(uint32_t n) {
    return (n + ALIGN - 1) & ~(ALIGN - 1);
}

// Items to place: tensors [0, n_tensors) and node scratch buffers [n_tensors, n_tensors + n_nodes).
typedef struct {
    uint32_t bytes;
    int32_t first, last;
    int32_t *offset;
} item_t;

static int get_item(tm_model_t *m, uint32_t i, item_t *it) {
    if (i < m->n_tensors) {
        tm_tensor_t *t = &m->tensors[i];
        tm_lifetime_t *life = &m->lifetimes[i];
        if (t->is_const || t->alias >= 0 || life->first_use == -2) {
            return 0;
        }
        it->bytes = align16(t->bytes);
        it->first = life->first_use;
        it->last = life->last_use;
        it->offset = &t->arena_offset;
    } else {
        tm_node_t *n = &m->nodes[i - m->n_tensors];
        uint32_t scratch = m->requests[i - m->n_tensors].scratch_bytes;
        if (scratch == 0) {
            return 0;
        }
        it->bytes = align16(scratch);
        it->first = it->last = (int32_t)(n - m->nodes);
        it->offset = &n->scratch_offset;
    }
    return it->bytes > 0;
}

static void link_aliases(tm_model_t *m) {
    // The output of a reshape-like op shares its input's storage when the input is an arena tensor and is
    // not a model output (model outputs must keep their own bytes). The root's lifetime covers both.
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        tm_node_t *n = &m->nodes[i];
        tm_kernel_t k;
        int32_t in_index = tm_in_index(m, n, 0), out_index = tm_out_index(m, n, 0);
        if (!tm_kernel_lookup(n->opcode, &k) || !k.reshapes || in_index < 0) {
            continue;
        }
        tm_tensor_t *in = &m->tensors[in_index];
        tm_tensor_t *out = &m->tensors[out_index];
        int root = in->alias >= 0 ? in->alias : in_index;
        int is_model_io = 0;
        for (int j = 0; j < m->n_outputs; j++) {
            is_model_io |= m->outputs[j] == out_index || m->outputs[j] == root;
        }
        for (int j = 0; j < m->n_inputs; j++) {
            is_model_io |= m->inputs[j] == out_index;
        }
        if (in->is_const || is_model_io || in->bytes != out->bytes) {
            continue;
        }
        out->alias = (int16_t)root;
        if (m->lifetimes[out_index].last_use > m->lifetimes[root].last_use) {
            m->lifetimes[root].last_use = m->lifetimes[out_index].last_use;
        }
    }
}

tm_status_t tm_plan_memory(tm_model_t *m) {
    link_aliases(m);
    uint32_t n_items = m->n_tensors + m->n_nodes;
    for (uint32_t i = 0; i < n_items; i++) {
        item_t it;
        if (get_item(m, i, &it)) {
            *it.offset = -2; // unplaced
        }
    }
    uint32_t total = 0;
    for (;;) {
        // Next: the largest unplaced item (ties: earliest first use), O(n^2) but n is small.
        item_t best = { 0, 0, 0, 0 };
        int found = 0;
        for (uint32_t i = 0; i < n_items; i++) {
            item_t it;
            if (get_item(m, i, &it) && *it.offset == -2 &&
                (!found || it.bytes > best.bytes || (it.bytes == best.bytes && it.first < best.first))) {
                best = it;
                found = 1;
            }
        }
        if (!found) {
            break;
        }
        // Lowest offset where it overlaps no placed item that is alive at the same time.
        uint32_t offset = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (uint32_t i = 0; i < n_items; i++) {
                item_t o;
                if (!get_item(m, i, &o) || *o.offset < 0 || o.last < best.first || o.first > best.last) {
                    continue;
                }
                uint32_t lo = (uint32_t)*o.offset, hi = lo + o.bytes;
                if (offset < hi && lo < offset + best.bytes) {
                    offset = hi;
                    moved = 1;
                }
            }
        }
        *best.offset = (int32_t)offset;
        if (offset + best.bytes > total) {
            total = offset + best.bytes;
        }
    }
    m->activation_bytes = total;
    // Persistent buffers follow the activations, each 8-byte aligned.
    uint32_t persistent = 0;
    total = (total + 7u) & ~7u;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        uint32_t bytes = m->requests[i].persistent_bytes;
        m->nodes[i].persistent_offset = bytes ? (int32_t)(total + persistent) : -1;
        persistent += (bytes + 7u) & ~7u;
    }
    // Shapes set by kernels (tm_set_shape) move from the planning tail into the arena at prepare.
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        if (m->lifetimes[i].reshaped) {
            m->lifetimes[i].shape_offset = (int32_t)(total + persistent);
            persistent += (m->tensors[i].ndim * 4u + 7u) & ~7u;
        }
    }
    m->persistent_bytes = persistent;
    m->arena_bytes = total + persistent;
    return TM_OK;
}
