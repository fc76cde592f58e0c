// `board`: what is specific to running on QEMU, chiefly exact instruction counts under -icount.
#include <string.h>
#include "py/runtime.h"
#include "py/mphal.h"

// Instructions executed since boot, or None when QEMU was not started with -icount.
static mp_obj_t board_instructions(void) {
    if (mp_hal_icount_shift() < 0) {
        return mp_const_none;
    }
    return mp_obj_new_int_from_ull(mp_hal_instructions());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_instructions_obj, board_instructions);

// Raw 25 MHz timer ticks since boot (virtual time).
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

// unaligned_trap([on]): whether unaligned LDR/STR/LDRH/STRH fault (CCR.UNALIGN_TRP), setting it first
// when `on` is given; returns the setting before. Reading an armv6m module turns it on (main.c).
static mp_obj_t board_unaligned_trap(size_t n_args, const mp_obj_t *args) {
    return mp_obj_new_bool(mp_hal_unaligned_trap(n_args ? mp_obj_is_true(args[0]) : -1));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(board_unaligned_trap_obj, 0, 1, board_unaligned_trap);

// load32(addr), load16(addr): one LDR or LDRH at any address (like machine.mem32/mem16, which this port
// lacks), to see the unaligned-access trap work.
static mp_obj_t board_load32(mp_obj_t addr_in) {
    uint32_t addr = mp_obj_get_int_truncated(addr_in), v;
    __asm volatile ("ldr %0, [%1]" : "=r" (v) : "r" (addr) : "memory");
    return mp_obj_new_int_from_uint(v);
}
static MP_DEFINE_CONST_FUN_OBJ_1(board_load32_obj, board_load32);

static mp_obj_t board_load16(mp_obj_t addr_in) {
    uint32_t addr = mp_obj_get_int_truncated(addr_in), v;
    __asm volatile ("ldrh %0, [%1]" : "=r" (v) : "r" (addr) : "memory");
    return MP_OBJ_NEW_SMALL_INT(v);
}
static MP_DEFINE_CONST_FUN_OBJ_1(board_load16_obj, board_load16);

// Name of the emulated CPU, from the part number in SCB CPUID.
static mp_obj_t board_cpu(void) {
    uint32_t part = (*(volatile uint32_t *)0xE000ED00 >> 4) & 0xfff;
    const char *name = part == 0xc27 ? "cortex-m7" : part == 0xc23 ? "cortex-m3" : "cortex-m4";
    return mp_obj_new_str(name, strlen(name));
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_cpu_obj, board_cpu);

static const mp_rom_map_elem_t board_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_board) },
    { MP_ROM_QSTR(MP_QSTR_instructions), MP_ROM_PTR(&board_instructions_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks), MP_ROM_PTR(&board_ticks_obj) },
    { MP_ROM_QSTR(MP_QSTR_icount_shift), MP_ROM_PTR(&board_icount_shift_obj) },
    { MP_ROM_QSTR(MP_QSTR_cpu), MP_ROM_PTR(&board_cpu_obj) },
    { MP_ROM_QSTR(MP_QSTR_unaligned_trap), MP_ROM_PTR(&board_unaligned_trap_obj) },
    { MP_ROM_QSTR(MP_QSTR_load32), MP_ROM_PTR(&board_load32_obj) },
    { MP_ROM_QSTR(MP_QSTR_load16), MP_ROM_PTR(&board_load16_obj) },
};
static MP_DEFINE_CONST_DICT(board_globals, board_globals_table);

const mp_obj_module_t board_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&board_globals,
};
MP_REGISTER_MODULE(MP_QSTR_board, board_module);
