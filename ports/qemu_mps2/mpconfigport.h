// MicroPython configuration for the QEMU mps2 port; what both QEMU ports share is in
// ports/qemu_common/mpconfigport_common.h.
#include <stdint.h>

// Loading native .mpy files: the thumb emitter makes persistentcode.h pick the native arch, which is
// armv7emsp because we compile with -mfpu=fpv4-sp-d16 -mfloat-abi=hard.
#define MICROPY_EMIT_THUMB                  (1)
#define MICROPY_EMIT_INLINE_THUMB           (0)
#define MICROPY_MAKE_POINTER_CALLABLE(p)    ((void *)((uint32_t)(p) | 1))   // Thumb bit for loaded code

#define MICROPY_PY_SYS_PLATFORM             "qemu-mps2"
#define MICROPY_HW_BOARD_NAME               "QEMU mps2"
#define MICROPY_HW_MCU_NAME                 "Cortex-M4F/M7"

#define MICROPY_BEGIN_ATOMIC_SECTION()      disable_irq()
#define MICROPY_END_ATOMIC_SECTION(state)   enable_irq(state)

static inline uint32_t disable_irq(void) {
    uint32_t state;
    __asm volatile ("mrs %0, primask\n cpsid i" : "=r" (state));
    return state;
}
static inline void enable_irq(uint32_t state) {
    __asm volatile ("msr primask, %0" : : "r" (state));
}

#include "mpconfigport_common.h"
