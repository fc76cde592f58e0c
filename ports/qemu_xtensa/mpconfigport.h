// MicroPython configuration for the QEMU Xtensa port (qemu-system-xtensa -M sim -cpu de233_fpu); what both
// QEMU ports share is in ports/qemu_common/mpconfigport_common.h.
#include <stdint.h>

// Loading native .mpy files: the xtensawin emitter makes persistentcode.h advertise the xtensawin arch
// (the ESP32's windowed ABI). Loaded code lives in the GC heap, which this core executes from; no
// MP_PLAT_ALLOC_EXEC, so the core keeps relocated code on its track_reloc_code list (reachable by the GC).
#define MICROPY_EMIT_XTENSAWIN              (1)

// The windowed ABI needs a setjmp that spills the register windows (start.S); py/nlrxtensa.c is for the
// call0 ABI of the ESP8266.
#define MICROPY_NLR_SETJMP                  (1)

// No libm for Xtensa in Debian: the few float functions the core itself needs are in libm_min.c, and
// the math/cmath modules (which need the whole of libm) stay off.
#define MICROPY_PY_MATH                     (0)
#define MICROPY_PY_CMATH                    (0)
#define MICROPY_PY_BUILTINS_COMPLEX         (0)

#define MICROPY_PY_SYS_PLATFORM             "qemu-xtensa"
#define MICROPY_HW_BOARD_NAME               "QEMU xtensa sim"
#define MICROPY_HW_MCU_NAME                 "de233_fpu (windowed ABI)"

// Interrupts: only the CCOUNT wrap timer (mphalport.c). PS.INTLEVEL masks it.
uint32_t xt_disable_irq(void);
void xt_enable_irq(uint32_t state);
#define MICROPY_BEGIN_ATOMIC_SECTION()      xt_disable_irq()
#define MICROPY_END_ATOMIC_SECTION(state)   xt_enable_irq(state)

#include "mpconfigport_common.h"
