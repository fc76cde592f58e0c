// Op registry: maps TFLite builtin codes to the kernels compiled into this build. The list comes from a
// generated header (TM_OPS_HEADER, written by the host tools from tinyml/ops.py), so a packed model's
// engine contains only the kernels that model uses.
#include "tm_internal.h"

#ifndef TM_OPS_HEADER
#define TM_OPS_HEADER "tm_ops.h"
#endif

#define TM_OP(code, fn, name) int tm_kernel_##fn(tm_kernel_t *k);
#include TM_OPS_HEADER
#undef TM_OP

int tm_kernel_lookup(int opcode, tm_kernel_t *k) {
    memset(k, 0, sizeof(*k));  // fields a kernel does not set (e.g. reset) stay 0
    switch (opcode) {
        #define TM_OP(code, fn, name) case code: return tm_kernel_##fn(k);
        #include TM_OPS_HEADER
        #undef TM_OP
        default: return 0;
    }
}

// The name of a builtin op, or 0 when this build does not know it. A build knows the names of its own ops;
// only a build with every kernel (the generic module: there a missing op is missing from the engine itself)
// carries the names of all TFLite builtins (TM_ALL_OP_NAMES, ~2.6 KB of constant data). A per-model build
// (`tinyml pack`: on the ESP32 every byte of the module counts against IRAM and heap) leaves them out: the
// model it was packed for has no missing op, and `tinyml check` names the ops of any other model.
const char *tm_opcode_name(int opcode) {
    switch (opcode) {
        #define TM_OP(code, fn, name) case code: return name;
        #include TM_OPS_HEADER
        #undef TM_OP
        case 32: return "CUSTOM";
        default: break;
    }
#ifdef TM_ALL_OP_NAMES
    // One string of NUL-terminated names in builtin-code order: no pointer table to relocate.
    static const char names[] = TM_ALL_OP_NAMES;
    if (opcode >= 0 && opcode < TM_ALL_OP_COUNT) {
        const char *s = names;
        for (int i = 0; i < opcode; i++) {
            while (*s++) {
            }
        }
        return s;
    }
#endif
    return 0;
}

// How the "unsupported ops" message starts: a build without every name lists codes, and says who names them.
const char *tm_missing_ops_prefix(void) {
#ifdef TM_ALL_OP_NAMES
    return "unsupported ops (no kernel in this engine build): ";
#else
    return "unsupported ops (`tinyml check` names them): ";
#endif
}
