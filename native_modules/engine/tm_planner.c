// Arena planning: every intermediate tensor and every node's scratch buffer gets an offset in one block,
// so that buffers alive at the same time never overlap. Greedy by size (largest first, lowest offset that
// fits), like TFLM's greedy planner. Reshape-like ops share their input's storage.
//
// Cost: O(n^2) for n = tensors + nodes. Each of the n placements scans every item once to pick the next
// (largest) one, and once more, in offset order, to find its lowest free gap among the placed items alive
// at the same time; keeping that order is an O(n) insertion. All sizes and offsets are unsigned and checked:
// a plan that does not fit in TM_MAX_ARENA_BYTES is refused with an error, never wrapped.
#include "tm_internal.h"

#define ALIGN 16u

static uint32_t align16(uint32_t n) {
    return (n + ALIGN - 1) & ~(ALIGN - 1);   // n <= MAX_TENSOR_BYTES (tm_model.c), far from wrapping
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
        if (t->is_const || t->alias >= 0 || life->first_use == -2 || t->type == TM_RESOURCE) {
            return 0;
        }
        it->bytes = align16(t->bytes);
        it->first = life->first_use;
        it->last = life->last_use;
        it->offset = &t->arena_offset;
    } else {
        tm_node_t *n = &m->nodes[i - m->n_tensors];
        const tm_node_request_t *req = &m->requests[i - m->n_tensors];
        if (req->scratch_bytes == 0) {
            return 0;
        }
        it->bytes = align16(req->scratch_bytes);
        it->first = req->first;
        it->last = req->last;
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
        if (!tm_kernel_lookup(n->opcode, &k) || !k.reshapes || n->n_out == 0 || tm_in_index(m, n, 0) < 0) {
            continue;
        }
        int32_t in_index = tm_in_index(m, n, 0), out_index = tm_out_index(m, n, 0);
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

// a + b, or 0 (and *ok cleared) if the sum passes TM_MAX_ARENA_BYTES.
static uint32_t add_checked(uint32_t a, uint32_t b, int *ok) {
    if (a > TM_MAX_ARENA_BYTES || b > TM_MAX_ARENA_BYTES - a) {
        *ok = 0;
        return 0;
    }
    return a + b;
}

static tm_status_t too_large(tm_model_t *m, const char *what) {
    return tm_fail(m, "the model needs more than %u bytes of %s: it cannot run on a microcontroller",
        TM_MAX_ARENA_BYTES, what);
}

tm_status_t tm_plan_memory(tm_model_t *m, uint32_t *placed) {
    link_aliases(m);
    const uint32_t n_items = m->n_tensors + m->n_nodes;
    for (uint32_t i = 0; i < n_items; i++) {
        item_t it;
        if (get_item(m, i, &it)) {
            *it.offset = -2; // unplaced
        }
    }
    // `placed`: the items placed so far, by increasing offset (n_items entries of scratch).
    uint32_t n_placed = 0, total = 0;
    int ok = 1;
    for (;;) {
        // Next: the largest unplaced item (ties: earliest first use).
        item_t best = { 0, 0, 0, 0 };
        uint32_t best_index = 0;
        int found = 0;
        for (uint32_t i = 0; i < n_items; i++) {
            item_t it;
            if (get_item(m, i, &it) && *it.offset == -2 &&
                (!found || it.bytes > best.bytes || (it.bytes == best.bytes && it.first < best.first))) {
                best = it;
                best_index = i;
                found = 1;
            }
        }
        if (!found) {
            break;
        }
        // Lowest offset where it overlaps no placed item alive at the same time: one pass in offset order,
        // stepping past each such item that reaches into [offset, offset + bytes).
        uint32_t offset = 0;
        for (uint32_t k = 0; k < n_placed; k++) {
            item_t o;
            get_item(m, placed[k], &o);
            if (o.last < best.first || o.first > best.last) {
                continue;
            }
            const uint32_t lo = (uint32_t)*o.offset, hi = lo + o.bytes;
            if (lo >= add_checked(offset, best.bytes, &ok) && ok) {
                break;
            }
            offset = offset > hi ? offset : hi;
        }
        const uint32_t end = add_checked(offset, best.bytes, &ok);
        if (!ok) {
            return too_large(m, "tensor arena");
        }
        *best.offset = (int32_t)offset;
        total = end > total ? end : total;
        // Keep `placed` sorted by offset.
        uint32_t slot;
        for (slot = n_placed; slot > 0; slot--) {
            item_t o;
            get_item(m, placed[slot - 1], &o);
            if ((uint32_t)*o.offset <= offset) {
                break;
            }
            placed[slot] = placed[slot - 1];
        }
        placed[slot] = best_index;
        n_placed++;
    }
    m->activation_bytes = total;
    // Persistent buffers follow the activations, each 8-byte aligned.
    uint32_t persistent = 0;
    total = add_checked(total, 7u, &ok) & ~7u;
    for (uint32_t i = 0; i < m->n_nodes && ok; i++) {
        uint32_t bytes = m->requests[i].persistent_bytes;
        m->nodes[i].persistent_offset = bytes ? (int32_t)add_checked(total, persistent, &ok) : -1;
        persistent = add_checked(persistent, add_checked(bytes, 7u, &ok) & ~7u, &ok);
    }
    // Shapes set by kernels (tm_set_shape) move from the planning tail into the arena at prepare.
    for (uint32_t i = 0; i < m->n_tensors && ok; i++) {
        if (m->lifetimes[i].reshaped) {
            m->lifetimes[i].shape_offset = (int32_t)add_checked(total, persistent, &ok);
            persistent = add_checked(persistent, (m->tensors[i].ndim * 4u + 7u) & ~7u, &ok);
        }
    }
    // Resource variables: the model's state, kept across invokes. Each VAR_HANDLE output is a view of its
    // variable's storage.
    uint32_t state = 0;
    for (uint32_t v = 0; v < m->n_variables && ok; v++) {
        tm_variable_t *var = &m->variables[v];
        if (var->assigned) {
            var->offset = add_checked(total, persistent, &ok);
            uint32_t bytes = add_checked(var->bytes, 7u, &ok) & ~7u;
            persistent = add_checked(persistent, bytes, &ok);
            state += bytes;
        }
    }
    for (uint32_t i = 0; i < m->n_tensors && ok; i++) {
        int32_t v = m->lifetimes[i].variable;
        if (m->tensors[i].type == TM_RESOURCE && v >= 0 && m->variables[v].assigned) {
            m->tensors[i].arena_offset = (int32_t)m->variables[v].offset;
            m->tensors[i].bytes = m->variables[v].bytes;
        }
    }
    m->arena_bytes = add_checked(total, persistent, &ok);
    if (!ok) {
        return too_large(m, "arena (per-operator data and variables)");
    }
    m->persistent_bytes = persistent;
    m->state_bytes = state;
    return TM_OK;
}
