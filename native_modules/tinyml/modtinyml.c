// tinyml: the MicroPython face of the engine. `tinyml.Model(buf)` loads a .tflite model held in a buffer;
// tensors live in one arena the engine plans.
//
// What Python may do to these objects, and why nothing it does can crash the engine:
// - The engine re-reads the model's graph (tensor shapes, operator indices, options) at every invoke, so its
//   bytes must never change under it. Immutable buffers (bytes, a read-only memoryview of a ROMFS file) are
//   read in place; a mutable one (bytearray, array, writable memoryview) is copied once into memory the
//   model owns, and the caller's buffer is not referenced afterwards.
// - Tensor views (input(i), output(i)) are memoryviews whose base pointer is the start of the arena's heap
//   block, with the tensor as an offset (as memoryview slices of a bytearray are): the GC keeps the arena
//   alive as long as a view exists, even after the model itself is collected.
// - Every entry point that runs the graph sets the engine's profiling hooks itself, so an exception that
//   escaped from a profile() clock leaves nothing behind that a later call would use.
// - Allocations (results, views, copies) happen before the graph runs: a MemoryError leaves the model as
//   it was.
// Native-module rules shape this file too: no static or global mutable state (the type object is allocated
// on the heap at import), no relocated const tables, no libc (see natmod_libc.c), no libgcc (values.h).
#include "py/dynruntime.h"
#include "py/objarray.h"
#include "tm_internal.h"
#include "values.h"
#if TM_PLAN_DUMP
#include "tm_plan.h"
#endif

typedef struct {
    mp_obj_base_t base;
    mp_obj_t buffer;        // the caller's immutable model bytes, read in place; None when copied
    uint8_t *model_copy;    // the private copy of a mutable (or misaligned) buffer, or NULL
    tm_model_t *m;          // metadata block
    uint8_t *arena;
    mp_obj_t array_type;    // array.array, looked up at the first predict() that returns a new array
    uint8_t has_float;      // the firmware has float objects
    uint8_t keep_inputs;    // planned with TM_KEEP_INPUTS: invoke() never overwrites the inputs
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

static uint32_t element_count(const tm_tensor_t *t) {
    return t->bytes / tm_type_size(t->type);
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

static void require_float(model_obj_t *self, const char *what) {
    if (!self->has_float) {
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
        case TM_INT64: return 'q';
        case TM_FLOAT32: return 'f';
        default: return 'B';        // uint8, bool, and types viewed as raw bytes
    }
}

// A memoryview of a tensor, typed by its dtype (zero copy). An arena tensor's view is writable and keeps
// the arena alive; a constant tensor (a model output can be one) gets a read-only view of a copy, so that
// nobody writes into the model's bytes. Without float support a float32 tensor is viewed as its raw bytes.
static mp_obj_t tensor_view(model_obj_t *self, tm_tensor_t *t) {
    char code = typecode(t->type);
    if (code == 'f' && !self->has_float) {
        code = 'B';
    }
    const uint32_t item = code == 'B' ? 1 : tm_type_size(t->type);
    mp_obj_array_t *view = alloc_or_raise(sizeof(mp_obj_array_t), "tensor view");
    const size_t offset = (size_t)(t->data - self->arena);
    if (t->data >= self->arena && offset < self->m->arena_bytes) {
        view->typecode = (size_t)(code | MP_OBJ_ARRAY_TYPECODE_FLAG_RW);
        view->items = self->arena;
        view->free = offset / item;     // memview_offset, in items (arena tensors are 16-byte aligned)
    } else {
        uint8_t *copy = alloc_or_raise(t->bytes ? t->bytes : 1, "copy of a constant tensor");
        memcpy(copy, t->data, t->bytes);
        view->typecode = (size_t)code;
        view->items = copy;
        view->free = 0;
    }
    view->len = t->bytes / item;
    view->base.type = MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_memoryview));
    return MP_OBJ_FROM_PTR(view);
}

static tm_tensor_t *io_tensor(model_obj_t *self, mp_obj_t index, int outputs) {
    // mp_obj_get_int would truncate a big int (1 << 80 -> 0): anything but a small int is out of range.
    const int big = !mp_obj_is_small_int(index) && mp_obj_get_type(index) == &mp_type_int;
    mp_int_t i = big ? -1 : mp_obj_get_int(index);
    int n = outputs ? self->m->n_outputs : self->m->n_inputs;
    if (i < 0 || i >= n) {
        char msg[TM_ERR_LEN];
        if (big) {
            tm_format(msg, "%s index out of range: the model has %d", outputs ? "output" : "input", n);
        } else {
            tm_format(msg, "%s index %d out of range: the model has %d", outputs ? "output" : "input", (int32_t)i, n);
        }
        raise_str(&mp_type_IndexError, msg);
    }
    return &self->m->tensors[outputs ? self->m->outputs[i] : self->m->inputs[i]];
}

static mp_obj_t model_input(size_t n_args, const mp_obj_t *args) {
    model_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    return tensor_view(self, io_tensor(self, n_args > 1 ? args[1] : MP_OBJ_NEW_SMALL_INT(0), 0));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(model_input_obj, 1, 2, model_input);

static mp_obj_t model_output(size_t n_args, const mp_obj_t *args) {
    model_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    return tensor_view(self, io_tensor(self, n_args > 1 ? args[1] : MP_OBJ_NEW_SMALL_INT(0), 1));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(model_output_obj, 1, 2, model_output);

// set_input(i, buf): copy the bytes of any buffer (bytes, bytearray, array, ulab ndarray) into input i.
static mp_obj_t model_set_input(mp_obj_t self_in, mp_obj_t index, mp_obj_t data) {
    tm_tensor_t *t = io_tensor(MP_OBJ_TO_PTR(self_in), index, 0);
    mp_buffer_info_t buf;
    mp_get_buffer_raise(data, &buf, MP_BUFFER_READ);
    if (buf.len != t->bytes) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "input needs %u bytes (%u x %s), got %u", t->bytes, element_count(t),
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

static mp_obj_t new_str(const char *s) {
    size_t len = 0;
    while (s[len]) {
        len++;
    }
    return mp_obj_new_str(s, len);
}

static mp_obj_t tensor_info(model_obj_t *self, tm_tensor_t *t) {
    mp_obj_t info = mp_obj_new_dict(4);
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_shape), shape_tuple(t));
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_dtype), new_str(tm_type_name(t->type)));
    // None where the firmware has no floats (the zero point and the model's own metadata still tell all).
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_scale),
        self->has_float ? mp_obj_new_float_from_f(t->scale) : mp_const_none);
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_zero_point), mp_obj_new_int(t->zero_point));
    return info;
}

static mp_obj_t io_infos(model_obj_t *self, int outputs) {
    int n = outputs ? self->m->n_outputs : self->m->n_inputs;
    mp_obj_t items[TM_MAX_IO];
    for (int i = 0; i < n; i++) {
        items[i] = tensor_info(self, &self->m->tensors[outputs ? self->m->outputs[i] : self->m->inputs[i]]);
    }
    return mp_obj_new_tuple(n, items);
}

// ---------------------------------------------------------------------------------------------------------
// Running

// Runs the graph, with profiling hooks only if given (clock == NULL: none). The hooks are set here at every
// run and cleared after it, so hooks left by a profile() whose clock raised are never used again, and a
// clock that calls back into this model runs it unprofiled.
static void run_graph(model_obj_t *self, uint32_t (*clock)(void *), void *clock_ctx, uint32_t *ticks) {
    tm_model_t *m = self->m;
    m->clock = clock;
    m->clock_ctx = clock_ctx;
    m->node_ticks = ticks;
    tm_status_t st = tm_model_invoke(m);
    m->clock = NULL;
    m->clock_ctx = NULL;
    m->node_ticks = NULL;
    if (st != TM_OK) {
        raise_str(&mp_type_RuntimeError, m->error);
    }
}

static mp_obj_t model_invoke(mp_obj_t self_in) {
    run_graph(MP_OBJ_TO_PTR(self_in), NULL, NULL, NULL);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(model_invoke_obj, model_invoke);

// reset(): a stateful model (resource variables, CALL_ONCE) back to its state when created.
static mp_obj_t model_reset(mp_obj_t self_in) {
    tm_model_reset(((model_obj_t *)MP_OBJ_TO_PTR(self_in))->m);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(model_reset_obj, model_reset);

// ---- predict() ----

static void raise_count(uint32_t got, const tm_tensor_t *t, const char *what) {
    char msg[TM_ERR_LEN];
    tm_format(msg, "%s has %u values, the model takes %u", what, got, element_count(t));
    raise_str(&mp_type_ValueError, msg);
}

// Input element i from a real value: quantized for integer tensors (their scale and zero point). One
// quantization call for every integer type keeps this small: on the ESP32 native code takes scarce IRAM.
static void store_value(tm_tensor_t *t, uint32_t i, float v) {
    int32_t lo = -2147483647 - 1, hi = 2147483647, zp = t->zero_point;
    const uint32_t size = tm_type_size(t->type);
    switch (t->type) {
        case TM_FLOAT32: memcpy(t->data + (size_t)i * 4, &v, 4); return;
        case TM_BOOL: t->data[i] = v != 0.0f; return;
        case TM_INT8: lo = -128; hi = 127; break;
        case TM_UINT8: lo = 0; hi = 255; break;
        case TM_INT16: lo = -32768; hi = 32767; break;
        case TM_INT64: zp = 0; break;   // from the int32 range (float32 -> int64 would need libgcc), + Z below
        default: break;                 // int32 (other types are refused before)
    }
    const int32_t q = values_quantize(v, t->scale, zp, lo, hi);
    uint8_t *p = t->data + (size_t)i * size;
    if (size == 8) {
        const int64_t w = (int64_t)q + t->zero_point;
        memcpy(p, &w, 8);
    } else {
        memcpy(p, &q, size);            // little-endian: the low bytes are the narrow value
    }
}

// The buffer typecode whose elements are the tensor's own values (copied unchanged), or 0.
static int native_typecode(int type) {
    switch (type) {
        case TM_INT8: return 'b';
        case TM_UINT8: return 'B';
        case TM_INT16: return 'h';
        case TM_INT32: return 'i';
        case TM_INT64: return 'q';
        case TM_FLOAT32: return 'f';
        default: return 0;
    }
}

// Numbers in a list or tuple, nested to any depth up to TM_MAX_DIMS + 2 (a window of (x, y, z) samples is
// a list of tuples). Counts them if t is NULL, else stores them from index i on, never past the tensor's
// end: converting an element may run Python code (__float__) that changes the lists as they are read.
static uint32_t sequence_values(mp_obj_t seq, tm_tensor_t *t, uint32_t i, int depth) {
    size_t len;
    mp_obj_t *items;
    mp_obj_get_array(seq, &len, &items);
    for (size_t k = 0; k < len; k++) {
        const mp_obj_type_t *type = mp_obj_get_type(items[k]);
        if (type == &mp_type_list || type == &mp_type_tuple) {
            if (depth >= TM_MAX_DIMS + 2) {
                raise_str(&mp_type_ValueError, "predict() input is nested too deeply");
            }
            i = sequence_values(items[k], t, i, depth + 1);
        } else {
            if (t) {
                const float v = mp_obj_get_float_to_f(items[k]);
                if (i >= element_count(t)) {
                    raise_str(&mp_type_ValueError, "predict() input changed while it was read");
                }
                store_value(t, i, v);
            }
            i++;
        }
    }
    return i;
}

static void fill_input(model_obj_t *self, tm_tensor_t *in, mp_obj_t x) {
    const uint32_t n = element_count(in);
    mp_buffer_info_t b;
    if (mp_get_buffer(x, &b, MP_BUFFER_READ)) {
        const int size = values_item_size(b.typecode);
        if (!size) {
            char msg[TM_ERR_LEN];
            tm_format(msg, "predict() cannot read buffers of typecode '%c'", b.typecode);
            raise_str(&mp_type_TypeError, msg);
        }
        if (b.len % (size_t)size || b.len / (size_t)size != n) {
            raise_count((uint32_t)(b.len / (size_t)size), in, "input");
        }
        if (b.typecode == native_typecode(in->type)) {
            memcpy(in->data, b.buf, in->bytes);         // the tensor's own values, e.g. int8 passes through
            return;
        }
        // Other numbers through MicroPython's own reader: small ints and float32 allocate nothing; a float64
        // (on ports that box floats) or a big int is a temporary object per value.
        const int code = b.typecode == '?' ? 'B' : b.typecode;
        for (uint32_t i = 0; i < n; i++) {
            float v;
            if (code == 'f') {
                memcpy(&v, (const uint8_t *)b.buf + (size_t)i * 4, 4);
            } else {
                v = mp_obj_get_float_to_f(mp_binary_get_val_array(code, b.buf, i));
            }
            store_value(in, i, v);
        }
        return;
    }
    const mp_obj_type_t *type = mp_obj_get_type(x);
    if (type != &mp_type_list && type != &mp_type_tuple) {
        raise_str(&mp_type_TypeError, "predict() takes a buffer (array, ulab...) or a list or tuple");
    }
    const uint32_t count = sequence_values(x, NULL, 0, 0);
    if (count != n) {
        raise_count(count, in, "input");
    }
    sequence_values(x, in, 0, 0);
}

// Output element i as a real value: dequantized where the tensor has a scale.
static float output_value(const tm_tensor_t *t, uint32_t i) {
    const uint32_t size = tm_type_size(t->type);
    const uint8_t *p = t->data + (size_t)i * size;
    if (t->type == TM_FLOAT32) {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    const int64_t q = values_int_at(p, (int)size, t->type != TM_UINT8 && t->type != TM_BOOL);
    return t->scale == 0.0f ? values_f32_from_i64(q) : t->scale * values_f32_from_i64(q - t->zero_point);
}

static int predict_type_ok(int type) {
    return type == TM_INT8 || type == TM_UINT8 || type == TM_INT16 || type == TM_INT32 || type == TM_INT64 ||
        type == TM_BOOL || type == TM_FLOAT32;
}

// A new array('f') of n zeros.
static mp_obj_t new_float_array(model_obj_t *self, uint32_t n, float **items) {
    if (self->array_type == MP_OBJ_NULL) {
        self->array_type = mp_load_attr(mp_import_name(MP_QSTR_array, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)),
            MP_QSTR_array);
    }
    mp_obj_array_t *a = alloc_or_raise(sizeof(mp_obj_array_t), "result array");
    *items = alloc_or_raise(n ? n * sizeof(float) : 1, "result array");
    memset(*items, 0, n * sizeof(float));
    a->base.type = MP_OBJ_TO_PTR(self->array_type);
    a->typecode = 'f';
    a->free = 0;
    a->len = n;
    a->items = *items;
    return MP_OBJ_FROM_PTR(a);
}

// predict(x, *, out=None): x holds the first input's values (any buffer or a list/tuple, nested or not,
// as many values as the input has); float32/float64 and other numbers are quantized when the model takes
// integers, and a buffer of the input's own type (int8 for an int8 model) is copied unchanged. Returns the
// first output's values as an array('f'), dequantized, or writes them into `out` (a float32 buffer of the
// right length) and returns it: with out=, predict() allocates nothing.
static mp_obj_t model_predict(size_t n_args, const mp_obj_t *args, mp_map_t *kw) {
    model_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    require_float(self, "predict()");
    mp_obj_t out_arg = mp_const_none;
    for (size_t k = 0; k < kw->alloc; k++) {
        mp_obj_t key = kw->table[k].key;
        if (key == MP_OBJ_NULL) {
            continue;
        }
        if (key != MP_OBJ_NEW_QSTR(MP_QSTR_out)) {
            raise_str(&mp_type_TypeError, "predict() takes predict(x) or predict(x, out=array('f', ...))");
        }
        out_arg = kw->table[k].value;
    }
    if (n_args != 2) {
        raise_str(&mp_type_TypeError, "predict() takes predict(x) or predict(x, out=array('f', ...))");
    }
    tm_tensor_t *in = &self->m->tensors[self->m->inputs[0]];
    tm_tensor_t *out = &self->m->tensors[self->m->outputs[0]];
    if (!predict_type_ok(in->type) || !predict_type_ok(out->type)) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "predict() does not take %s tensors: use input(), invoke(), output()",
            tm_type_name(predict_type_ok(in->type) ? out->type : in->type));
        raise_str(&mp_type_TypeError, msg);
    }
    // Everything that can fail comes before the graph runs, so a failure leaves the model as it was
    // (the input tensor may hold part of x).
    const uint32_t n_out = element_count(out);
    float *dst;
    mp_obj_t result = out_arg;
    if (out_arg != mp_const_none) {
        mp_buffer_info_t ob;
        if (!mp_get_buffer(out_arg, &ob, MP_BUFFER_WRITE) || ob.typecode != 'f') {
            raise_str(&mp_type_TypeError, "out= must be a writable float32 buffer, e.g. array('f', ...)");
        }
        if (ob.len != n_out * sizeof(float)) {
            char msg[TM_ERR_LEN];
            tm_format(msg, "out= has %u values, the model's output has %u", (uint32_t)(ob.len / 4), n_out);
            raise_str(&mp_type_ValueError, msg);
        }
        dst = ob.buf;
    } else {
        result = new_float_array(self, n_out, &dst);
    }
    fill_input(self, in, args[1]);
    run_graph(self, NULL, NULL, NULL);
    for (uint32_t i = 0; i < n_out; i++) {
        const float v = output_value(out, i);
        memcpy((uint8_t *)dst + i * sizeof(float), &v, sizeof(float));  // out= may be unaligned (a view)
    }
    return result;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(model_predict_obj, 2, model_predict);

// ---- profile() ----

// profile(clock=time.ticks_us): run once with the clock read around every operator. Returns a list of
// (op, ticks, output bytes). The clock is called once first, so one that is not callable or does not
// return an int fails before anything runs.
static uint32_t call_clock(void *ctx) {
    return (uint32_t)mp_obj_get_int_truncated(mp_call_function_n_kw((mp_obj_t)ctx, 0, 0, NULL));
}

static mp_obj_t model_profile(size_t n_args, const mp_obj_t *args) {
    model_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    tm_model_t *m = self->m;
    mp_obj_t clock = n_args > 1 ? args[1] :
        mp_load_attr(mp_import_name(MP_QSTR_time, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)), MP_QSTR_ticks_us);
    call_clock(clock);
    uint32_t *ticks = alloc_or_raise(m->n_nodes * sizeof(uint32_t) + 4, "profile counters");
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        ticks[i] = 0;
    }
    mp_obj_t result = mp_obj_new_list(0, NULL);
    run_graph(self, call_clock, clock, ticks);
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        tm_node_t *n = &m->nodes[i];
        mp_obj_t row[3] = { new_str(tm_opcode_name(n->opcode)), mp_obj_new_int_from_uint(ticks[i]),
            mp_obj_new_int_from_uint(n->n_out ? tm_out(m, n, 0)->bytes : 0) };
        mp_obj_list_append(result, mp_obj_new_tuple(3, row));
    }
    m_free(ticks);
    return result;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(model_profile_obj, 1, 2, model_profile);

// ---------------------------------------------------------------------------------------------------------
// The Model type

// Model(buffer, *, keep_inputs=False)
static mp_obj_t model_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, true);
    int keep_inputs = 0;
    for (size_t k = 0; k < n_kw; k++) {
        if (args[n_args + 2 * k] != MP_OBJ_NEW_QSTR(MP_QSTR_keep_inputs)) {
            raise_str(&mp_type_TypeError, "Model() takes Model(buffer) or Model(buffer, keep_inputs=True)");
        }
        keep_inputs = mp_obj_is_true(args[n_args + 2 * k + 1]);
    }
    mp_buffer_info_t buf, writable;
    mp_get_buffer_raise(args[0], &buf, MP_BUFFER_READ);
    // A buffer Python can change (or one the engine cannot read in place) is copied: see the top of the file.
    const int copy = mp_get_buffer(args[0], &writable, MP_BUFFER_WRITE) || ((uintptr_t)buf.buf & 3);
    model_obj_t *self = mp_obj_malloc(model_obj_t, type);
    self->buffer = mp_const_none;
    self->model_copy = NULL;
    self->m = NULL;
    self->arena = NULL;
    self->array_type = MP_OBJ_NULL;
    self->has_float = firmware_has_float();
    self->keep_inputs = (uint8_t)keep_inputs;
    const uint8_t *bytes = buf.buf;
    if (copy) {
        self->model_copy = alloc_or_raise(buf.len ? buf.len : 1,
            "copy of the model (a mutable buffer: give bytes to load in place)");
        memcpy(self->model_copy, buf.buf, buf.len);
        bytes = self->model_copy;
    } else {
        self->buffer = args[0];
    }
    char error[TM_ERR_LEN];
    uint32_t meta_bytes;
    if (tm_model_measure(bytes, buf.len, &meta_bytes, error) != TM_OK) {
        raise_str(&mp_type_ValueError, error);
    }
    self->m = alloc_or_raise(meta_bytes, "model description");
    if (tm_model_load(self->m, meta_bytes, bytes, buf.len, keep_inputs ? TM_KEEP_INPUTS : 0, error) != TM_OK) {
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
    mp_printf(print, ", arena %u bytes, model %u bytes %s, keep_inputs=%s>",
        (unsigned)(m->arena_bytes + m->metadata_bytes), (unsigned)m->buf_len,
        self->model_copy ? "(copied)" : "(in place)", self->keep_inputs ? "True" : "False");
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
    } else if (attr == MP_QSTR_state_bytes) {
        // resource variables (part of arena_bytes): kept across invoke(), reset by reset()
        dest[0] = mp_obj_new_int_from_uint(self->m->state_bytes);
    } else if (attr == MP_QSTR_model_bytes) {
        dest[0] = mp_obj_new_int_from_uint(self->m->buf_len);
    } else if (attr == MP_QSTR_keep_inputs) {
        dest[0] = mp_obj_new_bool(self->keep_inputs);
    } else if (attr == MP_QSTR_model_copied) {
        dest[0] = mp_obj_new_bool(self->model_copy != NULL);
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

#if TM_PLAN_DUMP
// tinyml.plan(model_bytes) -> bytes: the memory plan this arch's engine makes for the model, as int32 words
// (engine/tm_plan.h), for `tinyml report --arch`. Only in modules built with PLAN_DUMP=1: the plan of the
// board's own arch differs from the host's (its kernels' scratch, per-op data, 4-byte pointers).
static mp_obj_t mod_plan(mp_obj_t buf_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_READ);
    const uint8_t *bytes = buf.buf;
    void *copy = NULL;
    if ((uintptr_t)bytes & 3) {
        copy = alloc_or_raise(buf.len ? buf.len : 1, "copy of the model");
        memcpy(copy, buf.buf, buf.len);
        bytes = copy;
    }
    char error[TM_ERR_LEN];
    uint32_t meta_bytes;
    if (tm_model_measure(bytes, buf.len, &meta_bytes, error) != TM_OK) {
        raise_str(&mp_type_ValueError, error);
    }
    tm_model_t *m = alloc_or_raise(meta_bytes, "model description");
    if (tm_model_load(m, meta_bytes, bytes, buf.len, 0, error) != TM_OK) {
        raise_str(&mp_type_ValueError, error);
    }
    uint32_t words = tm_plan_words(m);
    int32_t *out = alloc_or_raise(words * 4, "memory plan");
    tm_plan_export(m, out);
    mp_obj_t result = mp_obj_new_bytes((const byte *)out, words * 4);
    m_free(out);
    m_free(m);
    if (copy) {
        m_free(copy);
    }
    return result;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_plan_obj, mod_plan);
#endif

// help(): what this module does, for the REPL (MicroPython builds keep no docstrings).
static mp_obj_t mod_help(void) {
    mp_printf(&mp_plat_print,
        "tinyml: run TensorFlow Lite models (int8, bit-exact with TFLM).\n"
        "  m = tinyml.Model(open('model.tflite', 'rb').read())   bytes: read in place\n"
        "  tinyml.Model(buf, keep_inputs=True)  invoke() never overwrites the inputs\n"
        "  m.inputs, m.outputs     shapes, dtypes, scales, zero points\n"
        "  m.predict(x)            numbers in (list, array, ulab...), array('f') out\n"
        "  m.predict(x, out=res)   into res = array('f', ...): allocates nothing\n"
        "  m.input(i)[:] = data    zero-copy views (also m.set_input(i, buf))\n"
        "  m.invoke(); m.output(i)\n"
        "  m.reset()               stateful (streaming) models: state as when created\n"
        "  m.profile()             per-op (name, time, bytes)\n"
        "  m.arena_bytes           RAM the model holds besides its weights\n"
        "  tinyml.ops()            kernels in this build\n"
#if TM_AUDIO
        "  fe = tinyml.AudioFrontend(config='microwakeword')   or 'micro_speech'\n"
        "  n = fe.process(pcm, out)  int16 PCM (16 kHz) in, n frames of 40 uint16 in out\n"
#endif
#if TM_MOTION
        "  mf = tinyml.MotionFeatures(n=128, channels=3, rate=100, bands=((0.5, 3), (3, 8)))\n"
        "  mf.compute(window, out)   n x channels samples, array('f') or array('h') (scale=)\n"
        "                            -> out[:mf.size]: per channel mean, rms, peak, crest, bands\n"
#endif
        );
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_help_obj, mod_help);

#if TM_AUDIO
void tm_audio_register(void);
#endif
#if TM_MOTION
void tm_motion_register(void);
#endif

#if defined(__XTENSA__)
// xtensawin modules load on three cores that differ (docs/architecture.md, "Xtensa: one arch, three cores").
// A build for the ESP32's FPU (and, with kernels/xtensa/, MAC16 and zero-overhead loops) would hit an illegal
// instruction on an ESP32-S2, whose core has none of them; a soft-float build (-mcpu=esp32s2) runs on all
// three. The chips are named here once: the import check below and `tinyml deploy` (which finds this marker
// in a pack's bytes: tinyml.build.module_chips) read the same text.
#if defined(__XTENSA_SOFT_FLOAT__)
#define TM_XTENSA_CHIPS "esp32s2 esp32 esp32s3"
#else
#define TM_XTENSA_CHIPS "esp32 esp32s3"
#endif
__attribute__((used)) static const char tm_chips_marker[] = "tinyml-chips: " TM_XTENSA_CHIPS ";";

#if !defined(__XTENSA_SOFT_FLOAT__)
static bool text_contains(const char *s, size_t len, const char *word) {
    for (size_t i = 0; i < len; i++) {
        size_t k = 0;
        while (word[k] && i + k < len && s[i + k] == word[k]) {
            k++;
        }
        if (!word[k]) {
            return true;
        }
    }
    return false;
}

// Refuse at import, before any of the module's own FPU or MAC16 code runs, on an ESP32-S2. The chip is in
// sys.implementation._machine ("<board> with <MCU>"; MICROPY_HW_MCU_NAME is "ESP32S2" or "ESP32-S2" on the S2
// boards of mp:ports/esp32/boards). A port that names no chip (QEMU, an unknown board) is let through.
static void refuse_wrong_chip(void) {
    mp_obj_t dest[2];
    mp_load_method_maybe(mp_import_name(MP_QSTR_sys, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)), MP_QSTR_implementation,
                         dest);
    if (dest[0] == MP_OBJ_NULL) {
        return;
    }
    mp_load_method_maybe(dest[0], MP_QSTR__machine, dest);
    if (dest[0] == MP_OBJ_NULL || !mp_obj_is_str(dest[0])) {
        return;
    }
    size_t len;
    const char *machine = mp_obj_str_get_data(dest[0], &len);
    if (text_contains(machine, len, "ESP32S2") || text_contains(machine, len, "ESP32-S2")) {
        raise_str((mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_ImportError)),
            "tinyml: this module is built for the ESP32's FPU (tinyml-chips: " TM_XTENSA_CHIPS "); this board's "
            "ESP32-S2 has none: make it with `tinyml pack MODEL --board esp32s2` (or `tinyml deploy`)");
    }
}
#endif
#endif

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
#if defined(__XTENSA__) && !defined(__XTENSA_SOFT_FLOAT__)
    refuse_wrong_chip();    // before INIT_ENTRY swaps the globals: an exception here leaves the importer's as they were
#endif
    MP_DYNRUNTIME_INIT_ENTRY

    mp_obj_full_type_t *type = m_malloc(sizeof(mp_obj_full_type_t));
    memset(type, 0, sizeof(mp_obj_full_type_t));
    type->base.type = (void *)&mp_type_type;
    type->flags = MP_TYPE_FLAG_NONE;
    type->name = MP_QSTR_Model;
    mp_obj_t locals = mp_obj_new_dict(6);
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_invoke), MP_OBJ_FROM_PTR(&model_invoke_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_reset), MP_OBJ_FROM_PTR(&model_reset_obj));
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
#if TM_PLAN_DUMP
    mp_store_global(MP_QSTR_plan, MP_OBJ_FROM_PTR(&mod_plan_obj));
#endif
#if TM_AUDIO
    tm_audio_register();    // tinyml.AudioFrontend (native_modules/features/mod_audio.c), when built in
#endif
#if TM_MOTION
    tm_motion_register();   // tinyml.MotionFeatures (native_modules/features/mod_motion.c), when built in
#endif

    MP_DYNRUNTIME_INIT_EXIT
}
