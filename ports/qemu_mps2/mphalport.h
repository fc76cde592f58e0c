// HAL of the QEMU mps2 port: UART0 console, CMSDK timer, semihosting.
#include <stdint.h>
#include "shared/runtime/interrupt_char.h"

// Defined so that py/mphal.h does not pull in extmod/virtpin.h (not in the fetched sources).
#define mp_hal_pin_obj_t void *

void mp_hal_init(void);
uint64_t mp_hal_ticks64(void);          // 25 MHz timer ticks since boot
int mp_hal_icount_shift(void);          // N of QEMU's -icount shift=N, or -1 when not counting instructions
uint64_t mp_hal_instructions(void);     // instructions since boot (meaningful only under -icount)
// CCR.UNALIGN_TRP: unaligned LDR/STR/LDRH/STRH fault while set, as every access does on a Cortex-M0+.
// on = 0 or 1 sets it, -1 only asks; returns the previous setting. See mphalport.c.
int mp_hal_unaligned_trap(int on);
