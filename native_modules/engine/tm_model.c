// Loading a .tflite model: verify the flatbuffer, build tensor and node descriptors, check the graph.
#include "tm_internal.h"

enum { BUILTIN_QUANTIZE = 114 };   // converts float32 input by definition, so every build keeps it
// Ops the loader itself knows: CALL_ONCE (which subgraph runs when, for planning) and the resource variable
// ops (the only ones allowed to touch RESOURCE tensors).
enum { BUILTIN_CALL_ONCE = 129, BUILTIN_VAR_HANDLE = 142, BUILTIN_READ_VARIABLE = 143, BUILTIN_ASSIGN_VARIABLE = 144 };
// Ops that run other subgraphs (their callees are options 0 and 1), also known to the loader for planning.
enum { BUILTIN_IF = 118, BUILTIN_WHILE = 119 };

// Field numbers in the TFLite schema.
enum { MODEL_VERSION = 0, MODEL_OPCODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { SG_TENSORS = 0, SG_INPUTS = 1, SG_OUTPUTS = 2, SG_OPERATORS = 3 };
enum { T_SHAPE = 0, T_TYPE = 1, T_BUFFER = 2, T_QUANT = 4, T_VARIABLE = 5, T_SPARSITY = 6, T_SIGNATURE = 7 };
enum { Q_SCALE = 2, Q_ZERO_POINT = 3, Q_DIM = 6 };
enum { OP_OPCODE = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3, OP_OPTIONS = 4 };
enum { OC_DEPRECATED = 0, OC_CUSTOM = 1, OC_VERSION = 2, OC_BUILTIN = 3 };
enum { BUF_DATA = 0, BUF_OFFSET = 1 };

#define MAX_TENSORS 4096
#define MAX_NODES 2048
#define MAX_TENSOR_BYTES (1u << 28)

static uint32_t align8(uint32_t n) {
    return (n + 7u) & ~7u;
}

typedef struct {
    tm_fb_t fb;
    uint32_t subs, n_sub;                       // the subgraphs
    uint32_t subgraph, tensors, operators;      // the subgraph being read (select_subgraph)
    uint32_t n_tensors, n_ops;
    uint32_t opcodes, buffers, n_opcodes, n_buffers;
    uint32_t total_tensors, total_ops, var_handles;   // over all subgraphs
} reader_t;

static tm_status_t select_subgraph(reader_t *r, uint32_t s, char *error) {
    r->subgraph = tm_fb_vector_table(&r->fb, r->subs, s);
    r->tensors = tm_fb_vector(&r->fb, r->subgraph, SG_TENSORS, 4, &r->n_tensors);
    r->operators = tm_fb_vector(&r->fb, r->subgraph, SG_OPERATORS, 4, &r->n_ops);
    if (r->fb.bad) {
        tm_format(error, "model is truncated or corrupt (bad offsets in subgraph %u)", s);
        return TM_ERROR;
    }
    return TM_OK;
}

// The builtin code of opcode table entry `index`, or -1 if there is none.
static int32_t builtin_code(reader_t *r, uint32_t index) {
    if (index >= r->n_opcodes) {
        return -1;
    }
    uint32_t oc = tm_fb_vector_table(&r->fb, r->opcodes, index);
    int32_t deprecated = (int8_t)tm_fb_field_u8(&r->fb, oc, OC_DEPRECATED, 0);
    int32_t builtin = tm_fb_field_i32(&r->fb, oc, OC_BUILTIN, 0);
    return builtin > deprecated ? builtin : deprecated;
}

static tm_status_t open_model(reader_t *r, const uint8_t *buf, size_t len, char *error) {
    if (buf == 0 || len < 8) {
        tm_format(error, "model is empty or truncated (%u bytes)", (uint32_t)len);
        return TM_ERROR;
    }
    if ((uintptr_t)buf & 3) {
        tm_format(error, "model buffer is not 4-byte aligned: copy it into a new bytes or bytearray object");
        return TM_ERROR;
    }
    if (len > 0x7fffffff) {
        tm_format(error, "model larger than 2 GB");
        return TM_ERROR;
    }
    if (buf[4] != 'T' || buf[5] != 'F' || buf[6] != 'L' || buf[7] != '3') {
        tm_format(error, "not a TensorFlow Lite model (no TFL3 identifier): give a .tflite file");
        return TM_ERROR;
    }
    tm_fb_t fb = { buf, (uint32_t)len, 0 };
    r->fb = fb;
    uint32_t root = tm_fb_root(&r->fb);
    uint32_t version = (uint32_t)tm_fb_field_i32(&r->fb, root, MODEL_VERSION, 0);
    r->subs = tm_fb_vector(&r->fb, root, MODEL_SUBGRAPHS, 4, &r->n_sub);
    r->opcodes = tm_fb_vector(&r->fb, root, MODEL_OPCODES, 4, &r->n_opcodes);
    r->buffers = tm_fb_vector(&r->fb, root, MODEL_BUFFERS, 4, &r->n_buffers);
    if (r->fb.bad) {
        tm_format(error, "model is truncated or corrupt (bad offsets in the model header)");
        return TM_ERROR;
    }
    if (version != 3) {
        tm_format(error, "model schema version %u is not supported (expected 3)", version);
        return TM_ERROR;
    }
    if (r->n_sub < 1) {
        tm_format(error, "model has no subgraph");
        return TM_ERROR;
    }
    if (r->n_sub > TM_MAX_SUBGRAPHS) {
        tm_format(error, "model has %u subgraphs (at most %u supported)", r->n_sub, TM_MAX_SUBGRAPHS);
        return TM_ERROR;
    }
    r->total_tensors = r->total_ops = r->var_handles = 0;
    for (uint32_t s = 0; s < r->n_sub; s++) {
        if (select_subgraph(r, s, error) != TM_OK) {
            return TM_ERROR;
        }
        r->total_tensors += r->n_tensors;   // each below 2^30 (vector lengths are bounded by the buffer)
        r->total_ops += r->n_ops;
        if (r->total_tensors > MAX_TENSORS || r->total_ops > MAX_NODES) {
            tm_format(error, "model too large: %u tensors and %u operators (limits %u, %u)", r->total_tensors,
                r->total_ops, MAX_TENSORS, MAX_NODES);
            return TM_ERROR;
        }
        // VAR_HANDLE ops bound the number of resource variables (their descriptors are kept).
        for (uint32_t i = 0; i < r->n_ops; i++) {
            uint32_t table = tm_fb_vector_table(&r->fb, r->operators, i);
            uint32_t index = (uint32_t)tm_fb_field_i32(&r->fb, table, OP_OPCODE, 0);
            r->var_handles += !r->fb.bad && builtin_code(r, index) == BUILTIN_VAR_HANDLE;
        }
        if (r->fb.bad) {
            tm_format(error, "model is truncated or corrupt (bad operators in subgraph %u)", s);
            return TM_ERROR;
        }
    }
    return select_subgraph(r, 0, error);
}

// The kept part of the block: the model, tensors, nodes, subgraphs, then variables (last, so that unused
// variable slots are given back with the planning tail).
static uint32_t kept_bytes(const reader_t *r) {
    return align8(sizeof(tm_model_t)) + align8(r->total_tensors * sizeof(tm_tensor_t)) +
           align8(r->total_ops * sizeof(tm_node_t)) + align8(r->n_sub * sizeof(tm_subgraph_t)) +
           align8(r->var_handles * sizeof(tm_variable_t));
}

tm_status_t tm_model_measure(const uint8_t *buf, size_t len, uint32_t *block_bytes, char *error) {
    reader_t r;
    if (open_model(&r, buf, len, error) != TM_OK) {
        return TM_ERROR;
    }
    *block_bytes = kept_bytes(&r) + align8(r.total_tensors * sizeof(tm_lifetime_t)) +
        align8(r.total_ops * sizeof(tm_node_request_t)) +
        align8((r.total_tensors + r.total_ops) * sizeof(uint32_t));
    return TM_OK;
}

// Validate a vector of tensor indices (subgraph or operator inputs/outputs); *pos receives its position.
// Indices are the subgraph's own: below r->n_tensors.
static tm_status_t check_indices(tm_model_t *m, reader_t *r, uint32_t table, int field, uint32_t *pos,
    uint8_t *count, int allow_omitted, const char *what) {
    uint32_t n;
    uint32_t v = tm_fb_vector(&r->fb, table, field, 4, &n);
    if (r->fb.bad || (v & 3)) {
        return tm_fail(m, "corrupt model: bad %s list", what);
    }
    // Only operator inputs (the one list that may omit tensors) go beyond TM_MAX_IO: nothing copies them.
    const uint32_t max = allow_omitted ? TM_MAX_OP_INPUTS : TM_MAX_IO;
    if (n > max) {
        return tm_fail(m, "%u %s: at most %d are supported", n, what, (int)max);
    }
    for (uint32_t i = 0; i < n; i++) {
        int32_t idx = (int32_t)tm_fb_u32(&r->fb, v + 4 * i);
        if (idx < (allow_omitted ? -1 : 0) || idx >= (int32_t)r->n_tensors) {
            return tm_fail(m, "corrupt model: %s refers to tensor %d of %u", what, idx, r->n_tensors);
        }
    }
    *pos = v;
    *count = (uint8_t)n;
    return TM_OK;
}

static tm_status_t read_io(tm_model_t *m, reader_t *r, int field, int16_t *out, uint8_t *count, const char *what) {
    uint32_t pos;
    if (check_indices(m, r, r->subgraph, field, &pos, count, 0, what) != TM_OK) {
        return TM_ERROR;
    }
    for (int i = 0; i < *count; i++) {
        out[i] = (int16_t)tm_load_i32(m->buf + pos + 4 * i);
        if (m->tensors[out[i]].type == TM_RESOURCE) {
            return tm_fail(m, "%s: tensor %d is a resource variable handle, which the caller cannot pass",
                what, out[i]);
        }
    }
    return TM_OK;
}

// Tensor `local` of the subgraph being read becomes m->tensors[i].
static tm_status_t load_tensor(tm_model_t *m, reader_t *r, uint32_t local, uint32_t i) {
    tm_tensor_t *t = &m->tensors[i];
    tm_fb_t *fb = &r->fb;
    uint32_t table = tm_fb_vector_table(fb, r->tensors, local);
    uint32_t ndim;
    uint32_t shape = tm_fb_vector(fb, table, T_SHAPE, 4, &ndim);
    t->type = (uint8_t)tm_fb_field_u8(fb, table, T_TYPE, 0);
    uint32_t buffer = (uint32_t)tm_fb_field_i32(fb, table, T_BUFFER, 0);
    uint32_t quant = tm_fb_table(fb, table, T_QUANT);
    if (fb->bad) {
        return tm_fail(m, "corrupt model: tensor %u is unreadable", i);
    }
    if (tm_fb_field(fb, table, T_SPARSITY, 4)) {
        return tm_fail(m, "tensor %u is sparse: sparse tensors are not supported", i);
    }
    if (shape & 3) {
        return tm_fail(m, "corrupt model: shape of tensor %u is misaligned", i);
    }
    if (ndim > TM_MAX_DIMS) {
        return tm_fail(m, "tensor %u has %u dimensions (at most %d supported)", i, ndim, TM_MAX_DIMS);
    }
    // A RESOURCE tensor (VAR_HANDLE's output) has no bytes of its own: it stands for its variable's storage.
    uint32_t size = t->type == TM_RESOURCE ? 1 : tm_type_size(t->type);
    if (size == 0) {
        return tm_fail(m, "tensor %u has type %s, which is not supported", i, tm_type_name(t->type));
    }
    uint64_t bytes = size;
    t->ndim = (uint8_t)ndim;
    t->dims = (const int32_t *)(fb->b + shape);
    for (uint32_t d = 0; d < ndim; d++) {
        int32_t dim = t->dims[d];
        if (dim < 0) {
            return tm_fail(m, "tensor %u has a dynamic dimension: convert the model with a fixed batch size of 1", i);
        }
        bytes *= (uint32_t)dim;
        if (bytes > MAX_TENSOR_BYTES) {
            return tm_fail(m, "tensor %u is too large (over %u bytes)", i, MAX_TENSOR_BYTES);
        }
    }
    t->bytes = t->type == TM_RESOURCE ? 0 : (uint32_t)bytes;
    m->lifetimes[i].variable = -1;
    uint32_t n_sig;
    uint32_t sig = tm_fb_vector(fb, table, T_SIGNATURE, 4, &n_sig);
    m->lifetimes[i].dynamic_batch = n_sig == ndim && ndim > 0 && (int32_t)tm_fb_u32(fb, sig) == -1;
    m->lifetimes[i].reshaped = 0;
    m->lifetimes[i].is_variable = (uint8_t)(tm_fb_field_u8(fb, table, T_VARIABLE, 0) != 0);
    t->scale = 0.0f;
    t->zero_point = 0;
    t->scales = 0;
    t->n_scales = 0;
    t->quant_dim = 0;
    t->alias = -1;
    t->arena_offset = -1;
    t->is_const = 0;
    t->data = 0;
    if (quant) {
        uint32_t n_scales, n_zps;
        uint32_t scales = tm_fb_vector(fb, quant, Q_SCALE, 4, &n_scales);
        uint32_t zps = tm_fb_vector(fb, quant, Q_ZERO_POINT, 8, &n_zps);
        int32_t qdim = tm_fb_field_i32(fb, quant, Q_DIM, 0);
        t->quant_dim = (uint8_t)qdim;
        if (fb->bad) {
            return tm_fail(m, "corrupt model: quantization of tensor %u is unreadable", i);
        }
        if (n_scales > 0xffff) {
            return tm_fail(m, "tensor %u has too many scales", i);
        }
        if (n_scales) {
            t->scale = tm_load_f32(fb->b + scales);
            t->scales = fb->b + scales;
            t->n_scales = (uint16_t)n_scales;
        }
        if (n_zps) {
            int32_t lo = (int32_t)tm_fb_u32(fb, zps), hi = (int32_t)tm_fb_u32(fb, zps + 4);
            if (hi != (lo >> 31)) {
                return tm_fail(m, "tensor %u: zero point out of range", i);
            }
            t->zero_point = lo;
        }
        // Older converters copied the filter's quantized dimension (3 for depthwise) onto 1-D biases.
        if (n_scales > 1 && ndim == 1 && qdim > 0) {
            t->quant_dim = 0;
        } else if (n_scales > 1 && (qdim < 0 || qdim >= (int32_t)ndim)) {
            return tm_fail(m, "tensor %u: quantized dimension %d out of range", i, qdim);
        }
    }
    if (buffer >= r->n_buffers) {
        if (buffer != 0) {
            return tm_fail(m, "corrupt model: tensor %u refers to buffer %u of %u", i, buffer, r->n_buffers);
        }
        return TM_OK;
    }
    uint32_t btable = tm_fb_vector_table(fb, r->buffers, buffer);
    uint32_t n_data;
    uint32_t data = tm_fb_vector(fb, btable, BUF_DATA, 1, &n_data);
    uint32_t offset_field = tm_fb_field(fb, btable, BUF_OFFSET, 8);
    if (fb->bad) {
        return tm_fail(m, "corrupt model: buffer %u of tensor %u is unreadable", buffer, i);
    }
    if (offset_field && (tm_fb_u32(fb, offset_field) | tm_fb_u32(fb, offset_field + 4)) > 1) {
        return tm_fail(m, "tensor %u keeps its data outside the flatbuffer (models over 2 GB): not supported", i);
    }
    if (n_data) {
        if (n_data != t->bytes || t->type == TM_RESOURCE) {
            return tm_fail(m, "corrupt model: tensor %u needs %u bytes but its buffer holds %u", i, t->bytes,
                n_data);
        }
        // Kernels read constant tensors in place with loads of their element type (float32 weights, int16
        // or int32 values). A Cortex-M0+ (armv6m) faults on any unaligned word or halfword load, and the M4
        // on an unaligned VLDR, so data not aligned to its element size (at most 4: 64-bit values are read
        // as two words) is refused here instead of faulting in a kernel. The buffer itself is 4-byte
        // aligned (open_model), and converters align tensor data to 16 bytes: only corrupt files fail.
        uint32_t align = tm_type_size(t->type) < 4 ? tm_type_size(t->type) : 4;
        if (data & (align - 1)) {
            return tm_fail(m, "corrupt model: data of tensor %u is misaligned in the model buffer", i);
        }
        t->is_const = 1;
        t->data = (uint8_t *)(fb->b + data); // read-only: the engine never writes constant tensors
    }
    return TM_OK;
}

// The subgraphs node `i` of subgraph `s` runs (CALL_ONCE: one; IF: then, else; WHILE: cond, body), checked as
// TFLM's prepare checks them: the numbers of inputs and outputs match the node's. Calls go only to later
// subgraphs, which rules out recursion (converters emit callees after their callers).
static tm_status_t check_callees(tm_model_t *m, reader_t *r, tm_node_t *n, uint32_t s, uint32_t i) {
    tm_fb_t *fb = &r->fb;
    const char *name = n->opcode == BUILTIN_IF ? "IF" : n->opcode == BUILTIN_WHILE ? "WHILE" : "CALL_ONCE";
    const int n_callees = n->opcode == BUILTIN_CALL_ONCE ? 1 : 2;
    if (n->opcode == BUILTIN_IF && n->n_in < 1) {
        return tm_fail(m, "operator %u (IF) has no condition input", i);
    }
    for (int c = 0; c < n_callees; c++) {
        int32_t callee = n->options ? tm_fb_field_i32(fb, n->options, c, 0) : 0;
        if (fb->bad || callee <= (int32_t)s || callee >= (int32_t)r->n_sub) {
            return tm_fail(m, "corrupt model: operator %u (%s) in subgraph %u calls subgraph %d (the model has %u; "
                "only later subgraphs can be called)", i, name, s, callee, r->n_sub);
        }
        uint32_t sub = tm_fb_vector_table(fb, r->subs, (uint32_t)callee), n_in, n_out;
        tm_fb_vector(fb, sub, SG_INPUTS, 4, &n_in);
        tm_fb_vector(fb, sub, SG_OUTPUTS, 4, &n_out);
        if (fb->bad) {
            return tm_fail(m, "corrupt model: subgraph %d is unreadable", callee);
        }
        // What the node passes in and expects back (TFLM's Prepare checks): CALL_ONCE nothing; IF its inputs
        // after the condition and its outputs; WHILE its inputs (= outputs) to both, cond returns one bool.
        uint32_t want_in = n->opcode == BUILTIN_CALL_ONCE ? 0 : n->opcode == BUILTIN_IF ? n->n_in - 1u : n->n_in;
        uint32_t want_out = n->opcode == BUILTIN_CALL_ONCE ? 0 : n->opcode == BUILTIN_WHILE && c == 0 ? 1 : n->n_out;
        if (n_in != want_in || n_out != want_out) {
            return tm_fail(m, "operator %u (%s): subgraph %d has %u inputs and %u outputs, the operator needs %u "
                "and %u", i, name, callee, n_in, n_out, want_in, want_out);
        }
        m->requests[i].calls[c] = (int16_t)callee;
    }
    return TM_OK;
}

// Operator `local` of subgraph `s` (being read) becomes m->nodes[i]; the subgraph's tensors start at `base`.
static tm_status_t load_node(tm_model_t *m, reader_t *r, uint32_t s, uint32_t local, uint32_t i, uint32_t base) {
    tm_node_t *n = &m->nodes[i];
    tm_fb_t *fb = &r->fb;
    uint32_t table = tm_fb_vector_table(fb, r->operators, local);
    uint32_t opcode_index = (uint32_t)tm_fb_field_i32(fb, table, OP_OPCODE, 0);
    if (fb->bad || opcode_index >= r->n_opcodes) {
        return tm_fail(m, "corrupt model: operator %u has a bad opcode index", i);
    }
    uint32_t oc = tm_fb_vector_table(fb, r->opcodes, opcode_index);
    int32_t code = builtin_code(r, opcode_index);
    n->opcode = (int16_t)(code > 0x7fff ? 0x7fff : code);
    n->tensor_base = (uint16_t)base;
    m->requests[i].calls[0] = m->requests[i].calls[1] = -1;
    n->version = (uint8_t)tm_fb_field_i32(fb, oc, OC_VERSION, 1);
    n->options_type = (uint8_t)tm_fb_field_u8(fb, table, OP_OPTIONS_TYPE, 0);
    n->options = tm_fb_table(fb, table, OP_OPTIONS);
    n->persistent_offset = -1;
    n->scratch_offset = -1;
    if (fb->bad) {
        return tm_fail(m, "corrupt model: operator %u is unreadable", i);
    }
    if (n->opcode == 32 /* CUSTOM */) {
        return tm_fail(m, "operator %u is a custom op: custom ops are not supported", i);
    }
    if (check_indices(m, r, table, OP_INPUTS, &n->in_pos, &n->n_in, 1, "operator inputs") != TM_OK ||
        check_indices(m, r, table, OP_OUTPUTS, &n->out_pos, &n->n_out, 0, "operator outputs") != TM_OK) {
        return TM_ERROR;
    }
    const int var_op = n->opcode == BUILTIN_VAR_HANDLE || n->opcode == BUILTIN_READ_VARIABLE ||
        n->opcode == BUILTIN_ASSIGN_VARIABLE;
    if (n->n_out == 0 && n->opcode != BUILTIN_ASSIGN_VARIABLE && n->opcode != BUILTIN_CALL_ONCE) {
        return tm_fail(m, "corrupt model: operator %u has no output", i);
    }
    for (int k = 0; k < n->n_in + n->n_out && !var_op; k++) {
        int32_t t = k < n->n_in ? tm_in_index(m, n, k) : tm_out_index(m, n, k - n->n_in);
        if (t >= 0 && m->tensors[t].type == TM_RESOURCE) {
            return tm_fail(m, "operator %u uses tensor %d, a resource variable handle: only VAR_HANDLE, "
                "READ_VARIABLE and ASSIGN_VARIABLE can", i, t);
        }
    }
    if (n->opcode == BUILTIN_CALL_ONCE || n->opcode == BUILTIN_IF || n->opcode == BUILTIN_WHILE) {
        if (check_callees(m, r, n, s, i) != TM_OK) {
            return TM_ERROR;
        }
    }
    tm_kernel_t k;
    n->eval = tm_kernel_lookup(n->opcode, &k) ? k.eval : 0;
    return TM_OK;
}

// Nodes must come in execution order, each tensor written once, before it is read: this also rules out cycles.
// Lifetimes are in subgraph 0's node indices: a called subgraph runs inside each node that calls it (from an
// earlier subgraph, so its callers' times are known), and all its tensors live throughout that node.
static tm_status_t check_graph(tm_model_t *m, reader_t *r, uint32_t options, char *error) {
    tm_lifetime_t *life = m->lifetimes;
    tm_node_request_t *req = m->requests;
    const int32_t n0 = m->subgraphs[0].n_nodes;
    for (uint32_t t = 0; t < m->n_tensors; t++) {
        // -2: not produced yet. A variable tensor (an LSTM's state, which its kernel keeps in its own persistent
        // data) is planned like a model input: no op writes it.
        life[t].first_use = m->tensors[t].is_const || life[t].is_variable ? -1 : -2;
        life[t].last_use = -1;
    }
    for (int i = 0; i < m->n_inputs; i++) {
        if (m->tensors[m->inputs[i]].is_const) {
            return tm_fail(m, "model input %d is a constant tensor", i);
        }
        life[m->inputs[i]].first_use = -1;
    }
    uint32_t base = 0;
    for (uint32_t s = 0; s < m->n_subgraphs; s++) {
        const tm_subgraph_t *sg = &m->subgraphs[s];
        int32_t lo = n0, hi = -1;
        if (s > 0) {
            for (uint32_t i = 0; i < sg->first_node; i++) {
                if (req[i].calls[0] == (int32_t)s || req[i].calls[1] == (int32_t)s) {
                    lo = req[i].first < lo ? req[i].first : lo;
                    hi = req[i].last > hi ? req[i].last : hi;
                }
            }
            if (hi < lo) {  // never called: it never runs, planned as alive throughout
                lo = -1;
                hi = n0;
            }
            if (select_subgraph(r, s, error) != TM_OK) {
                return tm_fail(m, "%s", error);
            }
            uint32_t pos;
            uint8_t count;
            if (check_indices(m, r, r->subgraph, SG_INPUTS, &pos, &count, 0, "subgraph inputs") != TM_OK) {
                return TM_ERROR;
            }
            for (int k = 0; k < count; k++) {
                uint32_t t = base + tm_load_u32(m->buf + pos + 4 * k);
                life[t].first_use = m->tensors[t].is_const ? -1 : (int16_t)lo;
                // Written by the caller's copy even when no node of the subgraph reads it (a WHILE cond that
                // ignores a loop variable): it must own its bytes throughout the call.
                life[t].last_use = (int16_t)hi;
            }
        }
        for (uint32_t i = sg->first_node; i < sg->first_node + sg->n_nodes; i++) {
            tm_node_t *n = &m->nodes[i];
            const int16_t first = (int16_t)(s ? lo : (int32_t)i), last = (int16_t)(s ? hi : (int32_t)i);
            req[i].first = first;
            req[i].last = last;
            for (int k = 0; k < n->n_in; k++) {
                int32_t t = tm_in_index(m, n, k);
                if (t < 0) {
                    continue;
                }
                if (life[t].first_use == -2) {
                    return tm_fail(m, "corrupt model: operator %u reads tensor %d before any operator writes it "
                        "(cycle or wrong order)", i, t);
                }
                life[t].last_use = life[t].last_use > last ? life[t].last_use : last;
            }
            for (int k = 0; k < n->n_out; k++) {
                int32_t t = tm_out_index(m, n, k);
                if (life[t].first_use != -2) {
                    return tm_fail(m, "corrupt model: operator %u writes tensor %d, which is already written or "
                        "constant", i, t);
                }
                life[t].first_use = first;
                life[t].last_use = life[t].last_use > last ? life[t].last_use : last;
            }
        }
        if (s > 0) {
            uint32_t pos;
            uint8_t count;
            if (check_indices(m, r, r->subgraph, SG_OUTPUTS, &pos, &count, 0, "subgraph outputs") != TM_OK) {
                return TM_ERROR;
            }
            for (int k = 0; k < count; k++) {
                uint32_t t = base + tm_load_u32(m->buf + pos + 4 * k);
                if (life[t].first_use == -2) {
                    return tm_fail(m, "corrupt model: output %d of subgraph %u is never written", k, s);
                }
                life[t].last_use = (int16_t)hi;
            }
        }
        base += r->n_tensors;
    }
    for (int i = 0; i < m->n_outputs; i++) {
        if (life[m->outputs[i]].first_use == -2) {
            return tm_fail(m, "corrupt model: model output %d is never written", i);
        }
        life[m->outputs[i]].last_use = (int16_t)n0;
    }
    if (options & TM_KEEP_INPUTS) {
        for (int i = 0; i < m->n_inputs; i++) {
            life[m->inputs[i]].last_use = (int16_t)n0;
        }
    }
    return TM_OK;
}

// tm_planner.c; `order`: scratch for n_tensors + n_nodes entries.
tm_status_t tm_plan_memory(tm_model_t *m, uint32_t *order);

int tm_dynamic_batch(const tm_model_t *m, const tm_tensor_t *t) {
    return m->lifetimes && !m->arena && m->lifetimes[t - m->tensors].dynamic_batch;
}

tm_status_t tm_set_shape(tm_model_t *m, tm_tensor_t *t, const int32_t *dims, int ndim) {
    if (!tm_dynamic_batch(m, t) || t->is_const || ndim != t->ndim) {
        return tm_fail(m, "output shape in the model disagrees with the computed one");
    }
    tm_lifetime_t *life = &m->lifetimes[t - m->tensors];
    uint64_t bytes = tm_type_size(t->type);
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 0) {
            return tm_fail(m, "computed shape has a negative dimension");
        }
        life->dims[d] = dims[d];
        bytes *= (uint32_t)dims[d];
        if (bytes > MAX_TENSOR_BYTES) {
            return tm_fail(m, "computed shape is too large");
        }
    }
    t->dims = life->dims;
    t->bytes = (uint32_t)bytes;
    life->reshaped = 1;
    return TM_OK;
}

// Every op without a kernel in this build, in one message so a user sees the whole list: each distinct op
// once, with the first operator that uses it, by name when the build knows it (tm_opcode_name), else by
// builtin code under a prefix that points to `tinyml check`, which names every op on the host.
static tm_status_t report_missing_ops(tm_model_t *m) {
    uint32_t len = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        int opcode = m->nodes[i].opcode;
        if (m->nodes[i].eval) {
            continue;
        }
        uint32_t j = 0;
        while (j < i && (m->nodes[j].eval || m->nodes[j].opcode != opcode)) {
            j++;
        }
        if (j < i) {
            continue;  // listed at its first operator
        }
        char code[24], item[TM_ERR_LEN];  // code: "builtin " and an int16
        const char *name = tm_opcode_name(opcode);
        if (!name) {
            tm_format(code, "builtin %d", opcode);
            name = code;
        }
        tm_format(item, "%s%s (operator %u)", len ? ", " : tm_missing_ops_prefix(), name, i);
        for (const char *c = item; *c && len < TM_ERR_LEN - 1; c++) {
            m->error[len++] = *c;
        }
        m->error[len] = 0;
    }
    return len ? TM_ERROR : TM_OK;
}

tm_status_t tm_model_load(void *block, uint32_t block_bytes, const uint8_t *buf, size_t len, uint32_t options,
    char *error) {
    reader_t r;
    uint32_t need;
    if (tm_model_measure(buf, len, &need, error) != TM_OK || open_model(&r, buf, len, error) != TM_OK) {
        return TM_ERROR;
    }
    if (block_bytes < need) {
        tm_format(error, "metadata block too small: %u bytes, need %u", block_bytes, need);
        return TM_ERROR;
    }
    tm_model_t *m = block;
    memset(m, 0, need);
    m->buf = buf;
    m->buf_len = (uint32_t)len;
    m->n_tensors = r.total_tensors;
    m->n_nodes = r.total_ops;
    m->n_subgraphs = (uint16_t)r.n_sub;
    m->max_variables = (uint16_t)r.var_handles;
    m->tensors = (tm_tensor_t *)((uint8_t *)block + align8(sizeof(tm_model_t)));
    m->nodes = (tm_node_t *)((uint8_t *)m->tensors + align8(r.total_tensors * sizeof(tm_tensor_t)));
    m->subgraphs = (tm_subgraph_t *)((uint8_t *)m->nodes + align8(r.total_ops * sizeof(tm_node_t)));
    m->variables = (tm_variable_t *)((uint8_t *)m->subgraphs + align8(r.n_sub * sizeof(tm_subgraph_t)));
    m->metadata_bytes = kept_bytes(&r);
    m->lifetimes = (tm_lifetime_t *)((uint8_t *)block + m->metadata_bytes);
    m->requests = (tm_node_request_t *)((uint8_t *)m->lifetimes +
        align8(r.total_tensors * sizeof(tm_lifetime_t)));
    m->failed_node = -1;
    tm_status_t st = TM_OK;
    // Every subgraph's tensors and nodes, one after the other.
    uint32_t tensor_base = 0, node_base = 0;
    for (uint32_t s = 0; s < r.n_sub && st == TM_OK; s++) {
        st = select_subgraph(&r, s, m->error);
        for (uint32_t i = 0; i < r.n_tensors && st == TM_OK; i++) {
            st = load_tensor(m, &r, i, tensor_base + i);
        }
        m->subgraphs[s].first_node = (uint16_t)node_base;
        m->subgraphs[s].n_nodes = (uint16_t)r.n_ops;
        m->subgraphs[s].tensor_base = (uint16_t)tensor_base;
        if (st == TM_OK) {
            st = check_indices(m, &r, r.subgraph, SG_INPUTS, &m->subgraphs[s].in_pos, &m->subgraphs[s].n_in, 0,
                "subgraph inputs");
        }
        if (st == TM_OK) {
            st = check_indices(m, &r, r.subgraph, SG_OUTPUTS, &m->subgraphs[s].out_pos, &m->subgraphs[s].n_out, 0,
                "subgraph outputs");
        }
        for (uint32_t i = 0; i < r.n_ops && st == TM_OK; i++) {
            st = load_node(m, &r, s, i, node_base + i, tensor_base);
        }
        tensor_base += r.n_tensors;
        node_base += r.n_ops;
    }
    if (st == TM_OK) {
        st = select_subgraph(&r, 0, m->error);
    }
    if (st == TM_OK) {
        st = read_io(m, &r, SG_INPUTS, m->inputs, &m->n_inputs, "model inputs");
    }
    if (st == TM_OK) {
        st = read_io(m, &r, SG_OUTPUTS, m->outputs, &m->n_outputs, "model outputs");
    }
    if (st == TM_OK && (m->n_inputs == 0 || m->n_outputs == 0)) {
        st = tm_fail(m, "model has no inputs or no outputs");
    }
    if (st == TM_OK) {
        st = check_graph(m, &r, options, error);
    }
    if (st == TM_OK) {
        st = report_missing_ops(m);
    }
    for (uint32_t i = 0; i < m->n_nodes && st == TM_OK; i++) {
        tm_node_t *n = &m->nodes[i];
        tm_kernel_t k;
        tm_kernel_lookup(n->opcode, &k);
        const tm_tensor_t *first = tm_in(m, n, 0);
        if (!TM_FLOAT_KERNELS && n->opcode != BUILTIN_QUANTIZE && first && first->type == TM_FLOAT32) {
            m->failed_node = (int32_t)i;
            st = tm_fail(m, "operator %u (%s) is float32, and this int8-only build has no float kernels: "
                "pack this model", i, tm_opcode_name(n->opcode));
            break;
        }
        if (!TM_INT16_KERNELS && first && first->type == TM_INT16) {
            m->failed_node = (int32_t)i;
            st = tm_fail(m, "operator %u (%s) is int16, and this build has no int16 kernels: pack this model", i,
                tm_opcode_name(n->opcode));
            break;
        }
        st = k.init(m, n, &m->requests[i]);
        if (st != TM_OK) {
            char detail[TM_ERR_LEN];
            memcpy(detail, m->error, TM_ERR_LEN);
            tm_fail(m, "operator %u (%s): %s", i, tm_opcode_name(n->opcode), detail);
            m->failed_node = (int32_t)i;
        }
    }
    if (st == TM_OK) {
        // Variable slots beyond those VAR_HANDLE's init filled (handles naming the same variable) are not kept.
        m->metadata_bytes = (uint32_t)((uint8_t *)m->variables - (uint8_t *)block) +
            align8(m->n_variables * sizeof(tm_variable_t));
        // The planner's scratch is the last part of the block's planning tail.
        st = tm_plan_memory(m, (uint32_t *)((uint8_t *)m->requests +
            align8(r.total_ops * sizeof(tm_node_request_t))));
    }
    if (st != TM_OK) {
        memcpy(error, m->error, TM_ERR_LEN);
    }
    return st;
}
