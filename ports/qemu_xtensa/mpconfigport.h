// MicroPython configuration for the QEMU Xtensa port (qemu-system-xtensa -M sim -cpu de233_fpu).
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Loading native .mpy files: the xtensawin emitter makes persistentcode.h advertise the xtensawin arch
// (the ESP32's windowed ABI). Loaded code lives in the GC heap, which this core executes from; no
// MP_PLAT_ALLOC_EXEC, so the core keeps relocated code on its track_reloc_code list (reachable by the GC).
#define MICROPY_EMIT_XTENSAWIN              (1)
#define MICROPY_PERSISTENT_CODE_LOAD        (1)
#define MICROPY_HAS_FILE_READER             (1)     // our semihosting reader (main.c)
#define MICROPY_ENABLE_EXTERNAL_IMPORT      (1)

// The windowed ABI needs a setjmp that spills the register windows (start.S); py/nlrxtensa.c is for the
// call0 ABI of the ESP8266.
#define MICROPY_NLR_SETJMP                  (1)

#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_ENABLE_GC                   (1)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_ALLOC_PATH_MAX              (256)
#define MICROPY_ERROR_REPORTING             (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_KBD_EXCEPTION               (1)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_AUTO_INDENT            (1)
#define MICROPY_USE_INTERNAL_PRINTF         (1)     // shared/libc/printf.c: there is no libc for Xtensa here

// No libm for Xtensa in Debian: the few float functions the core itself needs are in libm_min.c, and
// the math/cmath modules (which need the whole of libm) stay off.
#define MICROPY_PY_MATH                     (0)
#define MICROPY_PY_CMATH                    (0)
#define MICROPY_PY_BUILTINS_COMPLEX         (0)

#define MICROPY_PY_SYS_PLATFORM             "qemu-xtensa"
#define MICROPY_PY_SYS_STDFILES             (1)
#define MICROPY_PY_SYS_EXIT                 (1)
#define MICROPY_PY_IO                       (1)
#define MICROPY_PY_IO_IOBASE                (0)

// The extmod/ directory is not part of the fetched sources: anything living there stays off.
// This port uses the mps2 port's small os and time modules and has its own board module.
#define MICROPY_VFS                         (0)
#define MICROPY_READER_VFS                  (0)
#define MICROPY_PY_OS                       (0)
#define MICROPY_PY_TIME                     (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_SELECT                   (0)
#define MICROPY_PY_MACHINE                  (0)
#define MICROPY_PY_UCTYPES                  (0)

#define MICROPY_HW_BOARD_NAME               "QEMU xtensa sim"
#define MICROPY_HW_MCU_NAME                 "de233_fpu (windowed ABI)"

#define MP_SSIZE_MAX                        (0x7fffffff)
typedef int32_t mp_int_t;
typedef uint32_t mp_uint_t;
typedef long mp_off_t;

// Interrupts: only the CCOUNT wrap timer (mphalport.c). PS.INTLEVEL masks it.
uint32_t xt_disable_irq(void);
void xt_enable_irq(uint32_t state);
#define MICROPY_BEGIN_ATOMIC_SECTION()      xt_disable_irq()
#define MICROPY_END_ATOMIC_SECTION(state)   xt_enable_irq(state)

#define MP_STATE_PORT MP_STATE_VM
#include <alloca.h>
