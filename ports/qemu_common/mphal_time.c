// Time for both QEMU ports, from their timer's ticks (mp_hal_ticks64, MP_HAL_TICKS_HZ in virtual time:
// under -icount it follows the instruction count, not the host's clock).
#include "py/runtime.h"
#include "py/mphal.h"

mp_uint_t mp_hal_ticks_ms(void) {
    return mp_hal_ticks64() / (MP_HAL_TICKS_HZ / 1000);
}

mp_uint_t mp_hal_ticks_us(void) {
    return mp_hal_ticks64() / (MP_HAL_TICKS_HZ / 1000000);
}

void mp_hal_delay_us(mp_uint_t us) {
    uint64_t end = mp_hal_ticks64() + (uint64_t)us * (MP_HAL_TICKS_HZ / 1000000);
    while (mp_hal_ticks64() < end) {
        mp_handle_pending(true);
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    mp_hal_delay_us(ms * 1000);
}

int mp_hal_icount_shift_fitting(uint64_t elapsed_ns, uint64_t instructions) {
    for (int shift = 0; shift <= 16; shift++) {
        uint64_t expect = instructions << shift;
        if (elapsed_ns + expect / 64 >= expect && elapsed_ns <= expect + expect / 64) {
            return shift;
        }
    }
    return -1;
}
