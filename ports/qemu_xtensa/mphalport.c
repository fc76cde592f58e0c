// Console through semihosting (fd 0/1 of QEMU, or the chardev of -semihosting-config chardev=), time from
// CCOUNT, and the instruction count.
#include "py/runtime.h"
#include "py/mphal.h"
#include "py/stream.h"
#include "semihost.h"

int xt_simcall(int op, int a, int b, int c);        // start.S
extern volatile uint32_t xt_ccount_wraps;           // start.S: CCOUNT wraps (timer 0 interrupt)
extern volatile uint32_t xt_mul32high_emulated;     // start.S: MULSH/MULUH emulated

// The core's clock: de233_fpu runs CCOUNT at 40 MHz of QEMU's virtual time (clock_freq_khz in QEMU's core
// configuration; MP_HAL_TICKS_HZ), so a tick is 25 ns. ticks_ms/us and delays: ports/qemu_common/mphal_time.c.
#define NS_PER_TICK 25u

static inline uint32_t ccount(void) {
    uint32_t c;
    __asm__ volatile ("rsr %0, ccount" : "=r" (c));
    return c;
}

uint64_t mp_hal_ticks64(void) {
    uint32_t hi, lo;
    do {
        hi = xt_ccount_wraps;
        lo = ccount();
    } while (hi != xt_ccount_wraps);
    return ((uint64_t)hi << 32) | lo;
}

// ---- instruction count ----------------------------------------------------------------------------

// Under `-icount shift=N` every instruction takes 2^N ns of virtual time, so instructions = ticks * 25 / 2^N.
// N is found by timing a loop of a known instruction count (2 per iteration); without -icount CCOUNT
// follows host time and no N fits.
static int icount_shift = -1;
static int mul32high_cost = -1;

static uint64_t ticks_to_instructions(uint64_t ticks) {
    uint64_t t = ticks * NS_PER_TICK;
    return icount_shift > 0 ? (t + (1u << (icount_shift - 1))) >> icount_shift : t;
}

static int measure_icount_shift(uint32_t iterations) {
    uint32_t n = iterations;
    uint32_t t0 = ccount();
    __asm__ volatile ("1: addi %0, %0, -1\n bnez %0, 1b" : "+r" (n));
    uint32_t t1 = ccount();
    return mp_hal_icount_shift_fitting((uint64_t)(t1 - t0) * NS_PER_TICK, 2 * (uint64_t)iterations);
}

// Instructions a loop of `iterations` MULSHs takes beyond the same loop with MULL (plus a small constant:
// the code around the two loops differs a little).
static int32_t mulsh_extra(uint32_t iterations) {
    uint32_t n = iterations, a = 0x12345678, b = 0x9abcdef0, r;
    uint64_t t0 = ticks_to_instructions(mp_hal_ticks64());
    __asm__ volatile ("1: mulsh %1, %2, %3\n addi %0, %0, -1\n bnez %0, 1b" : "+r" (n), "=&r" (r) : "r" (a), "r" (b));
    uint64_t t1 = ticks_to_instructions(mp_hal_ticks64());
    n = iterations;
    __asm__ volatile ("1: mull %1, %2, %3\n addi %0, %0, -1\n bnez %0, 1b" : "+r" (n), "=&r" (r) : "r" (a), "r" (b));
    uint64_t t2 = ticks_to_instructions(mp_hal_ticks64());
    return (int32_t)(t1 - t0) - (int32_t)(t2 - t1);
}

// What one emulated MULSH costs beyond one instruction. start.S's emulation takes the same path for every
// operand, so this is an integer; two loop lengths cancel the constant. Each count is exact to about one
// instruction (a CCOUNT tick is 25 ns, an instruction 2^N ns), so the difference must be within 2 of a
// multiple of the added iterations, or the count is not trusted (-1).
static int measure_mul32high_cost(void) {
    int32_t short_run = mulsh_extra(64), long_run = mulsh_extra(192);
    int32_t extra = long_run - short_run;
    int32_t cost = (extra + 64) / 128;
    int32_t error = extra - cost * 128;
    if (cost <= 0 || error < -2 || error > 2) {
        return -1;
    }
    return cost;
}

int mp_hal_icount_shift(void) {
    return icount_shift;
}

uint32_t mp_hal_mul32high_emulated(void) {
    return xt_mul32high_emulated;
}

int mp_hal_mul32high_cost(void) {
    return mul32high_cost;
}

uint64_t mp_hal_instructions(void) {
    uint32_t emulated;
    uint64_t ticks;
    do {
        emulated = xt_mul32high_emulated;
        ticks = mp_hal_ticks64();
    } while (emulated != xt_mul32high_emulated);
    return ticks_to_instructions(ticks) - (uint64_t)emulated * (mul32high_cost > 0 ? mul32high_cost : 0);
}

// ---- console --------------------------------------------------------------------------------------

enum { SYS_READ = 3, SYS_WRITE = 4, SYS_SELECT_ONE = 29 };

// Blocking read of one byte from fd 0. With QEMU's stdin that read blocks in QEMU; with a chardev console
// (-semihosting-config chardev=) it fails with EAGAIN until input arrives, so poll. End of input exits:
// a REPL fed from a pipe then ends with its input.
int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        unsigned char c;
        int n = xt_simcall(SYS_READ, 0, (int)&c, 1);
        if (n == 1) {
            if (c == mp_interrupt_char) {
                mp_sched_keyboard_interrupt();
            } else {
                return c;
            }
        } else if (n == 0) {
            sh_exit(0);
        }
        mp_handle_pending(true);
    }
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    uintptr_t ret = 0;
    if ((poll_flags & MP_STREAM_POLL_RD) && xt_simcall(SYS_SELECT_ONE, 0, 1, 0) > 0) {
        ret |= MP_STREAM_POLL_RD;
    }
    if (poll_flags & MP_STREAM_POLL_WR) {
        ret |= MP_STREAM_POLL_WR;
    }
    return ret;
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    size_t done = 0;
    while (done < len) {
        int n = xt_simcall(SYS_WRITE, 1, (int)(str + done), len - done);
        if (n <= 0) {
            break;
        }
        done += n;
    }
    return len;
}

// ---- init --------------------------------------------------------------------------------------------

void mp_hal_init(void) {
    // CCOUNT wrap interrupt: timer 0 (interrupt 6, level 1) when CCOUNT passes CCOMPARE0 = 0.
    uint32_t zero = 0, enable = 1u << 6;
    __asm__ volatile ("wsr %0, ccompare0\n wsr %1, intenable\n rsync" : : "r" (zero), "r" (enable));
    xt_enable_irq(0x40000);     // PS: WOE=1, INTLEVEL=0

    // Two lengths must agree, so that host-time jitter cannot fake a match.
    int shift = measure_icount_shift(1 << 14);
    if (shift >= 0 && measure_icount_shift(3 << 14) == shift) {
        icount_shift = shift;
        mul32high_cost = measure_mul32high_cost();
    }
}
