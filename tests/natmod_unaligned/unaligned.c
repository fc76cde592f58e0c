// A native module whose word and halfword loads go wherever they are told, as a cast of a misaligned
// pointer in the engine would: tests/test_qemu_unaligned.py checks that the armv6m build of it faults on
// the emulated Cortex-M3 (the firmware sets CCR.UNALIGN_TRP when it reads an armv6m module), as it would
// on a Cortex-M0+, and that the armv7m build (unaligned LDR/LDRH allowed) does not.
#include "py/dynruntime.h"

// load32(buf, offset) -> the word at buf + offset (one LDR)
static mp_obj_t load32(mp_obj_t buf_in, mp_obj_t offset_in) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(buf_in, &info, MP_BUFFER_READ);
    const volatile uint32_t *p = (const volatile uint32_t *)((const uint8_t *)info.buf + mp_obj_get_int(offset_in));
    return mp_obj_new_int_from_uint(*p);
}
static MP_DEFINE_CONST_FUN_OBJ_2(load32_obj, load32);

// load16(buf, offset) -> the halfword at buf + offset (one LDRH)
static mp_obj_t load16(mp_obj_t buf_in, mp_obj_t offset_in) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(buf_in, &info, MP_BUFFER_READ);
    const volatile uint16_t *p = (const volatile uint16_t *)((const uint8_t *)info.buf + mp_obj_get_int(offset_in));
    return MP_OBJ_NEW_SMALL_INT(*p);
}
static MP_DEFINE_CONST_FUN_OBJ_2(load16_obj, load16);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_load32, MP_OBJ_FROM_PTR(&load32_obj));
    mp_store_global(MP_QSTR_load16, MP_OBJ_FROM_PTR(&load16_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
