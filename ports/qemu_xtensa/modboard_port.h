// The Xtensa port's part of the `board` module (ports/qemu_common/modboard.c, which includes this once):
// the CPU's name and the MULSH/MULUH emulation's counters.

static const char *board_cpu_name(void) {
    return "de233_fpu";
}

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

#define BOARD_PORT_GLOBALS \
    { MP_ROM_QSTR(MP_QSTR_mul32high_emulated), MP_ROM_PTR(&board_mul32high_emulated_obj) }, \
    { MP_ROM_QSTR(MP_QSTR_mul32high_cost), MP_ROM_PTR(&board_mul32high_cost_obj) },
