#include <stdarg.h>
#include "tm_internal.h"

// A tiny formatter: native modules have no snprintf.
static void vformat(char *out, const char *fmt, va_list ap) {
    char *end = out + TM_ERR_LEN - 1;
    while (*fmt && out < end) {
        if (*fmt != '%') {
            *out++ = *fmt++;
            continue;
        }
        fmt++;
        if (*fmt == 's') {
            const char *s = va_arg(ap, const char *);
            while (s && *s && out < end) {
                *out++ = *s++;
            }
        } else if (*fmt == 'd' || *fmt == 'u') {
            char digits[12];
            int nd = 0;
            uint32_t v;
            if (*fmt == 'd') {
                int32_t sv = va_arg(ap, int32_t);
                if (sv < 0 && out < end) {
                    *out++ = '-';
                }
                v = sv < 0 ? 0u - (uint32_t)sv : (uint32_t)sv;
            } else {
                v = va_arg(ap, uint32_t);
            }
            do {
                digits[nd++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            while (nd && out < end) {
                *out++ = digits[--nd];
            }
        } else if (*fmt) {
            *out++ = *fmt;
        }
        if (*fmt) {
            fmt++;
        }
    }
    *out = 0;
}

void tm_format(char *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat(out, fmt, ap);
    va_end(ap);
}

tm_status_t tm_fail(tm_model_t *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat(m->error, fmt, ap);
    va_end(ap);
    return TM_ERROR;
}

static tm_fb_t options_reader(tm_model_t *m) {
    tm_fb_t fb = { m->buf, m->buf_len, 0 };
    return fb;
}

int32_t tm_opt_i32(tm_model_t *m, tm_node_t *n, int field, int32_t dflt) {
    tm_fb_t fb = options_reader(m);
    return n->options ? tm_fb_field_i32(&fb, n->options, field, dflt) : dflt;
}

int32_t tm_opt_u8(tm_model_t *m, tm_node_t *n, int field, int32_t dflt) {
    tm_fb_t fb = options_reader(m);
    return n->options ? (int32_t)tm_fb_field_u8(&fb, n->options, field, (uint32_t)dflt) : dflt;
}

float tm_opt_f32(tm_model_t *m, tm_node_t *n, int field, float dflt) {
    tm_fb_t fb = options_reader(m);
    return n->options ? tm_fb_field_f32(&fb, n->options, field, dflt) : dflt;
}

uint32_t tm_opt_string(tm_model_t *m, tm_node_t *n, int field, uint32_t *len) {
    tm_fb_t fb = options_reader(m);
    *len = 0;
    uint32_t pos = n->options ? tm_fb_vector(&fb, n->options, field, 1, len) : 0;
    if (fb.bad) {
        *len = 0;
        return 0;
    }
    return pos;
}

tm_status_t tm_expect_io(tm_model_t *m, tm_node_t *n, int min_in, int max_in, int n_out) {
    if (n->n_in < min_in || n->n_in > max_in || n->n_out != n_out) {
        return tm_fail(m, "expects %d-%d inputs and %d outputs, has %d and %d", min_in, max_in, n_out,
            n->n_in, n->n_out);
    }
    for (int i = 0; i < min_in; i++) {
        if (tm_in_index(m, n, i) < 0) {
            return tm_fail(m, "required input %d is missing", i);
        }
    }
    return TM_OK;
}

tm_status_t tm_expect_type(tm_model_t *m, const tm_tensor_t *t, int type, const char *what) {
    if (t->type != type) {
        return tm_fail(m, "%s is %s, expected %s", what, tm_type_name(t->type), tm_type_name(type));
    }
    return TM_OK;
}


const char *tm_type_name(int type) {
    switch (type) {
        case TM_FLOAT32: return "float32";
        case TM_FLOAT16: return "float16";
        case TM_INT32: return "int32";
        case TM_UINT8: return "uint8";
        case TM_INT64: return "int64";
        case TM_STRING: return "string";
        case TM_BOOL: return "bool";
        case TM_INT16: return "int16";
        case TM_INT8: return "int8";
        case TM_RESOURCE: return "resource";
        default: return "unknown type";
    }
}

uint32_t tm_type_size(int type) {
    switch (type) {
        case TM_FLOAT32: case TM_INT32: return 4;
        case TM_INT64: return 8;
        case TM_INT16: case TM_FLOAT16: return 2;
        case TM_UINT8: case TM_INT8: case TM_BOOL: return 1;
        default: return 0;
    }
}
