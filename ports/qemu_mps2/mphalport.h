// HAL of the QEMU mps2 port: UART0 console, CMSDK timer, semihosting.
#include "mphal_common.h"

#define MP_HAL_TICKS_HZ 25000000u       // CMSDK timer 0

// Memory (mps2.ld): the GC heap from the end of .bss to the stack, the stack below the top of RAM.
extern uint32_t _heap_start, _heap_end, _estack, _stack_size;
#define PORT_STACK_TOP      ((void *)&_estack)
#define PORT_STACK_LIMIT    ((uint32_t)&_stack_size - 2048)
#define PORT_HEAP_START     ((void *)&_heap_start)
#define PORT_HEAP_END       ((void *)&_heap_end)

// Whether board.instructions() and the count file have a count to give: QEMU runs with -icount.
static inline int mp_hal_counting_instructions(void) {
    return mp_hal_icount_shift() >= 0;
}

// CCR.UNALIGN_TRP: unaligned LDR/STR/LDRH/STRH fault while set, as every access does on a Cortex-M0+.
// on = 0 or 1 sets it, -1 only asks; returns the previous setting. See mphalport.c.
int mp_hal_unaligned_trap(int on);
