// Vector table and reset handler. QEMU's -kernel loads every ELF segment (code at 0x0, data at
// 0x20000000) itself, so there is no .data copy; .bss is cleared for a clean restart.
#include <stdint.h>
#include <string.h>
#include "semihost.h"

extern uint32_t _estack, _sbss, _ebss;
int main(void);
void TIMER0_Handler(void);
void UART0RX_Handler(void);
uint32_t mp_hal_stdout_tx_strn(const char *str, size_t len);

void Reset_Handler(void) __attribute__((naked, noreturn));
void Reset_Handler(void) {
    // GCC emits FPU instructions even in integer code (register spills, memcpy...), so the FPU
    // must be on (CPACR: full access to CP10/CP11) before any C runs. The M3 has none.
    __asm volatile (
        #if defined(__ARM_FP)
        "ldr r0, =0xe000ed88\n"
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xf << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
        #endif
        "ldr r0, =_estack\n"
        "mov sp, r0\n"
        "b reset_c\n"
    );
}

void reset_c(void) __attribute__((noreturn, used));
void reset_c(void) {
    memset(&_sbss, 0, (char *)&_ebss - (char *)&_sbss);
    sh_exit(main());
}

static void Fault_Handler(void) {
    static const char msg[] = "\r\nFATAL: CPU fault\r\n";
    mp_hal_stdout_tx_strn(msg, sizeof(msg) - 1);
    sh_exit(3);
}

static void Default_Handler(void) {
    for (;;) {
    }
}

// 16 system exceptions, then external interrupts: UART0 RX is IRQ 0, timer 0 is IRQ 8.
__attribute__((section(".isr_vector"), used))
static const void *const vector_table[16 + 16] = {
    &_estack, Reset_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,   // NMI..UsageFault
    0, 0, 0, 0,
    Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,       // SVC..SysTick
    [16 + 0] = UART0RX_Handler,
    [16 + 1] = Default_Handler,
    [16 + 2 ... 16 + 7] = Default_Handler,
    [16 + 8] = TIMER0_Handler,
    [16 + 9 ... 16 + 15] = Default_Handler,
};
