// The mps2 port's part of the `board` module (ports/qemu_common/modboard.c, which includes this once):
// the CPU's name and the unaligned-access trap.

// Name of the emulated CPU, from the part number in SCB CPUID.
static const char *board_cpu_name(void) {
    uint32_t part = (*(volatile uint32_t *)0xE000ED00 >> 4) & 0xfff;
    return part == 0xc27 ? "cortex-m7" : part == 0xc23 ? "cortex-m3" : "cortex-m4";
}

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

#define BOARD_PORT_GLOBALS \
    { MP_ROM_QSTR(MP_QSTR_unaligned_trap), MP_ROM_PTR(&board_unaligned_trap_obj) }, \
    { MP_ROM_QSTR(MP_QSTR_load32), MP_ROM_PTR(&board_load32_obj) }, \
    { MP_ROM_QSTR(MP_QSTR_load16), MP_ROM_PTR(&board_load16_obj) },
