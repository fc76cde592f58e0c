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

const char *tm_opcode_name(int opcode) {
    switch (opcode) {
        #define TM_OP(code, fn, name) case code: return name;
        #include TM_OPS_HEADER
        #undef TM_OP
        case 32: return "CUSTOM";
        default: return "see `tinyml check`"; // names of ops outside this build stay on the host
    }
}
