// MicroPython configuration both QEMU ports share; each port's mpconfigport.h sets what is its own (the
// native emitter, the platform and board names, interrupt masking) and then includes this.
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#define MICROPY_PERSISTENT_CODE_LOAD        (1)     // native .mpy files
#define MICROPY_HAS_FILE_READER             (1)     // our semihosting reader (main.c)
#define MICROPY_ENABLE_EXTERNAL_IMPORT      (1)

#ifndef MICROPY_FLOAT_IMPL                  // the mps2 Makefile's FLOAT=0 builds a firmware without floats
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
#define MICROPY_USE_INTERNAL_PRINTF         (1)     // shared/libc/printf.c (Xtensa has no libc here at all)

#define MICROPY_PY_SYS_STDFILES             (1)
#define MICROPY_PY_SYS_EXIT                 (1)
#define MICROPY_PY_IO                       (1)
#define MICROPY_PY_IO_IOBASE                (0)

// The extmod/ directory is not part of the fetched sources: anything living there stays off.
// The ports provide their own small os, time and board modules instead (ports/qemu_common).
#define MICROPY_VFS                         (0)
#define MICROPY_READER_VFS                  (0)
#define MICROPY_PY_OS                       (0)
#define MICROPY_PY_TIME                     (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_SELECT                   (0)
#define MICROPY_PY_MACHINE                  (0)
#define MICROPY_PY_UCTYPES                  (0)

#define MP_SSIZE_MAX                        (0x7fffffff)
typedef int32_t mp_int_t;
typedef uint32_t mp_uint_t;
typedef long mp_off_t;

#define MP_STATE_PORT MP_STATE_VM
#include <alloca.h>
