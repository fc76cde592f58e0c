// Console on the CMSDK APB UART0 and time from CMSDK APB timer 0, as wired on QEMU's mps2 boards.
#include "py/runtime.h"
#include "py/mphal.h"
#include "py/stream.h"

typedef struct { volatile uint32_t DATA, STATE, CTRL, INTSTATUS, BAUDDIV; } uart_t;
typedef struct { volatile uint32_t CTRL, VALUE, RELOAD, INTSTATUS; } timer_t_;
#define UART0   ((uart_t *)0x40004000)
#define TIMER0  ((timer_t_ *)0x40000000)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100)
#define IRQ_UART0_RX 0
#define IRQ_TIMER0 8

#define UART_STATE_TXFULL 1
#define UART_STATE_RXFULL 2
#define UART_CTRL_TXEN 1
#define UART_CTRL_RXEN 2
#define UART_CTRL_RXINT 8
#define UART_INT_RX 2

#define SYSCLK_HZ MP_HAL_TICKS_HZ        // the timer and the UART run on the 25 MHz system clock

// ---- time -------------------------------------------------------------------------------------

// Timer 0 counts down from 0xffffffff at 25 MHz; its wrap interrupt extends it to 64 bits.
static volatile uint32_t timer_wraps;
static int icount_shift = -1;

void TIMER0_Handler(void) {
    TIMER0->INTSTATUS = 1;
    timer_wraps++;
}

uint64_t mp_hal_ticks64(void) {
    uint32_t hi, value;
    do {
        hi = timer_wraps;
        value = TIMER0->VALUE;
    } while (hi != timer_wraps);
    return ((uint64_t)hi << 32) | (0xffffffff - value);
}

// Under `-icount shift=N` each instruction takes 2^N ns of virtual time and the timer ticks every
// 40 ns, so instructions = ticks * 40 / 2^N. Find N by timing a loop of a known instruction count
// (2 instructions per iteration). Without -icount the timer follows host time and no N fits.
// (ticks_ms/us and delays: ports/qemu_common/mphal_time.c.)
static int measure_icount_shift(uint32_t iterations) {
    uint32_t n = iterations;
    uint32_t t0 = TIMER0->VALUE;
    __asm volatile ("1: subs %0, %0, #1\n bne 1b" : "+r" (n));
    uint32_t t1 = TIMER0->VALUE;
    return mp_hal_icount_shift_fitting((uint64_t)(t0 - t1) * 40, 2 * (uint64_t)iterations);
}

int mp_hal_icount_shift(void) {
    return icount_shift;
}

uint64_t mp_hal_instructions(void) {
    uint64_t t = mp_hal_ticks64() * 40;
    return icount_shift > 0 ? (t + (1 << (icount_shift - 1))) >> icount_shift : t;
}

// ---- console --------------------------------------------------------------------------------------

// Received bytes go through an interrupt handler so that Ctrl-C can interrupt a running script.
// When the ring is full the handler leaves the byte in the UART and masks the interrupt; QEMU then
// holds back further input (the UART has a 1-byte buffer), so nothing is lost.
static uint8_t rx_ring[512];
static volatile uint32_t rx_head, rx_tail;

void UART0RX_Handler(void) {
    UART0->INTSTATUS = UART_INT_RX;
    while (UART0->STATE & UART_STATE_RXFULL) {
        if (rx_head - rx_tail >= sizeof(rx_ring)) {
            UART0->CTRL &= ~UART_CTRL_RXINT;
            return;
        }
        int c = UART0->DATA & 0xff;
        if (c == mp_interrupt_char) {
            mp_sched_keyboard_interrupt();
        } else {
            rx_ring[rx_head++ % sizeof(rx_ring)] = c;
        }
    }
}

int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        // Check and sleep with interrupts masked: a pending interrupt still ends WFI, and none is missed.
        uint32_t state = disable_irq();
        if (rx_head != rx_tail) {
            int c = rx_ring[rx_tail++ % sizeof(rx_ring)];
            UART0->CTRL |= UART_CTRL_RXINT;
            enable_irq(state);
            return c;
        }
        __asm volatile ("wfi");
        enable_irq(state);
        mp_handle_pending(true);
    }
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    uintptr_t ret = 0;
    if ((poll_flags & MP_STREAM_POLL_RD) && rx_head != rx_tail) {
        ret |= MP_STREAM_POLL_RD;
    }
    if (poll_flags & MP_STREAM_POLL_WR) {
        ret |= MP_STREAM_POLL_WR;
    }
    return ret;
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    for (size_t i = 0; i < len; i++) {
        while (UART0->STATE & UART_STATE_TXFULL) {
        }
        UART0->DATA = (uint8_t)str[i];
    }
    return len;
}

// ---- unaligned-access trap ---------------------------------------------------------------------------

// SCB->CCR bit 3, UNALIGN_TRP. A Cortex-M0/M0+ (armv6m) faults on every unaligned word or halfword access;
// a Cortex-M3/M4 allows unaligned LDR/STR/LDRH/STRH unless this bit is set (LDM/STM/LDRD always fault).
// Setting it makes the M3 board behave like a Pico for the armv6m modules it runs: the firmware sets it as
// soon as it reads an armv6m .mpy (main.c), and board.unaligned_trap() sets or clears it by hand. That is
// only sound because this firmware never makes unaligned accesses itself: the M3 build is compiled with
// -mno-unaligned-access and uses MicroPython's byte-safe string0.c instead of newlib's memcpy (Makefile).
#define SCB_CCR (*(volatile uint32_t *)0xE000ED14)
#define CCR_UNALIGN_TRP (1u << 3)

int mp_hal_unaligned_trap(int on) {
    int was = (SCB_CCR & CCR_UNALIGN_TRP) != 0;
    if (on >= 0) {
        SCB_CCR = on ? SCB_CCR | CCR_UNALIGN_TRP : SCB_CCR & ~CCR_UNALIGN_TRP;
        __asm volatile ("dsb\n isb" ::: "memory");
    }
    return was;
}

// ---- init --------------------------------------------------------------------------------------------

void mp_hal_init(void) {
    UART0->BAUDDIV = SYSCLK_HZ / 115200;    // QEMU ignores the rate but wants a valid divider
    UART0->CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINT;

    TIMER0->RELOAD = 0xffffffff;
    TIMER0->VALUE = 0xffffffff;
    TIMER0->CTRL = 1 | 8;                   // enable, interrupt on wrap
    NVIC_ISER0 = (1 << IRQ_UART0_RX) | (1 << IRQ_TIMER0);

    // Two lengths must agree, so that host-time jitter cannot fake a match.
    int shift = measure_icount_shift(1 << 14);
    if (shift >= 0 && measure_icount_shift(3 << 14) == shift) {
        icount_shift = shift;
    }
}
