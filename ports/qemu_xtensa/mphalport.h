// HAL of the QEMU Xtensa port: console and files through semihosting, time from CCOUNT.
#include "mphal_common.h"

#define MP_HAL_TICKS_HZ 40000000u       // CCOUNT: de233_fpu's clock in QEMU's virtual time

// Memory (QEMU's sim machine, -m 64M): the image at 1 MiB, the stack below 8 MiB (start.S), the GC heap above.
#define XT_STACK_TOP    (0x00800000u)
#define XT_STACK_SIZE   (256 * 1024u)
#define XT_HEAP_START   (0x00800000u)
#define XT_HEAP_END     (0x01000000u)
#define PORT_STACK_TOP      ((void *)XT_STACK_TOP)
#define PORT_STACK_LIMIT    (XT_STACK_SIZE - 4096)
#define PORT_HEAP_START     ((void *)XT_HEAP_START)
#define PORT_HEAP_END       ((void *)XT_HEAP_END)

// The instruction count counts each emulated MULSH/MULUH as one instruction, as an ESP32 executes it.
uint32_t mp_hal_mul32high_emulated(void);   // MULSH/MULUH emulated so far (start.S)
int mp_hal_mul32high_cost(void);            // instructions one emulation adds, measured at boot; -1 unknown

// Whether board.instructions() and the count file have a count to give: QEMU runs with -icount and the
// emulation's cost, taken out of the count, is known.
static inline int mp_hal_counting_instructions(void) {
    return mp_hal_icount_shift() >= 0 && mp_hal_mul32high_cost() > 0;
}
