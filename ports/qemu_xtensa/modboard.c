// `board`: what is specific to running on QEMU's Xtensa core, chiefly exact instruction counts under
// -icount (the same interface as the mps2 port's board module, which device/bench.py uses).
#include <string.h>
#include "py/runtime.h"
#include "py/mphal.h"

// Instructions executed since boot, each emulated MULSH/MULUH counted as one (as the ESP32 executes them),
// or None when QEMU was not started with -icount or the emulation's cost could not be measured.
static mp_obj_t board_instructions(void) {
    if (mp_hal_icount_shift() < 0 || mp_hal_mul32high_cost() <= 0) {
        return mp_const_none;
    }
    return mp_obj_new_int_from_ull(mp_hal_instructions());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_instructions_obj, board_instructions);

// Raw CCOUNT ticks since boot (40 MHz of virtual time).
static mp_obj_t board_ticks(void) {
    return mp_obj_new_int_from_ull(mp_hal_ticks64());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_ticks_obj, board_ticks);

// N of -icount shift=N as measured at boot, or None.
static mp_obj_t board_icount_shift(void) {
    int shift = mp_hal_icount_shift();
    return shift < 0 ? mp_const_none : MP_OBJ_NEW_SMALL_INT(shift);
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_icount_shift_obj, board_icount_shift);

// MULSH/MULUH instructions emulated since boot (the core lacks the ESP32's MUL32HIGH option).
static mp_obj_t board_mul32high_emulated(void) {
    return mp_obj_new_int_from_uint(mp_hal_mul32high_emulated());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_mul32high_emulated_obj, board_mul32high_emulated);

// Instructions one emulation takes beyond the one it stands for (measured at boot), or None.
static mp_obj_t board_mul32high_cost(void) {
    int cost = mp_hal_mul32high_cost();
    return cost <= 0 ? mp_const_none : MP_OBJ_NEW_SMALL_INT(cost);
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_mul32high_cost_obj, board_mul32high_cost);

static mp_obj_t board_cpu(void) {
    return mp_obj_new_str("de233_fpu", 9);
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_cpu_obj, board_cpu);

static const mp_rom_map_elem_t board_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_board) },
    { MP_ROM_QSTR(MP_QSTR_instructions), MP_ROM_PTR(&board_instructions_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks), MP_ROM_PTR(&board_ticks_obj) },
    { MP_ROM_QSTR(MP_QSTR_icount_shift), MP_ROM_PTR(&board_icount_shift_obj) },
    { MP_ROM_QSTR(MP_QSTR_mul32high_emulated), MP_ROM_PTR(&board_mul32high_emulated_obj) },
    { MP_ROM_QSTR(MP_QSTR_mul32high_cost), MP_ROM_PTR(&board_mul32high_cost_obj) },
    { MP_ROM_QSTR(MP_QSTR_cpu), MP_ROM_PTR(&board_cpu_obj) },
};
static MP_DEFINE_CONST_DICT(board_globals, board_globals_table);

const mp_obj_module_t board_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&board_globals,
};
MP_REGISTER_MODULE(MP_QSTR_board, board_module);
