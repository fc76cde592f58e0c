// Calls xtfix.c's plain C helpers on the emulated Xtensa CPU (start-up code: tests/xtensa_engine/start.S). Returns a bit mask
// of the failed checks (0 = all passed); every check's expected value is computed by hand.
#include <stddef.h>
#include <stdint.h>

intptr_t xtfix_add(intptr_t a, intptr_t b);
uintptr_t xtfix_sum(const uint8_t *buf, size_t len);
float xtfix_scale(float x, float k);
intptr_t xtfix_apply(uintptr_t i, intptr_t a, intptr_t b);
intptr_t xtfix_upper_prime(uintptr_t i);

static const uint8_t bytes[] = {1, 2, 3, 250, 255, 7};
volatile float three = 3.0f;  // volatile: keep the float maths out of the constant folder

int harness_main(void) {
    int fails = 0;
    fails |= (xtfix_add(40, 2) != 42) << 0;
    fails |= (xtfix_add(-5, 3) != -2) << 1;
    fails |= (xtfix_sum(bytes, sizeof(bytes)) != 518) << 2;
    fails |= (xtfix_scale(three, 2.5f) != 8.0f) << 3;
    fails |= (xtfix_apply(0, 6, 7) != 13 + 'a') << 4;
    fails |= (xtfix_apply(1, 6, 7) != -1 + 's') << 5;
    fails |= (xtfix_apply(2, 6, 7) != 42 + 'm') << 6;
    fails |= (xtfix_upper_prime(2) != 23) << 7;
    return fails;
}
