// `os`: the little mpremote needs (stat, remove, rename, listdir...), over semihosting files in QEMU's
// working directory. Semihosting cannot list a directory: listdir()/ilistdir() return nothing.
#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "semihost.h"
#include "port.h"

static mp_obj_t os_stat(mp_obj_t path_in) {
    const char *path = mp_obj_str_get_str(path_in);
    long size;
    int kind = port_path_kind(path, &size);
    if (kind == 0) {
        mp_raise_OSError(MP_ENOENT);
    }
    mp_obj_t t[10];
    t[0] = MP_OBJ_NEW_SMALL_INT(kind == 2 ? 0x4000 : 0x8000);     // S_IFDIR / S_IFREG
    for (int i = 1; i < 10; i++) {
        t[i] = MP_OBJ_NEW_SMALL_INT(0);
    }
    t[6] = mp_obj_new_int(size);
    return mp_obj_new_tuple(10, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_stat_obj, os_stat);

static mp_obj_t os_remove(mp_obj_t path_in) {
    if (sh_remove(port_host_path(mp_obj_str_get_str(path_in))) != 0) {
        mp_raise_OSError(MP_ENOENT);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_remove_obj, os_remove);

static mp_obj_t os_rename(mp_obj_t from_in, mp_obj_t to_in) {
    const char *to = port_host_path(mp_obj_str_get_str(to_in));
    if (sh_rename(port_host_path(mp_obj_str_get_str(from_in)), to) != 0) {
        mp_raise_OSError(MP_ENOENT);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(os_rename_obj, os_rename);

static mp_obj_t os_listdir(size_t n_args, const mp_obj_t *args) {
    return mp_obj_new_list(0, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_listdir_obj, 0, 1, os_listdir);

static mp_obj_t os_ilistdir(size_t n_args, const mp_obj_t *args) {
    return mp_getiter(mp_obj_new_list(0, NULL), NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_ilistdir_obj, 0, 1, os_ilistdir);

static mp_obj_t os_getcwd(void) {
    return MP_OBJ_NEW_QSTR(MP_QSTR__slash_);
}
static MP_DEFINE_CONST_FUN_OBJ_0(os_getcwd_obj, os_getcwd);

static mp_obj_t os_unsupported(size_t n_args, const mp_obj_t *args) {
    mp_raise_OSError(MP_EPERM);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_unsupported_obj, 0, 2, os_unsupported);

static const mp_rom_map_elem_t os_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_os) },
    { MP_ROM_QSTR(MP_QSTR_sep), MP_ROM_QSTR(MP_QSTR__slash_) },
    { MP_ROM_QSTR(MP_QSTR_stat), MP_ROM_PTR(&os_stat_obj) },
    { MP_ROM_QSTR(MP_QSTR_remove), MP_ROM_PTR(&os_remove_obj) },
    { MP_ROM_QSTR(MP_QSTR_rename), MP_ROM_PTR(&os_rename_obj) },
    { MP_ROM_QSTR(MP_QSTR_listdir), MP_ROM_PTR(&os_listdir_obj) },
    { MP_ROM_QSTR(MP_QSTR_ilistdir), MP_ROM_PTR(&os_ilistdir_obj) },
    { MP_ROM_QSTR(MP_QSTR_getcwd), MP_ROM_PTR(&os_getcwd_obj) },
    { MP_ROM_QSTR(MP_QSTR_mkdir), MP_ROM_PTR(&os_unsupported_obj) },
    { MP_ROM_QSTR(MP_QSTR_rmdir), MP_ROM_PTR(&os_unsupported_obj) },
    { MP_ROM_QSTR(MP_QSTR_chdir), MP_ROM_PTR(&os_unsupported_obj) },
};
static MP_DEFINE_CONST_DICT(os_globals, os_globals_table);

const mp_obj_module_t os_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&os_globals,
};
MP_REGISTER_MODULE(MP_QSTR_os, os_module);
