// Helpers shared by the engine's own files and its kernels (not part of the public API).
#ifndef TM_INTERNAL_H
#define TM_INTERNAL_H

#include "tm_engine.h"
#include "tm_flatbuffer.h"

// Format a message into m->error (supports %s %d %u) and return TM_ERROR.
tm_status_t tm_fail(tm_model_t *m, const char *fmt, ...);
void tm_format(char *out, const char *fmt, ...);

// Tensor indices of a node's inputs/outputs, read from the (validated, 4-byte aligned) model buffer.
// Indices are the subgraph's own, offset by the node's tensor_base into m->tensors.
static inline int32_t tm_in_index(const tm_model_t *m, const tm_node_t *n, int i) {
    int32_t t = i < n->n_in ? ((const int32_t *)(m->buf + n->in_pos))[i] : -1;
    return t < 0 ? -1 : t + n->tensor_base;
}
static inline int32_t tm_out_index(const tm_model_t *m, const tm_node_t *n, int i) {
    return ((const int32_t *)(m->buf + n->out_pos))[i] + n->tensor_base;
}
static inline tm_tensor_t *tm_in(tm_model_t *m, tm_node_t *n, int i) {
    int32_t t = tm_in_index(m, n, i);
    return t >= 0 ? &m->tensors[t] : (tm_tensor_t *)0;
}
static inline tm_tensor_t *tm_out(tm_model_t *m, tm_node_t *n, int i) {
    return &m->tensors[tm_out_index(m, n, i)];
}
static inline void *tm_persistent(tm_model_t *m, tm_node_t *n) {
    return m->arena + n->persistent_offset;
}
static inline void *tm_scratch(tm_model_t *m, tm_node_t *n) {
    return m->arena + n->scratch_offset;
}
static inline int32_t tm_elements(const tm_tensor_t *t) {
    int32_t e = 1;
    for (int i = 0; i < t->ndim; i++) {
        e *= t->dims[i];
    }
    return e;
}
// Builtin options of a node, read from the model buffer with bounds checks and schema defaults.
int32_t tm_opt_i32(tm_model_t *m, tm_node_t *n, int field, int32_t dflt);
int32_t tm_opt_u8(tm_model_t *m, tm_node_t *n, int field, int32_t dflt);
float tm_opt_f32(tm_model_t *m, tm_node_t *n, int field, float dflt);

// During init only: give tensor `t` a shape computed by the kernel, when the model's stored shape is only a
// placeholder (a dynamic batch dimension, which the converter stores as 1). Fails for other tensors.
tm_status_t tm_set_shape(tm_model_t *m, tm_tensor_t *t, const int32_t *dims, int ndim);
// True during init if `t` has a dynamic batch dimension (shape_signature[0] == -1).
int tm_dynamic_batch(const tm_model_t *m, const tm_tensor_t *t);

// Per-model builds (tinyml pack) of an all-int8 model leave out the kernels' float32 paths: on the ESP32
// every byte of native code takes scarce IRAM. Kernels test float32 inputs with tm_is_f32, which is a
// constant 0 then, so the compiler drops those paths; tm_model_load refuses float32 ops in such a build.
#ifndef TM_FLOAT_KERNELS
#define TM_FLOAT_KERNELS 1
#endif
#define tm_is_f32(t) (TM_FLOAT_KERNELS && (t)->type == TM_FLOAT32)
// The same for int16 (16x8) paths: a per-model build of a model without int16 activations leaves them out
// (TM_INT16_KERNELS=0); kernels test int16 inputs with tm_is_i16 (SOFTMAX's int16 path and tables: 1.2 KB of
// code and 2 KB of tables in kws_ref_model's ESP32 pack otherwise).
#ifndef TM_INT16_KERNELS
#define TM_INT16_KERNELS 1
#endif
#define tm_is_i16(t) (TM_INT16_KERNELS && (t)->type == TM_INT16)

// 1 inside an arch's fast kernel (kernels/<arch>/<op>.c, which defines it and then includes the portable
// kernels/<op>.c): the portable file then calls the arch's hooks instead of its own int8 path. The build
// (tinyml.build.kernel_sources_for) compiles the arch's file in place of the portable one where it exists,
// except in small builds (`tinyml pack --small`: portable C at -Os). See docs/architecture.md.
#ifndef TM_ARCH_KERNEL
#define TM_ARCH_KERNEL 0
#endif

// Common checks with clear messages.
tm_status_t tm_expect_io(tm_model_t *m, tm_node_t *n, int min_in, int max_in, int n_out);
tm_status_t tm_expect_type(tm_model_t *m, const tm_tensor_t *t, int type, const char *what);

// memcpy/memset: libc on the host; forwarded to MicroPython's own in the native module (natmod_libc.c).
#include <string.h>

// A copy of a few bytes inside a per-element loop (gathers of single elements): inline moves on every arch.
// A plain memcpy is inlined only where the compiler treats it as a builtin. GCC (host, Cortex-M) does, but the
// xtensawin module is compiled with clang -ffreestanding (tools/xtensa/README.md), which implies -fno-builtin:
// there memcpy(d, s, 4) stays a call8 to natmod_libc.c's memcpy, which calls MicroPython's memmove through
// mp_fun_table, about 65 instructions per element on qemu-xtensa. __builtin_memcpy is expanded inline by both
// compilers (at -Os and -Oz too) when `size` is a compile-time constant where it is compiled: a literal, or the
// parameter of an always-inlined function called with a literal. With any other size it is a memcpy call.
#define TM_COPY_SMALL(dst, src, size) __builtin_memcpy((dst), (src), (size))
// Forces a helper to be inlined, so that a constant argument (e.g. a size for TM_COPY_SMALL) stays constant.
#define TM_ALWAYS_INLINE inline __attribute__((always_inline))

// The kernel for a TFLite builtin opcode in this build; returns 0 when the build has none.
int tm_kernel_lookup(int opcode, tm_kernel_t *k);

// Run the nodes of subgraph `s` (CALL_ONCE; load guarantees calls go only to later subgraphs).
tm_status_t tm_run_subgraph(tm_model_t *m, uint32_t s);
// A string option of a node (e.g. VAR_HANDLE's shared_name): its position in m->buf and length; 0 if absent.
uint32_t tm_opt_string(tm_model_t *m, tm_node_t *n, int field, uint32_t *len);

#endif
