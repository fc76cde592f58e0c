// Float helpers for xtensawin (ESP32): its FPU adds, multiplies, compares and converts, but has no divide
// instruction, so the compiler calls libgcc's __divsf3, which MicroPython's native-module linker
// (mpy_ld.py) does not provide. Floats travel in address registers in the windowed ABI.
#include "softfloat.h"

typedef union {
    float f;
    uint32_t u;
} sf_bits_t;

float __divsf3(float a, float b) {
    sf_bits_t x = { a }, y = { b }, r;
    r.u = sf_div(x.u, y.u);
    return r.f;
}
