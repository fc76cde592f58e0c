// The HAL both QEMU ports provide (each port's mphalport.h includes this and adds its own): a timer in
// virtual time, and from it the exact instruction count under QEMU's -icount.
#include <stdint.h>
#include "shared/runtime/interrupt_char.h"

// Defined so that py/mphal.h does not pull in extmod/virtpin.h (not in the fetched sources).
#define mp_hal_pin_obj_t void *

void mp_hal_init(void);
uint64_t mp_hal_ticks64(void);          // timer ticks since boot, MP_HAL_TICKS_HZ of virtual time
int mp_hal_icount_shift(void);          // N of QEMU's -icount shift=N, or -1 when not counting instructions
uint64_t mp_hal_instructions(void);     // instructions since boot (meaningful only when counting them)

// The N of -icount shift=N (an instruction takes 2^N ns of virtual time) that makes `instructions` take
// `elapsed_ns`, within 1/64; -1 when none does (no -icount: the timer follows host time). mphal_time.c.
int mp_hal_icount_shift_fitting(uint64_t elapsed_ns, uint64_t instructions);
