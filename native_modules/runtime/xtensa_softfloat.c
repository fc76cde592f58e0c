// Single-precision float helpers of libgcc for the ESP32-S2, whose Xtensa LX7 has no FPU: built with
// `-mcpu=esp32s2` (tools/xtensa/xtensa-esp32-elf-gcc), LLVM calls these for every float operation, and
// MicroPython's native-module linker (mpy_ld.py) provides no libgcc. __divsf3 is in xtensawin.c (every
// xtensawin build needs it). The windowed ABI passes floats in address registers with or without an FPU, so
// the bit patterns are taken as uint32_t and nothing here is float arithmetic of its own.
// Comparisons follow libgcc's contract: __eqsf2/__nesf2 return 0 when equal (nonzero when unordered),
// __ltsf2/__lesf2 return <0 / <=0 when a < b / a <= b and 1 when unordered, __gtsf2/__gesf2 return >0 / >=0
// when a > b / a >= b and -1 when unordered, __unordsf2 nonzero when either is a NaN. tests/test_xtensa_chips.py
// checks every helper against the host's FPU.
#include "softfloat.h"

uint32_t __addsf3(uint32_t a, uint32_t b) {
    return sf_add(a, b);
}

uint32_t __subsf3(uint32_t a, uint32_t b) {
    return sf_add(a, b ^ SF_SIGN);
}

uint32_t __mulsf3(uint32_t a, uint32_t b) {
    return sf_mul(a, b);
}

uint32_t __negsf2(uint32_t a) {
    return a ^ SF_SIGN;
}

// sf_cmp: -1 (a < b), 0 (equal), 1 (a > b), 2 (unordered).
int __eqsf2(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) != 0;
}

int __nesf2(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) != 0;
}

int __ltsf2(uint32_t a, uint32_t b) {
    int c = sf_cmp(a, b);
    return c == 2 ? 1 : c;
}

int __lesf2(uint32_t a, uint32_t b) {
    int c = sf_cmp(a, b);
    return c == 2 ? 1 : c;
}

int __gtsf2(uint32_t a, uint32_t b) {
    int c = sf_cmp(a, b);
    return c == 2 ? -1 : c;
}

int __gesf2(uint32_t a, uint32_t b) {
    int c = sf_cmp(a, b);
    return c == 2 ? -1 : c;
}

int __unordsf2(uint32_t a, uint32_t b) {
    return sf_cmp(a, b) == 2;
}

uint32_t __floatsisf(int32_t i) {
    return sf_from_i32(i);
}

uint32_t __floatunsisf(uint32_t u) {
    return sf_from_u32(0, u);
}

int32_t __fixsfsi(uint32_t a) {
    return sf_to_i32(a);
}

uint32_t __fixunssfsi(uint32_t a) {
    return sf_to_u32(a);
}
