// tinyml: the MicroPython face of the engine. `tinyml.Model(buf)` loads a .tflite model held in any
// buffer (bytes, bytearray, memoryview of a ROMFS file) without copying it; tensors live in one arena.
// Native-module rules shape this file: no static or global mutable state (the type object is allocated
// on the heap at import), no relocated const tables, no libc (see natmod_libc.c).
#include "py/dynruntime.h"
#include "py/objarray.h"
#include "tm_internal.h"

typedef struct {
    mp_obj_base_t base;
    mp_obj_t buffer;        // the model bytes, kept alive by this reference
    tm_model_t *m;          // metadata block
    uint8_t *arena;
} model_obj_t;

static void raise_str(const mp_obj_type_t *type, const char *msg) {
    size_t len = 0;
    while (msg[len]) {
        len++;
    }
    nlr_raise(mp_obj_new_exception_arg1(type, mp_obj_new_str(msg, len)));
}

#define MemoryError (*(mp_obj_type_t *)(mp_load_global(MP_QSTR_MemoryError)))

static void *alloc_or_raise(size_t bytes, const char *what) {
    void *p = m_malloc(bytes);
    if (p == NULL) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "not enough memory for the %s: %u bytes needed", what, (uint32_t)bytes);
        raise_str(&MemoryError, msg);
    }
    return p;
}

// ---------------------------------------------------------------------------------------------------------
// Tensor views

// A firmware built without floats (MICROPY_FLOAT_IMPL_NONE, as on some small boards) has no `float` builtin,
// and its float entry points raise a bare "float unsupported". Asking first gives a better message.
static bool firmware_has_float(void) {
    mp_obj_t dest[2];
    mp_load_method_maybe(mp_import_name(MP_QSTR_builtins, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)), MP_QSTR_float, dest);
    return dest[0] != MP_OBJ_NULL;
}

static void require_float(const char *what) {
    if (!firmware_has_float()) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "%s needs floats, which this firmware lacks: use int8 data in m.input(i), m.output(i)", what);
        raise_str(&mp_type_RuntimeError, msg);
    }
}

static char typecode(int type) {
    switch (type) {
        case TM_INT8: return 'b';
        case TM_INT16: return 'h';
        case TM_INT32: return 'i';
        case TM_FLOAT32: return 'f';
        default: return 'B';
    }
}

// A writable memoryview of a tensor's bytes in the arena, typed by the tensor's dtype (zero copy).
// Valid while the model object lives. Without float support a float32 tensor is viewed as its raw bytes.
static mp_obj_t tensor_view(tm_tensor_t *t) {
    char code = typecode(t->type);
    if (code == 'f' && !firmware_has_float()) {
        code = 'B';
    }
    mp_obj_array_t *view = alloc_or_raise(sizeof(mp_obj_array_t), "tensor view");
    view->base.type = MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_memoryview));
    view->typecode = (size_t)(code | MP_OBJ_ARRAY_TYPECODE_FLAG_RW);
    view->free = 0;
    view->len = code == 'B' ? t->bytes : t->bytes / tm_type_size(t->type);
    view->items = t->data;
    return MP_OBJ_FROM_PTR(view);
}

static tm_tensor_t *io_tensor(model_obj_t *self, mp_obj_t index, int outputs) {
    mp_int_t i = mp_obj_get_int(index);
    int n = outputs ? self->m->n_outputs : self->m->n_inputs;
    if (i < 0 || i >= n) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "%s index %d out of range: the model has %d", outputs ? "output" : "input", (int32_t)i, n);
        raise_str(&mp_type_IndexError, msg);
    }
    return &self->m->tensors[outputs ? self->m->outputs[i] : self->m->inputs[i]];
}

static mp_obj_t model_input(size_t n_args, const mp_obj_t *args) {
    return tensor_view(io_tensor(MP_OBJ_TO_PTR(args[0]), n_args > 1 ? args[1] : MP_OBJ_NEW_SMALL_INT(0), 0));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(model_input_obj, 1, 2, model_input);

static mp_obj_t model_output(size_t n_args, const mp_obj_t *args) {
    return tensor_view(io_tensor(MP_OBJ_TO_PTR(args[0]), n_args > 1 ? args[1] : MP_OBJ_NEW_SMALL_INT(0), 1));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(model_output_obj, 1, 2, model_output);

// set_input(i, buf): copy the bytes of any buffer (bytes, bytearray, array, ulab ndarray) into input i.
static mp_obj_t model_set_input(mp_obj_t self_in, mp_obj_t index, mp_obj_t data) {
    tm_tensor_t *t = io_tensor(MP_OBJ_TO_PTR(self_in), index, 0);
    mp_buffer_info_t buf;
    mp_get_buffer_raise(data, &buf, MP_BUFFER_READ);
    if (buf.len != t->bytes) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "input needs %u bytes (%u x %s), got %u", t->bytes, t->bytes / tm_type_size(t->type),
            tm_type_name(t->type), (uint32_t)buf.len);
        raise_str(&mp_type_ValueError, msg);
    }
    memcpy(t->data, buf.buf, t->bytes);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(model_set_input_obj, model_set_input);

static mp_obj_t shape_tuple(tm_tensor_t *t) {
    mp_obj_t dims[TM_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) {
        dims[d] = mp_obj_new_int(t->dims[d]);
    }
    return mp_obj_new_tuple(t->ndim, dims);
}

static mp_obj_t tensor_info(tm_tensor_t *t) {
    mp_obj_t info = mp_obj_new_dict(4);
    const char *dtype = tm_type_name(t->type);
    size_t len = 0;
    while (dtype[len]) {
        len++;
    }
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_shape), shape_tuple(t));
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_dtype), mp_obj_new_str(dtype, len));
    // None where the firmware has no floats (the zero point and the model's own metadata still tell all).
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_scale),
        firmware_has_float() ? mp_obj_new_float_from_f(t->scale) : mp_const_none);
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_zero_point), mp_obj_new_int(t->zero_point));
    return info;
}

static mp_obj_t io_infos(model_obj_t *self, int outputs) {
    int n = outputs ? self->m->n_outputs : self->m->n_inputs;
    mp_obj_t items[TM_MAX_IO];
    for (int i = 0; i < n; i++) {
        items[i] = tensor_info(&self->m->tensors[outputs ? self->m->outputs[i] : self->m->inputs[i]]);
    }
    return mp_obj_new_tuple(n, items);
}

// ---------------------------------------------------------------------------------------------------------
// Running

static void check(model_obj_t *self, tm_status_t st) {
    if (st != TM_OK) {
        raise_str(&mp_type_RuntimeError, self->m->error);
    }
}

static mp_obj_t model_invoke(mp_obj_t self_in) {
    model_obj_t *self = MP_OBJ_TO_PTR(self_in);
    check(self, tm_model_invoke(self->m));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(model_invoke_obj, model_invoke);

// Same rounding as the QUANTIZE kernel (float32 division, half away from zero).
static int32_t quantize_value(float v, float scale, int32_t zero_point, int32_t lo, int32_t hi) {
    float q = v / scale;
    q = q > 1e9f ? 1e9f : (q < -1e9f ? -1e9f : q);
    if (q != q) { // NaN input or scale: no meaningful value, and converting NaN to int is undefined
        q = 0.0f;
    }
    int32_t r = (int32_t)(q >= 0 ? q + 0.5f : q - 0.5f);
    if (q >= 0 ? (float)r - q > 0.5f : q - (float)r > 0.5f) {
        r += q >= 0 ? -1 : 1;
    }
    r += zero_point;
    return r < lo ? lo : (r > hi ? hi : r);
}

// predict(x): x holds the first input's values as floats (list, tuple, array('f') or any iterable); they
// are quantized when the model takes int8. Returns the first output's values as a list of floats,
// dequantized when the model gives int8.
static mp_obj_t model_predict(mp_obj_t self_in, mp_obj_t x) {
    require_float("predict()");
    model_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tm_tensor_t *in = &self->m->tensors[self->m->inputs[0]];
    tm_tensor_t *out = &self->m->tensors[self->m->outputs[0]];
    uint32_t n = in->bytes / tm_type_size(in->type);
    mp_int_t len = mp_obj_get_int(mp_obj_len(x));
    if ((uint32_t)len != n) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "input has %d values, the model takes %u", (int32_t)len, n);
        raise_str(&mp_type_ValueError, msg);
    }
    for (uint32_t i = 0; i < n; i++) {
        float v = mp_obj_get_float_to_f(mp_obj_subscr(x, MP_OBJ_NEW_SMALL_INT(i), MP_OBJ_SENTINEL));
        switch (in->type) {
            case TM_INT8: ((int8_t *)in->data)[i] = (int8_t)quantize_value(v, in->scale, in->zero_point, -128, 127); break;
            case TM_UINT8: in->data[i] = (uint8_t)quantize_value(v, in->scale, in->zero_point, 0, 255); break;
            case TM_FLOAT32: ((float *)in->data)[i] = v; break;
            default: raise_str(&mp_type_TypeError, "predict() supports int8, uint8 and float32 inputs; use input() for others");
        }
    }
    check(self, tm_model_invoke(self->m));
    uint32_t m_out = out->bytes / tm_type_size(out->type);
    mp_obj_t result = mp_obj_new_list(0, NULL);
    for (uint32_t i = 0; i < m_out; i++) {
        float v;
        switch (out->type) {
            case TM_INT8: v = out->scale * (float)(((int8_t *)out->data)[i] - out->zero_point); break;
            case TM_UINT8: v = out->scale * (float)(out->data[i] - out->zero_point); break;
            case TM_FLOAT32: v = ((float *)out->data)[i]; break;
            default: v = (float)((int32_t *)out->data)[i]; break;
        }
        mp_obj_list_append(result, mp_obj_new_float_from_f(v));
    }
    return result;
}
static MP_DEFINE_CONST_FUN_OBJ_2(model_predict_obj, model_predict);

// profile(): run once with a clock around every operator. Returns a list of (op, ticks, output bytes) with
// ticks from time.ticks_us(), or from the callable given.
static uint32_t call_clock(void *ctx) {
    return (uint32_t)mp_obj_get_int_truncated(mp_call_function_n_kw((mp_obj_t)ctx, 0, 0, NULL));
}

static mp_obj_t model_profile(size_t n_args, const mp_obj_t *args) {
    model_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    tm_model_t *m = self->m;
    mp_obj_t clock = n_args > 1 ? args[1] :
        mp_load_attr(mp_import_name(MP_QSTR_time, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)), MP_QSTR_ticks_us);
    uint32_t *ticks = alloc_or_raise(m->n_nodes * sizeof(uint32_t) + 4, "profile counters");
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        ticks[i] = 0;
    }
    m->clock = call_clock;
    m->clock_ctx = clock;
    m->node_ticks = ticks;
    tm_status_t st = tm_model_invoke(m);
    m->clock = NULL;
    m->node_ticks = NULL;
    check(self, st);
    mp_obj_t result = mp_obj_new_list(0, NULL);
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        tm_node_t *n = &m->nodes[i];
        const char *name = tm_opcode_name(n->opcode);
        size_t len = 0;
        while (name[len]) {
            len++;
        }
        mp_obj_t row[3] = { mp_obj_new_str(name, len), mp_obj_new_int_from_uint(ticks[i]),
            mp_obj_new_int_from_uint(tm_out(m, n, 0)->bytes) };
        mp_obj_list_append(result, mp_obj_new_tuple(3, row));
    }
    m_free(ticks);
    return result;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(model_profile_obj, 1, 2, model_profile);

// ---------------------------------------------------------------------------------------------------------
// The Model type

static mp_obj_t model_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    mp_buffer_info_t buf;
    mp_get_buffer_raise(args[0], &buf, MP_BUFFER_READ);
    char error[TM_ERR_LEN];
    uint32_t meta_bytes;
    if (tm_model_measure(buf.buf, buf.len, &meta_bytes, error) != TM_OK) {
        raise_str(&mp_type_ValueError, error);
    }
    model_obj_t *self = mp_obj_malloc(model_obj_t, type);
    self->buffer = args[0];
    self->arena = NULL;
    self->m = alloc_or_raise(meta_bytes, "model description");
    if (tm_model_load(self->m, meta_bytes, buf.buf, buf.len, error) != TM_OK) {
        raise_str(&mp_type_ValueError, error);
    }
    self->arena = alloc_or_raise(self->m->arena_bytes ? self->m->arena_bytes : 8, "tensor arena");
    if (tm_model_prepare(self->m, self->arena) != TM_OK) {
        raise_str(&mp_type_ValueError, self->m->error);
    }
    // Planning state sat in the block's tail: give it back (shrinking never moves a heap block).
    m_realloc(self->m, self->m->metadata_bytes);
    return MP_OBJ_FROM_PTR(self);
}

static void print_shape(const mp_print_t *print, tm_tensor_t *t) {
    mp_printf(print, "(");
    for (int d = 0; d < t->ndim; d++) {
        mp_printf(print, d ? ", %d" : "%d", (int)t->dims[d]);
    }
    mp_printf(print, t->ndim == 1 ? ",) %s" : ") %s", tm_type_name(t->type));
}

static void model_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    model_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tm_model_t *m = self->m;
    mp_printf(print, "<Model: %u ops, input ", (unsigned)m->n_nodes);
    print_shape(print, &m->tensors[m->inputs[0]]);
    mp_printf(print, ", output ");
    print_shape(print, &m->tensors[m->outputs[0]]);
    mp_printf(print, ", arena %u bytes, model %u bytes>", (unsigned)(m->arena_bytes + m->metadata_bytes),
        (unsigned)m->buf_len);
}

static void model_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    model_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return; // attributes are read-only
    }
    if (attr == MP_QSTR_inputs) {
        dest[0] = io_infos(self, 0);
    } else if (attr == MP_QSTR_outputs) {
        dest[0] = io_infos(self, 1);
    } else if (attr == MP_QSTR_arena_bytes) {
        // everything the model holds besides its weights: tensor arena plus descriptors
        dest[0] = mp_obj_new_int_from_uint(self->m->arena_bytes + self->m->metadata_bytes);
    } else if (attr == MP_QSTR_model_bytes) {
        dest[0] = mp_obj_new_int_from_uint(self->m->buf_len);
    } else {
        dest[1] = MP_OBJ_SENTINEL; // continue with methods in locals_dict
    }
}

// Module-level: the kernels in this build, e.g. ('FULLY_CONNECTED', 'SOFTMAX').
static mp_obj_t mod_ops(void) {
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (int code = 0; code < 256; code++) {
        tm_kernel_t k;
        if (tm_kernel_lookup(code, &k)) {
            const char *name = tm_opcode_name(code);
            size_t len = 0;
            while (name[len]) {
                len++;
            }
            mp_obj_list_append(list, mp_obj_new_str(name, len));
        }
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_ops_obj, mod_ops);

// help(): what this module does, for the REPL (MicroPython builds keep no docstrings).
static mp_obj_t mod_help(void) {
    mp_printf(&mp_plat_print,
        "tinyml: run TensorFlow Lite models (int8, bit-exact with TFLM).\n"
        "  m = tinyml.Model(open('model.tflite', 'rb').read())\n"
        "  m.inputs, m.outputs     shapes, dtypes, scales, zero points\n"
        "  m.predict(floats)       quantize, invoke, dequantize: list of floats\n"
        "  m.input(i)[:] = data    zero-copy views (also m.set_input(i, buf))\n"
        "  m.invoke(); m.output(i)\n"
        "  m.profile()             per-op (name, time, bytes)\n"
        "  m.arena_bytes           RAM the model holds besides its weights\n"
        "  tinyml.ops()            kernels in this build\n");
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_help_obj, mod_help);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    mp_obj_full_type_t *type = m_malloc(sizeof(mp_obj_full_type_t));
    memset(type, 0, sizeof(mp_obj_full_type_t));
    type->base.type = (void *)&mp_type_type;
    type->flags = MP_TYPE_FLAG_NONE;
    type->name = MP_QSTR_Model;
    mp_obj_t locals = mp_obj_new_dict(6);
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_invoke), MP_OBJ_FROM_PTR(&model_invoke_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_input), MP_OBJ_FROM_PTR(&model_input_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_set_input), MP_OBJ_FROM_PTR(&model_set_input_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_output), MP_OBJ_FROM_PTR(&model_output_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_profile), MP_OBJ_FROM_PTR(&model_profile_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_predict), MP_OBJ_FROM_PTR(&model_predict_obj));
    MP_OBJ_TYPE_SET_SLOT(type, make_new, model_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(type, print, model_print, 1);
    MP_OBJ_TYPE_SET_SLOT(type, attr, model_attr, 2);
    MP_OBJ_TYPE_SET_SLOT(type, locals_dict, MP_OBJ_TO_PTR(locals), 3);
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(type));
    mp_store_global(MP_QSTR_ops, MP_OBJ_FROM_PTR(&mod_ops_obj));
    mp_store_global(MP_QSTR_help, MP_OBJ_FROM_PTR(&mod_help_obj));

    MP_DYNRUNTIME_INIT_EXIT
}
