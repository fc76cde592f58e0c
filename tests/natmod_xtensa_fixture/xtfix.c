// Fixture for tests/test_xtensa_build.py: a small native module covering what the xtensawin
// pipeline has to get right (literals, GOT entries, floats, const objects holding pointers,
// section+offset literals, a class). The plain C helpers (xtfix_*) are also called directly by
// the bare-metal QEMU harness (qemu_harness.S), without MicroPython.
#include "py/dynruntime.h"

// ---- plain C helpers ------------------------------------------------------------------------

mp_int_t xtfix_add(mp_int_t a, mp_int_t b) {
    return a + b;
}

mp_uint_t xtfix_sum(const uint8_t *buf, size_t len) {
    mp_uint_t total = 0;
    for (size_t i = 0; i < len; i++) {
        total += buf[i];
    }
    return total;
}

float xtfix_scale(float x, float k) {
    return x * k + 0.5f;
}

static mp_int_t op_add(mp_int_t a, mp_int_t b) {
    return a + b;
}
static mp_int_t op_sub(mp_int_t a, mp_int_t b) {
    return a - b;
}
static mp_int_t op_mul(mp_int_t a, mp_int_t b) {
    return a * b;
}

// Const table of objects holding code and data pointers: needs load-time relocation.
typedef struct {
    const char *name;
    mp_int_t (*fn)(mp_int_t, mp_int_t);
} op_t;
static const op_t ops[] = {{"add", op_add}, {"sub", op_sub}, {"mul", op_mul}};

// No `%` by a constant in the helpers run by the QEMU harness: LLVM turns it into muluh
// (MUL32HIGH), which the ESP32 has but the emulated de233_fpu core does not.
mp_int_t xtfix_apply(mp_uint_t i, mp_int_t a, mp_int_t b) {
    const op_t *op = &ops[i < MP_ARRAY_SIZE(ops) ? i : 0];
    return op->fn(a, b) + (mp_int_t)op->name[0];
}

// Read through a pointer into the middle of a const table: literal "section + offset".
static const int16_t primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
static const int16_t *const upper = &primes[6];

mp_int_t xtfix_upper_prime(mp_uint_t i) {
    return upper[i < 6 ? i : 5];
}

// ---- MicroPython wrappers -------------------------------------------------------------------

static mp_obj_t add(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_int(xtfix_add(mp_obj_get_int(a), mp_obj_get_int(b)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(add_obj, add);

static mp_obj_t sum_bytes(mp_obj_t buf_in) {
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(buf_in, &bufinfo, MP_BUFFER_READ);
    return mp_obj_new_int_from_uint(xtfix_sum(bufinfo.buf, bufinfo.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(sum_bytes_obj, sum_bytes);

static mp_obj_t scale(mp_obj_t x, mp_obj_t k) {
    return mp_obj_new_float(xtfix_scale(mp_obj_get_float(x), mp_obj_get_float(k)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(scale_obj, scale);

static mp_obj_t apply(mp_obj_t i, mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_int(xtfix_apply(mp_obj_get_int(i), mp_obj_get_int(a), mp_obj_get_int(b)));
}
static MP_DEFINE_CONST_FUN_OBJ_3(apply_obj, apply);

static mp_obj_t upper_prime(mp_obj_t i) {
    return mp_obj_new_int(xtfix_upper_prime(mp_obj_get_int(i)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(upper_prime_obj, upper_prime);

// A const table of the function objects themselves (pointers to pointer-holding objects).
static const mp_obj_fun_builtin_fixed_t *const funs[] = {&add_obj, &scale_obj};

static mp_obj_t pick(mp_obj_t i) {
    return MP_OBJ_FROM_PTR(funs[mp_obj_get_int(i) & 1]);
}
static MP_DEFINE_CONST_FUN_OBJ_1(pick_obj, pick);

// ---- a class: Counter(start).incr(n) -> value -------------------------------------------------

typedef struct {
    mp_obj_base_t base;
    mp_int_t value;
} counter_obj_t;

mp_obj_full_type_t counter_type;
mp_map_elem_t counter_locals_table[1];
static MP_DEFINE_CONST_DICT(counter_locals, counter_locals_table);

static mp_obj_t counter_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    counter_obj_t *self = mp_obj_malloc(counter_obj_t, type);
    self->value = mp_obj_get_int(args[0]);
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t counter_incr(mp_obj_t self_in, mp_obj_t n) {
    counter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->value += mp_obj_get_int(n);
    return mp_obj_new_int(self->value);
}
static MP_DEFINE_CONST_FUN_OBJ_2(counter_incr_obj, counter_incr);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    mp_store_global(MP_QSTR_add, MP_OBJ_FROM_PTR(&add_obj));
    mp_store_global(MP_QSTR_sum_bytes, MP_OBJ_FROM_PTR(&sum_bytes_obj));
    mp_store_global(MP_QSTR_scale, MP_OBJ_FROM_PTR(&scale_obj));
    mp_store_global(MP_QSTR_apply, MP_OBJ_FROM_PTR(&apply_obj));
    mp_store_global(MP_QSTR_upper_prime, MP_OBJ_FROM_PTR(&upper_prime_obj));
    mp_store_global(MP_QSTR_pick, MP_OBJ_FROM_PTR(&pick_obj));

    counter_type.base.type = (void *)&mp_type_type;
    counter_type.flags = MP_TYPE_FLAG_NONE;
    counter_type.name = MP_QSTR_Counter;
    MP_OBJ_TYPE_SET_SLOT(&counter_type, make_new, counter_make_new, 0);
    counter_locals_table[0] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_incr), MP_OBJ_FROM_PTR(&counter_incr_obj)};
    MP_OBJ_TYPE_SET_SLOT(&counter_type, locals_dict, (void *)&counter_locals, 1);
    mp_store_global(MP_QSTR_Counter, MP_OBJ_FROM_PTR(&counter_type));

    MP_DYNRUNTIME_INIT_EXIT
}
