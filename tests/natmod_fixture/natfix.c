// A tiny dynamic native module used by tests/test_qemu_port.py to check that the QEMU firmware
// imports armv7emsp .mpy files: integer, buffer and float arguments.
#include "py/dynruntime.h"

// add(a, b) -> a + b
static mp_obj_t add(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_int(mp_obj_get_int(a) + mp_obj_get_int(b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(add_obj, add);

// bytesum(buf) -> sum of the bytes of buf
static mp_obj_t bytesum(mp_obj_t buf_in) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(buf_in, &info, MP_BUFFER_READ);
    const uint8_t *p = info.buf;
    mp_int_t sum = 0;
    for (size_t i = 0; i < info.len; i++) {
        sum += p[i];
    }
    return mp_obj_new_int(sum);
}
static MP_DEFINE_CONST_FUN_OBJ_1(bytesum_obj, bytesum);

// scale(x, k) -> x * k as a float: float arguments must arrive in the right registers
static mp_obj_t scale(mp_obj_t x, mp_obj_t k) {
    return mp_obj_new_float(mp_obj_get_float(x) * mp_obj_get_float(k));
}
static MP_DEFINE_CONST_FUN_OBJ_2(scale_obj, scale);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_add, MP_OBJ_FROM_PTR(&add_obj));
    mp_store_global(MP_QSTR_bytesum, MP_OBJ_FROM_PTR(&bytesum_obj));
    mp_store_global(MP_QSTR_scale, MP_OBJ_FROM_PTR(&scale_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
