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

// ---- faults ------------------------------------------------------------------------------------------
// A fault prints one line saying what happened and exits QEMU with status 3, so a host test fails with a
// readable message instead of hanging. An unaligned access (UFSR.UNALIGNED, set when CCR.UNALIGN_TRP is
// on, see board.unaligned_trap in modboard.c, and for LDM/STM/LDRD at unaligned addresses always) is
// named with the faulting instruction's PC and the address it accessed. The hardware records no address
// for a usage fault (MMFAR/BFAR are for MemManage/bus faults only), so it is decoded from the load/store
// instruction at PC and the registers saved at the fault.
#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28)
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2C)
#define SCB_BFAR  (*(volatile uint32_t *)0xE000ED38)
#define CFSR_UNALIGNED (1u << 24)
#define CFSR_BFARVALID (1u << 15)

static void fault_puts(const char *s) {
    mp_hal_stdout_tx_strn(s, strlen(s));
}

static void fault_hex(const char *label, uint32_t v) {
    char text[11] = "0x";
    for (int i = 0; i < 8; i++) {
        text[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    }
    text[10] = 0;
    fault_puts(label);
    fault_puts(text);
}

// r[0..15] at the fault: r0-r3, r12, lr, pc from the exception frame, r4-r11 as the handler found them.
// Returns 1 and the address a Thumb load/store at r[15] accesses, or 0 for an instruction not decoded.
static int access_address(const uint32_t *r, uint32_t *addr) {
    const uint16_t *pc = (const uint16_t *)(r[15] & ~1u);
    uint32_t op = pc[0];
    if ((op >> 11) >= 0x1d) {                       // 32-bit Thumb-2 instruction
        uint32_t op2 = pc[1], rn = op & 15, rm = op2 & 15;
        uint32_t base = rn == 15 ? ((r[15] + 4) & ~3u) : r[rn];
        if ((op & 0xfe00) == 0xf800) {                          // LDR/STR{,B,H}, LDRS{B,H}
            if (rn == 15) {                                     // literal, U in bit 7
                *addr = (op & 0x0080) ? base + (op2 & 0xfff) : base - (op2 & 0xfff);
            } else if (op & 0x0080) {                           // imm12
                *addr = base + (op2 & 0xfff);
            } else if ((op2 & 0x0fc0) == 0) {                   // register, LSL #imm2
                *addr = base + (r[rm] << ((op2 >> 4) & 3));
            } else if (op2 & 0x0800) {                          // imm8, P U W
                uint32_t imm = op2 & 0xff;
                uint32_t target = (op2 & 0x0200) ? base + imm : base - imm;
                *addr = (op2 & 0x0400) ? target : base;         // post-indexed accesses the base
            } else {
                return 0;
            }
            return 1;
        }
        if ((op & 0xfe40) == 0xe840) {                            // LDRD/STRD (imm8 << 2)
            uint32_t imm = (op2 & 0xff) << 2;
            uint32_t target = (op & 0x0080) ? base + imm : base - imm;
            *addr = (op & 0x0100) ? target : base;
            return 1;
        }
        if ((op & 0xff20) == 0xed00 && (op2 & 0x0e00) == 0x0a00) {   // VLDR/VSTR (imm8 << 2, U in bit 7)
            uint32_t imm = (op2 & 0xff) << 2;
            *addr = (op & 0x0080) ? base + imm : base - imm;
            return 1;
        }
        if ((op & 0xfe00) == 0xec00 && (op & 0x01a0) != 0 && (op2 & 0x0e00) == 0x0a00) {  // VLDM/VSTM/VPUSH/VPOP
            *addr = (op & 0x0100) ? base - ((op2 & 0xff) << 2) : base;
            return 1;
        }
        if ((op & 0xfe40) == 0xe800) {                            // LDM/STM (IA: base, DB: below it)
            uint32_t n = __builtin_popcount(op2 & 0xffff);
            *addr = (op & 0x0100) ? base - 4 * n : base;
            return 1;
        }
        return 0;
    }
    uint32_t rt_base = r[(op >> 3) & 7], rm = r[(op >> 6) & 7], imm5 = (op >> 6) & 31;
    switch (op >> 11) {
        case 0x0c: case 0x0d: *addr = rt_base + 4 * imm5; return 1;    // STR/LDR Rt, [Rn, #imm5 * 4]
        case 0x10: case 0x11: *addr = rt_base + 2 * imm5; return 1;    // STRH/LDRH Rt, [Rn, #imm5 * 2]
        case 0x0e: case 0x0f: *addr = rt_base + imm5; return 1;        // STRB/LDRB
        case 0x0a: case 0x0b: *addr = rt_base + rm; return 1;          // STR/STRH/STRB/LDRSB/LDR/LDRH/...
        case 0x18: case 0x19: *addr = r[(op >> 8) & 7]; return 1;      // STM/LDM Rn!, {...}
        case 0x12: case 0x13: *addr = r[13] + 4 * (op & 0xff); return 1; // STR/LDR Rt, [SP, #imm8 * 4]
        default: return 0;
    }
}

void fault_report(uint32_t *frame, uint32_t *r4_r11) __attribute__((used, noreturn));
void fault_report(uint32_t *frame, uint32_t *r4_r11) {
    // The trap off first: this handler must not fault again (a lockup would hide the message).
    *(volatile uint32_t *)0xE000ED14 &= ~(1u << 3);
    uint32_t r[16];
    for (int i = 0; i < 4; i++) {
        r[i] = frame[i];
    }
    for (int i = 0; i < 8; i++) {
        r[4 + i] = r4_r11[i];
    }
    r[12] = frame[4];
    r[13] = (uint32_t)(frame + 8);      // SP before the exception (basic frame, no FP state or padding)
    r[14] = frame[5];
    r[15] = frame[6];
    uint32_t cfsr = SCB_CFSR, addr;
    fault_puts("\r\nFATAL: HardFault: ");
    if (cfsr & CFSR_UNALIGNED) {
        fault_hex("unaligned access at PC=", r[15]);
        if (access_address(r, &addr)) {
            fault_hex(", address=", addr);
        } else {
            fault_puts(", address=?");
        }
    } else {
        fault_hex("CPU fault at PC=", r[15]);
        fault_hex(", CFSR=", cfsr);
        fault_hex(", HFSR=", SCB_HFSR);
        if (cfsr & CFSR_BFARVALID) {
            fault_hex(", BFAR=", SCB_BFAR);
        }
    }
    fault_hex(", LR=", r[14]);
    fault_puts("\r\n");
    sh_exit(3);
}

// Finds the frame the exception pushed (on MSP or PSP, from EXC_RETURN bit 2) and hands it, with r4-r11
// as they were at the fault, to fault_report.
void Fault_Handler(void) __attribute__((naked, noreturn));
void Fault_Handler(void) {
    __asm volatile (
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "push {r4-r11}\n"
        "mov r1, sp\n"
        "b fault_report\n"
    );
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
