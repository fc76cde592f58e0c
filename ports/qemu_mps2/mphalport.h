// HAL of the QEMU mps2 port: UART0 console, CMSDK timer, semihosting.
#include <stdint.h>
#include "shared/runtime/interrupt_char.h"

// Defined so that py/mphal.h does not pull in extmod/virtpin.h (not in the fetched sources).
#define mp_hal_pin_obj_t void *

void mp_hal_init(void);
uint64_t mp_hal_ticks64(void);          // 25 MHz timer ticks since boot
int mp_hal_icount_shift(void);          // N of QEMU's -icount shift=N, or -1 when not counting instructions
uint64_t mp_hal_instructions(void);     // instructions since boot (meaningful only under -icount)
