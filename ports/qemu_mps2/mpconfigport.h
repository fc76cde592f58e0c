// MicroPython configuration for the QEMU mps2 port.
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Loading native .mpy files: the thumb emitter makes persistentcode.h pick the native arch, which is
// armv7emsp because we compile with -mfpu=fpv4-sp-d16 -mfloat-abi=hard.
#define MICROPY_EMIT_THUMB                  (1)
#define MICROPY_EMIT_INLINE_THUMB           (0)
#define MICROPY_PERSISTENT_CODE_LOAD        (1)
#define MICROPY_MAKE_POINTER_CALLABLE(p)    ((void *)((uint32_t)(p) | 1))   // Thumb bit for loaded code
#define MICROPY_HAS_FILE_READER             (1)     // our semihosting reader (main.c)
#define MICROPY_ENABLE_EXTERNAL_IMPORT      (1)

#ifndef MICROPY_FLOAT_IMPL                  // the Makefile's FLOAT=0 builds a firmware without floats
#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_FLOAT)
#endif
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_ENABLE_GC                   (1)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_ALLOC_PATH_MAX              (256)
#define MICROPY_ERROR_REPORTING             (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_KBD_EXCEPTION               (1)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)  // full MemoryError messages when the heap is full
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_AUTO_INDENT            (1)
#define MICROPY_USE_INTERNAL_PRINTF         (1)     // shared/libc/printf.c, not newlib's

#define MICROPY_PY_SYS_PLATFORM             "qemu-mps2"
#define MICROPY_PY_SYS_STDFILES             (1)
#define MICROPY_PY_SYS_EXIT                 (1)
#define MICROPY_PY_IO                       (1)
#define MICROPY_PY_IO_IOBASE                (0)

// The extmod/ directory is not part of the fetched sources: anything living there stays off.
// This port provides its own small os, time and board modules instead.
#define MICROPY_VFS                         (0)
#define MICROPY_READER_VFS                  (0)
#define MICROPY_PY_OS                       (0)
#define MICROPY_PY_TIME                     (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_SELECT                   (0)
#define MICROPY_PY_MACHINE                  (0)
#define MICROPY_PY_UCTYPES                  (0)

#define MICROPY_HW_BOARD_NAME               "QEMU mps2"
#define MICROPY_HW_MCU_NAME                 "Cortex-M4F/M7"

#define MP_SSIZE_MAX                        (0x7fffffff)
typedef int32_t mp_int_t;
typedef uint32_t mp_uint_t;
typedef long mp_off_t;

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

#define MP_STATE_PORT MP_STATE_VM
#include <alloca.h>
