// `board`: what is specific to running on QEMU, chiefly exact instruction counts under -icount. The
// functions every QEMU port has are here (device/bench.py uses them); each port adds its own from its
// modboard_port.h (mps2: the unaligned-access trap; xtensa: the MULSH/MULUH emulation).
#include <string.h>
#include "py/runtime.h"
#include "py/mphal.h"
#include "modboard_port.h"

// Instructions executed since boot, or None when they are not counted (see mp_hal_counting_instructions).
static mp_obj_t board_instructions(void) {
    if (!mp_hal_counting_instructions()) {
        return mp_const_none;
    }
    return mp_obj_new_int_from_ull(mp_hal_instructions());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_instructions_obj, board_instructions);

// Raw timer ticks since boot (virtual time; mps2: 25 MHz timer, xtensa: 40 MHz CCOUNT).
static mp_obj_t board_ticks(void) {
    return mp_obj_new_int_from_ull(mp_hal_ticks64());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_ticks_obj, board_ticks);

// N of QEMU's -icount shift=N (an instruction takes 2^N ns), or None.
static mp_obj_t board_icount_shift(void) {
    int shift = mp_hal_icount_shift();
    return shift < 0 ? mp_const_none : MP_OBJ_NEW_SMALL_INT(shift);
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_icount_shift_obj, board_icount_shift);

// Name of the emulated CPU.
static mp_obj_t board_cpu(void) {
    const char *name = board_cpu_name();
    return mp_obj_new_str(name, strlen(name));
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_cpu_obj, board_cpu);

static const mp_rom_map_elem_t board_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_board) },
    { MP_ROM_QSTR(MP_QSTR_instructions), MP_ROM_PTR(&board_instructions_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks), MP_ROM_PTR(&board_ticks_obj) },
    { MP_ROM_QSTR(MP_QSTR_icount_shift), MP_ROM_PTR(&board_icount_shift_obj) },
    { MP_ROM_QSTR(MP_QSTR_cpu), MP_ROM_PTR(&board_cpu_obj) },
    BOARD_PORT_GLOBALS
};
static MP_DEFINE_CONST_DICT(board_globals, board_globals_table);

const mp_obj_module_t board_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&board_globals,
};

MP_REGISTER_MODULE(MP_QSTR_board, board_module);
