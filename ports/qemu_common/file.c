// open(): file objects backed by semihosting files in QEMU's working directory.
#include <string.h>
#include "py/runtime.h"
#include "py/stream.h"
#include "py/builtin.h"
#include "py/mperrno.h"
#include "semihost.h"
#include "port.h"

const char *port_host_path(const char *path) {
    while (*path == '/') {
        path++;
    }
    return *path ? path : ".";
}

// Semihosting has no stat. Opening a directory read-only succeeds on a POSIX host, but reading it
// fails although its length is not zero: that tells a directory from a file.
int port_path_kind(const char *path, long *size) {
    int h = sh_open(port_host_path(path), SH_MODE_RB);
    if (h < 0) {
        return 0;
    }
    long len = sh_flen(h);
    char c;
    int kind = (len > 0 && sh_read(h, &c, 1) == 0) ? 2 : 1;
    sh_close(h);
    if (size) {
        *size = kind == 1 ? len : 0;
    }
    return kind;
}

byte *port_read_file(const char *path, size_t *len) {
    int h = sh_open(port_host_path(path), SH_MODE_RB);
    if (h < 0) {
        mp_raise_OSError_with_filename(MP_ENOENT, path);
    }
    long n = sh_flen(h);
    byte *buf = n >= 0 ? m_new_maybe(byte, n + 1) : NULL;
    if (buf == NULL || sh_read(h, buf, n) != (size_t)n) {
        sh_close(h);
        if (buf) {
            m_del(byte, buf, n + 1);
        }
        mp_raise_OSError_with_filename(buf ? MP_EIO : MP_ENOMEM, path);
    }
    sh_close(h);
    *len = n;
    return buf;
}

typedef struct {
    mp_obj_base_t base;
    int handle;         // -1 once closed
    size_t pos;         // semihosting seeks to absolute positions only, so track it here
} file_obj_t;

static file_obj_t *get_open(mp_obj_t self_in, int *errcode) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->handle < 0) {
        *errcode = MP_EBADF;
        return NULL;
    }
    return self;
}

static mp_uint_t file_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    file_obj_t *self = get_open(self_in, errcode);
    if (!self) {
        return MP_STREAM_ERROR;
    }
    size_t n = sh_read(self->handle, buf, size);
    self->pos += n;
    return n;
}

static mp_uint_t file_write(mp_obj_t self_in, const void *buf, mp_uint_t size, int *errcode) {
    file_obj_t *self = get_open(self_in, errcode);
    if (!self) {
        return MP_STREAM_ERROR;
    }
    size_t n = sh_write(self->handle, buf, size);
    self->pos += n;
    if (n != size) {
        *errcode = MP_EIO;
        return MP_STREAM_ERROR;
    }
    return n;
}

static mp_uint_t file_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (request == MP_STREAM_CLOSE) {
        if (self->handle >= 0) {
            sh_close(self->handle);
            self->handle = -1;
        }
        return 0;
    }
    if (!get_open(self_in, errcode)) {
        return MP_STREAM_ERROR;
    }
    if (request == MP_STREAM_FLUSH) {
        return 0;
    }
    if (request == MP_STREAM_SEEK) {
        struct mp_stream_seek_t *s = (struct mp_stream_seek_t *)arg;
        long base = s->whence == 1 ? (long)self->pos : s->whence == 2 ? sh_flen(self->handle) : 0;
        long to = base + s->offset;
        if (to < 0 || sh_seek(self->handle, to) != 0) {
            *errcode = MP_EINVAL;
            return MP_STREAM_ERROR;
        }
        self->pos = s->offset = to;
        return 0;
    }
    *errcode = MP_EINVAL;
    return MP_STREAM_ERROR;
}

static void file_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<io.%q %d>", (qstr)mp_obj_get_type(self_in)->name, self->handle);
}

static const mp_rom_map_elem_t file_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_readline), MP_ROM_PTR(&mp_stream_unbuffered_readline_obj) },
    { MP_ROM_QSTR(MP_QSTR_readlines), MP_ROM_PTR(&mp_stream_unbuffered_readlines_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_seek), MP_ROM_PTR(&mp_stream_seek_obj) },
    { MP_ROM_QSTR(MP_QSTR_tell), MP_ROM_PTR(&mp_stream_tell_obj) },
    { MP_ROM_QSTR(MP_QSTR_flush), MP_ROM_PTR(&mp_stream_flush_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&mp_stream___exit___obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&mp_stream_close_obj) },
};
static MP_DEFINE_CONST_DICT(file_locals_dict, file_locals_table);

static const mp_stream_p_t binary_stream_p = { .read = file_read, .write = file_write, .ioctl = file_ioctl };
static const mp_stream_p_t text_stream_p = { .read = file_read, .write = file_write, .ioctl = file_ioctl, .is_text = true };

static MP_DEFINE_CONST_OBJ_TYPE(binary_file_type, MP_QSTR_FileIO, MP_TYPE_FLAG_ITER_IS_STREAM,
    print, file_print, protocol, &binary_stream_p, locals_dict, &file_locals_dict);
static MP_DEFINE_CONST_OBJ_TYPE(text_file_type, MP_QSTR_TextIOWrapper, MP_TYPE_FLAG_ITER_IS_STREAM,
    print, file_print, protocol, &text_stream_p, locals_dict, &file_locals_dict);

mp_obj_t mp_builtin_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    enum { ARG_file, ARG_mode };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_file, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_mode, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_QSTR(MP_QSTR_r)} },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, args, kwargs, MP_ARRAY_SIZE(allowed), allowed, a);
    const char *path = mp_obj_str_get_str(a[ARG_file].u_obj);
    const char *mode = mp_obj_str_get_str(a[ARG_mode].u_obj);

    // Always a binary host mode: the host is POSIX, there is nothing to translate.
    int sh_mode = SH_MODE_RB;
    bool text = true, plus = strchr(mode, '+') != NULL;
    for (const char *m = mode; *m; m++) {
        switch (*m) {
            case 'r': sh_mode = plus ? SH_MODE_RPB : SH_MODE_RB; break;
            case 'w': sh_mode = plus ? SH_MODE_WPB : SH_MODE_WB; break;
            case 'a': sh_mode = plus ? SH_MODE_APB : SH_MODE_AB; break;
            case 'b': text = false; break;
            case 't': case '+': break;
            default: mp_raise_ValueError(MP_ERROR_TEXT("invalid mode"));
        }
    }
    if (port_path_kind(path, NULL) == 2) {
        mp_raise_OSError_with_filename(MP_EISDIR, path);
    }
    int h = sh_open(port_host_path(path), sh_mode);
    if (h < 0) {
        mp_raise_OSError_with_filename(sh_mode == SH_MODE_RB || sh_mode == SH_MODE_RPB ? MP_ENOENT : MP_EACCES, path);
    }
    file_obj_t *f = mp_obj_malloc_with_finaliser(file_obj_t, text ? &text_file_type : &binary_file_type);
    f->handle = h;
    f->pos = 0;
    return MP_OBJ_FROM_PTR(f);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, mp_builtin_open);
