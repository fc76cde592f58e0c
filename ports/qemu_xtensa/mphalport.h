// HAL of the QEMU Xtensa port: console and files through semihosting, time from CCOUNT.
#include <stdint.h>
#include "shared/runtime/interrupt_char.h"

// Defined so that py/mphal.h does not pull in extmod/virtpin.h (not in the fetched sources).
#define mp_hal_pin_obj_t void *

// Memory (QEMU's sim machine, -m 64M): the image at 1 MiB, the stack below 8 MiB (start.S), the GC heap above.
#define XT_STACK_TOP    (0x00800000u)
#define XT_STACK_SIZE   (256 * 1024u)
#define XT_HEAP_START   (0x00800000u)
#define XT_HEAP_END     (0x01000000u)

void mp_hal_init(void);
uint64_t mp_hal_ticks64(void);          // CCOUNT ticks (40 MHz of virtual time) since boot
int mp_hal_icount_shift(void);          // N of QEMU's -icount shift=N, or -1 when not counting instructions
// Instructions since boot with each emulated MULSH/MULUH counted as one (meaningful only under -icount).
uint64_t mp_hal_instructions(void);
uint32_t mp_hal_mul32high_emulated(void);   // MULSH/MULUH emulated so far (start.S)
int mp_hal_mul32high_cost(void);            // instructions one emulation adds, measured at boot; -1 unknown
