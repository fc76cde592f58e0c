// tinyml-mpy inference engine: public API.
// Plain C99, no libc beyond <stdint.h>/<stddef.h>, no static mutable state: every byte the engine uses lives in
// two caller-owned blocks (model metadata and the tensor arena), so it runs as a MicroPython native module and
// as a host library alike. The model buffer is read in place and never copied or written.
//
// Life of a model:
//   tm_model_measure()  verify the flatbuffer, say how big the metadata block must be
//   tm_model_load()     fill the metadata block: tensors, nodes, kernels, memory plan; says the arena size
//   tm_model_prepare()  bind tensors to the arena, run each kernel's prepare (multipliers, checks)
//   tm_model_invoke()   run the graph (subgraph 0; CALL_ONCE runs another subgraph on the first invoke)
//   tm_model_reset()    give a stateful model (resource variables, CALL_ONCE) its state of after prepare
#ifndef TM_ENGINE_H
#define TM_ENGINE_H

#include <stdint.h>
#include <stddef.h>

#define TM_MAX_DIMS 6
#define TM_MAX_IO 10          // most inputs/outputs an op or a subgraph may have
#define TM_MAX_OP_INPUTS 24   // except an op's inputs: UNIDIRECTIONAL_SEQUENCE_LSTM has 24 (most omitted)
#define TM_MAX_SUBGRAPHS 64
#define TM_ERR_LEN 120
#define TM_MAX_ARENA_BYTES (1u << 30)   // a plan beyond this is refused (offsets stay far from int32 overflow)

// Options of tm_model_load.
enum {
    // Plan the model's inputs to live until the end of invoke(), so that invoke() never overwrites them
    // (by default an input's storage is reused once its last reader has run, as in TFLM). Costs arena bytes.
    TM_KEEP_INPUTS = 1,
};

// Tensor element types, numbered as in the TFLite schema.
enum {
    TM_FLOAT32 = 0, TM_FLOAT16 = 1, TM_INT32 = 2, TM_UINT8 = 3, TM_INT64 = 4, TM_STRING = 5, TM_BOOL = 6,
    TM_INT16 = 7, TM_INT8 = 9,
    TM_RESOURCE = 13,           // a resource variable's handle (VAR_HANDLE): a view of the variable's storage
};

typedef enum { TM_OK = 0, TM_ERROR = 1 } tm_status_t;

// Kept for the model's life, so kept small: shapes and quantization vectors point into the model buffer.
typedef struct tm_tensor {
    uint8_t *data;              // in the arena, or in the model buffer for constants (never written)
    const int32_t *dims;        // in the model buffer
    const uint8_t *scales;      // per-channel scales (raw little-endian float32) in the model buffer, or NULL
    uint32_t bytes;
    float scale;                // per-tensor quantization (first entry when per-channel)
    int32_t zero_point;
    uint16_t n_scales;
    uint8_t ndim;
    uint8_t type;
    uint8_t is_const;           // backed by a model buffer
    uint8_t quant_dim;
    int16_t alias;              // planner: index of the tensor whose storage this one shares, or -1
    int32_t arena_offset;       // -1 = not in the arena
} tm_tensor_t;

struct tm_model;
struct tm_node;

// Needed only while planning; lives in the tail of the metadata block, which the caller may free after load.
typedef struct {
    int16_t first_use, last_use; // node indices; -1 = before the first node, n_nodes = after the last
    uint8_t dynamic_batch;      // the model's shape_signature has -1 as dimension 0
    uint8_t reshaped;           // a kernel's init set this tensor's shape (tm_set_shape)
    uint8_t is_variable;        // TFLite's is_variable (an LSTM's state input): written by no op, alive from the start
    int32_t shape_offset;       // arena offset where a reshaped tensor's dims are kept
    int32_t dims[TM_MAX_DIMS];  // storage for a reshaped tensor's dims until the arena exists
    int16_t variable;           // a RESOURCE tensor: index in m->variables (set by VAR_HANDLE's init), or -1
} tm_lifetime_t;

typedef struct {
    uint32_t persistent_bytes, scratch_bytes;
    int16_t first, last;        // when the node runs, in subgraph 0's node indices (a called subgraph's
                                // nodes run inside the calling node)
    int16_t calls[2];           // the subgraphs a CALL_ONCE (one), IF or WHILE (two) node runs, or -1
} tm_node_request_t;

// A subgraph's nodes are m->nodes[first_node, first_node + n_nodes); its tensors follow the previous
// subgraphs' in m->tensors from tensor_base. Subgraph 0 is the model; others are called by ops (CALL_ONCE,
// IF, WHILE), which copy tensors into its inputs and out of its outputs (int32 index vectors in the model
// buffer at in_pos/out_pos, the subgraph's own indices).
typedef struct {
    uint16_t first_node, n_nodes;
    uint16_t tensor_base;
    uint8_t n_in, n_out;
    uint32_t in_pos, out_pos;
} tm_subgraph_t;

// A resource variable (VAR_HANDLE's container/shared_name): storage in the arena that keeps its value
// across invokes. As in TFLM, its size and initial fill come from the first ASSIGN_VARIABLE in prepare order
// (subgraph by subgraph): every byte is set to that tensor's zero point.
typedef struct {
    uint32_t offset, bytes;     // in the arena (offset valid once planned)
    int16_t node;               // the VAR_HANDLE node that named it first
    int8_t fill;
    uint8_t assigned;           // an ASSIGN_VARIABLE sets its size
} tm_variable_t;


typedef struct tm_kernel {
    // A kernel is looked up by opcode when needed (tm_kernel_lookup); nodes keep only `eval`.
    const char *name;
    // Check shapes/types/options and set the persistent bytes (kept for the model's life) and scratch
    // bytes (live during this node only) eval needs in *req. Runs before the arena exists: only constant
    // tensors have data here.
    tm_status_t (*init)(struct tm_model *m, struct tm_node *n, tm_node_request_t *req);
    // Precompute into n->persistent (the arena exists now; constant tensors' data may be read).
    tm_status_t (*prepare)(struct tm_model *m, struct tm_node *n);
    tm_status_t (*eval)(struct tm_model *m, struct tm_node *n);
    uint8_t reshapes;           // output is the input's bytes under another shape: planner shares storage
    // Optional: return the node's state (persistent data that changes in eval) to its value after prepare.
    void (*reset)(struct tm_model *m, struct tm_node *n);
} tm_kernel_t;

typedef struct tm_node {
    tm_status_t (*eval)(struct tm_model *m, struct tm_node *n);
    uint32_t in_pos, out_pos;   // int32 tensor-index vectors in the model buffer (-1 = omitted input)
    uint32_t options;           // offset of the builtin options table in the model buffer, 0 if none
    int32_t persistent_offset;  // in the arena, -1 if none (8-byte aligned)
    int32_t scratch_offset;     // in the arena, -1 if none
    int16_t opcode;             // TFLite builtin operator code
    uint8_t version;
    uint8_t n_in, n_out;
    uint8_t options_type;
    uint16_t tensor_base;       // index in m->tensors of its subgraph's tensor 0
} tm_node_t;

typedef struct tm_model {
    const uint8_t *buf;         // the .tflite flatbuffer
    uint32_t buf_len;
    uint32_t n_tensors, n_nodes;    // of all subgraphs
    tm_tensor_t *tensors;
    tm_node_t *nodes;
    tm_subgraph_t *subgraphs;
    tm_variable_t *variables;
    uint16_t n_subgraphs, n_variables, max_variables;
    uint8_t n_inputs, n_outputs;
    int16_t inputs[TM_MAX_IO], outputs[TM_MAX_IO];
    uint32_t metadata_bytes;    // bytes of the block to keep after load: this struct, tensors and nodes
    tm_lifetime_t *lifetimes;   // planning state in the block's tail (NULL after load)
    tm_node_request_t *requests;
    uint32_t activation_bytes;  // planned size of intermediate tensors and scratch
    uint32_t persistent_bytes;  // per-op data, then the variables (state_bytes of it)
    uint32_t state_bytes;       // resource variables: kept across invokes
    uint32_t arena_bytes;       // activation + persistent
    uint8_t *arena;
    int32_t failed_node;        // node that raised the last error, or -1
    char error[TM_ERR_LEN];
    // Optional hooks, set by the caller: a clock for per-node profiling.
    uint32_t (*clock)(void *ctx);
    void *clock_ctx;
    uint32_t *node_ticks;       // n_nodes counters, caller-owned, or NULL
} tm_model_t;

// Verify `buf` as a TFLite model this engine can load and compute the size of the block tm_model_load needs.
tm_status_t tm_model_measure(const uint8_t *buf, size_t len, uint32_t *block_bytes, char *error);
// `block` (block_bytes, 8-aligned) becomes the tm_model_t. On success m->arena_bytes is set, and only the
// first m->metadata_bytes of the block are needed from then on (the caller may shrink it in place).
// `options`: TM_KEEP_INPUTS or 0.
tm_status_t tm_model_load(void *block, uint32_t block_bytes, const uint8_t *buf, size_t len, uint32_t options,
    char *error);
// `arena` (m->arena_bytes, 8-aligned) is owned by the caller for the model's life.
tm_status_t tm_model_prepare(tm_model_t *m, uint8_t *arena);
tm_status_t tm_model_invoke(tm_model_t *m);
// Variables back to their initial fill, CALL_ONCE to run again on the next invoke: as a freshly loaded model.
void tm_model_reset(tm_model_t *m);

const char *tm_type_name(int type);
uint32_t tm_type_size(int type);
// The op's name, or 0 when this build does not know it (tm_registry.c says which names a build has).
const char *tm_opcode_name(int opcode);
const char *tm_missing_ops_prefix(void);

#endif
