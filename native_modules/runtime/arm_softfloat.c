// Single-precision float helpers of the ARM run-time ABI (AEABI) for cores without an FPU: armv6m
// (Cortex-M0/M0+) and armv7m (Cortex-M3). GCC calls these for every float operation there; MicroPython's
// native-module linker (mpy_ld.py) provides no libgcc, so the module carries its own. The soft-float ABI
// passes floats in core registers, so the bit patterns are taken as uint32_t.
#include "softfloat.h"

uint32_t __aeabi_fadd(uint32_t a, uint32_t b) {
    return sf_add(a, b);
}

uint32_t __aeabi_fsub(uint32_t a, uint32_t b) {
    return sf_add(a, b ^ SF_SIGN);
}

uint32_t __aeabi_frsub(uint32_t a, uint32_t b) {
    return sf_add(b, a ^ SF_SIGN);
}

uint32_t __aeabi_fmul(uint32_t a, uint32_t b) {
    return sf_mul(a, b);
}

uint32_t __aeabi_fdiv(uint32_t a, uint32_t b) {
    return sf_div(a, b);
}

int __aeabi_fcmpeq(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) == 0;
}

int __aeabi_fcmplt(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) == -1;
}

int __aeabi_fcmple(uint32_t a, uint32_t b) {
    int c = sf_cmp(a, b);
    return c == -1 || c == 0;
}

int __aeabi_fcmpgt(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) == 1;
}

int __aeabi_fcmpge(uint32_t a, uint32_t b) {
    int c = sf_cmp(a, b);
    return c == 1 || c == 0;
}

int __aeabi_fcmpun(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) == 2;
}

uint32_t __aeabi_i2f(int32_t i) {
    return sf_from_i32(i);
}

uint32_t __aeabi_ui2f(uint32_t u) {
    return sf_from_u32(0, u);
}

int32_t __aeabi_f2iz(uint32_t a) {
    return sf_to_i32(a);
}

uint32_t __aeabi_f2uiz(uint32_t a) {
    return sf_to_u32(a);
}
