// tinyml.MotionFeatures: the MicroPython face of tm_motion.c (per channel mean, RMS, peak, crest factor and
// spectral band energies from CMSIS-DSP's real FFT). Compiled into the module only when wanted
// (FEATURES=motion: the full module, or `tinyml pack --features motion`).
//   mf = tinyml.MotionFeatures(n=128, channels=3, rate=100, bands=((0.5, 3), (3, 8), (8, 20)))
//   mf = tinyml.MotionFeatures(n=128, channels=3, bins=((1, 4), (4, 11)), scale=1/16384)
//   mf.compute(window, out)   window: n x channels samples, interleaved, array('f') or array('h') (x scale);
//                             out: array('f') of mf.size values (channel after channel:
//                             mean, rms, peak, crest, band energies)
// The state is one heap block allocated by the constructor; compute() allocates nothing.
#include "py/dynruntime.h"
#include "tm_motion.h"
#include "tm_internal.h"    // tm_format (the engine is always in the module)

typedef struct {
    mp_obj_base_t base;
    tm_motion_t *m;
    float rate;             // 0: bands given as bins
    float scale;
} motion_obj_t;

static void raise_msg(const mp_obj_type_t *type, const char *msg) {
    size_t len = 0;
    while (msg[len]) {
        len++;
    }
    nlr_raise(mp_obj_new_exception_arg1(type, mp_obj_new_str(msg, len)));
}

static const char *motion_error(int err) {
    switch (err) {
        case TM_MOTION_BAD_N: return "n must be a power of two from 32 to 1024";
        case TM_MOTION_BAD_CHANNELS: return "channels must be 1..64";
        case TM_MOTION_BAD_BANDS: return "at most 32 bands";
        case TM_MOTION_BAD_BIN: return "a band's bins must be (k0, k1) with 0 <= k0 < k1 <= n/2 + 1";
        case TM_MOTION_BAD_RATE: return "rate must be a positive number of samples per second";
        case TM_MOTION_BAD_HZ: return "a band in Hz must be (lo, hi) with 0 <= lo < hi";
        default: return "a band holds no FFT bin: widen it (the bins are rate/n Hz apart)";
    }
}

// (lo, hi) pairs of a tuple/list of pairs
static size_t get_pairs(mp_obj_t seq, mp_obj_t **items) {
    size_t len;
    mp_obj_get_array(seq, &len, items);
    return len;
}

static void pair(mp_obj_t p, mp_obj_t *a, mp_obj_t *b) {
    size_t len;
    mp_obj_t *items;
    mp_obj_get_array(p, &len, &items);
    if (len != 2) {
        raise_msg(&mp_type_ValueError, "each band is a pair (lo, hi)");
    }
    *a = items[0];
    *b = items[1];
}

// MotionFeatures(n, channels=1, *, rate=None, bands=None, bins=None, scale=1.0)
static mp_obj_t motion_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 2, true);
    // (qstrs of a native module are looked up at run time: no static table of them)
    const qstr kw_names[6] = {MP_QSTR_n, MP_QSTR_channels, MP_QSTR_rate, MP_QSTR_bands, MP_QSTR_bins, MP_QSTR_scale};
    mp_obj_t vals[6] = {MP_OBJ_NULL, MP_OBJ_NULL, MP_OBJ_NULL, MP_OBJ_NULL, MP_OBJ_NULL, MP_OBJ_NULL};
    for (size_t i = 0; i < n_args; i++) {
        vals[i] = args[i];
    }
    for (size_t k = 0; k < n_kw; k++) {
        const mp_obj_t key = args[n_args + 2 * k];
        size_t j = 0;
        while (j < 6 && key != MP_OBJ_NEW_QSTR(kw_names[j])) {
            j++;
        }
        if (j == 6 || vals[j] != MP_OBJ_NULL) {
            raise_msg(&mp_type_TypeError, "MotionFeatures(n, channels=1, *, rate=None, bands=None, bins=None, "
                "scale=1.0)");
        }
        vals[j] = args[n_args + 2 * k + 1];
    }
    if (vals[0] == MP_OBJ_NULL) {
        raise_msg(&mp_type_TypeError, "MotionFeatures() needs n, the window length in samples");
    }
    const mp_int_t n = mp_obj_get_int(vals[0]);
    const mp_int_t channels = vals[1] == MP_OBJ_NULL ? 1 : mp_obj_get_int(vals[1]);
    const int has_rate = vals[2] != MP_OBJ_NULL && vals[2] != mp_const_none;
    const int has_bands = vals[3] != MP_OBJ_NULL && vals[3] != mp_const_none;
    const int has_bins = vals[4] != MP_OBJ_NULL && vals[4] != mp_const_none;
    const float rate = has_rate ? mp_obj_get_float_to_f(vals[2]) : 0.0f;
    const float scale = vals[5] == MP_OBJ_NULL ? 1.0f : mp_obj_get_float_to_f(vals[5]);
    if (has_rate && !(rate > 0.0f && rate < 3.0e38f)) {
        raise_msg(&mp_type_ValueError, motion_error(TM_MOTION_BAD_RATE));
    }
    if (n < TM_MOTION_MIN_N || n > TM_MOTION_MAX_N) {
        raise_msg(&mp_type_ValueError, motion_error(TM_MOTION_BAD_N));
    }
    if (has_bands && has_bins) {
        raise_msg(&mp_type_TypeError, "give bands (in Hz, with rate) or bins, not both");
    }
    if (has_bands && !has_rate) {
        raise_msg(&mp_type_TypeError, "bands in Hz need the sample rate: rate=");
    }
    uint16_t bins[2 * TM_MOTION_MAX_BANDS];
    size_t nb = 0;
    if (has_bands || has_bins) {
        mp_obj_t *items;
        nb = get_pairs(has_bands ? vals[3] : vals[4], &items);
        if (nb > TM_MOTION_MAX_BANDS) {
            raise_msg(&mp_type_ValueError, motion_error(TM_MOTION_BAD_BANDS));
        }
        for (size_t b = 0; b < nb; b++) {
            mp_obj_t lo, hi;
            pair(items[b], &lo, &hi);
            if (has_bands) {
                uint16_t k0 = 0, k1 = 0;
                const float flo = mp_obj_get_float_to_f(lo), fhi = mp_obj_get_float_to_f(hi);
                const int err = tm_motion_hz_to_bins((uint32_t)n, rate, flo, fhi, &k0, &k1);
                if (err) {
                    raise_msg(&mp_type_ValueError, motion_error(err));
                }
                bins[2 * b] = k0;
                bins[2 * b + 1] = k1;
            } else {
                const mp_int_t k0 = mp_obj_get_int(lo), k1 = mp_obj_get_int(hi);
                if (k0 < 0 || k1 <= k0 || k1 > n / 2 + 1) {
                    raise_msg(&mp_type_ValueError, motion_error(TM_MOTION_BAD_BIN));
                }
                bins[2 * b] = (uint16_t)k0;
                bins[2 * b + 1] = (uint16_t)k1;
            }
        }
    }
    if (channels < 1 || channels > TM_MOTION_MAX_CHANNELS) {
        raise_msg(&mp_type_ValueError, motion_error(TM_MOTION_BAD_CHANNELS));
    }
    motion_obj_t *self = mp_obj_malloc(motion_obj_t, type);
    self->m = NULL;
    self->rate = rate;
    self->scale = scale;
    void *mem = m_malloc(tm_motion_bytes((uint32_t)n, (uint32_t)channels, (uint32_t)nb));
    const int err = tm_motion_init(mem, (uint32_t)n, (uint32_t)channels, (uint32_t)nb, bins);
    if (err) {
        raise_msg(&mp_type_ValueError, motion_error(err));
    }
    self->m = mem;
    return MP_OBJ_FROM_PTR(self);
}

// compute(window, out): window holds n x channels samples, sample after sample (x[i * channels + c]):
// array('f') (float32) or array('h') (int16), each taken times scale; out is a writable float32 buffer
// (array('f') or bytearray) of at least size values. Returns size. Checked before out is written.
static mp_obj_t motion_compute(mp_obj_t self_in, mp_obj_t win_in, mp_obj_t out_in) {
    motion_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tm_motion_t *m = self->m;
    mp_buffer_info_t win, out;
    mp_get_buffer_raise(win_in, &win, MP_BUFFER_READ);
    const size_t want = (size_t)tm_motion_n(m) * tm_motion_channels(m);
    size_t item = 2;
    if (win.typecode == 'f') {
        item = 4;
    } else if (win.typecode == 'h') {
        item = 2;
    } else {
        raise_msg(&mp_type_TypeError, "window must be array('f') (float32) or array('h') (int16 x scale)");
    }
    if (win.len != want * item) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "window holds %u samples, want n x channels = %u x %u = %u",
            (uint32_t)(win.len / item), tm_motion_n(m), tm_motion_channels(m), (uint32_t)want);
        raise_msg(&mp_type_ValueError, msg);
    }
    if (!mp_get_buffer(out_in, &out, MP_BUFFER_WRITE) ||
        (out.typecode != 'f' && out.typecode != 'B' && out.typecode != 1)) {
        raise_msg(&mp_type_TypeError, "out must be a writable float32 buffer: array('f') or bytearray");
    }
    const uint32_t size = tm_motion_outputs(m);
    if (out.len / 4 < size) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "out has room for %u float32 values, the features are %u", (uint32_t)(out.len / 4), size);
        raise_msg(&mp_type_ValueError, msg);
    }
    if (item == 4) {
        tm_motion_compute_f32(m, win.buf, self->scale, out.buf);
    } else {
        tm_motion_compute_i16(m, win.buf, self->scale, out.buf);
    }
    return MP_OBJ_NEW_SMALL_INT(size);
}
static MP_DEFINE_CONST_FUN_OBJ_3(motion_compute_obj, motion_compute);

static mp_obj_t motion_bins_obj(const tm_motion_t *m) {
    const uint32_t nb = tm_motion_bands(m);
    const uint16_t *bins = tm_motion_bins(m);
    mp_obj_t t = mp_obj_new_tuple(nb, NULL);
    mp_obj_t *items;
    size_t len;
    mp_obj_get_array(t, &len, &items);
    for (uint32_t b = 0; b < nb; b++) {
        mp_obj_t kk[2] = {MP_OBJ_NEW_SMALL_INT(bins[2 * b]), MP_OBJ_NEW_SMALL_INT(bins[2 * b + 1])};
        items[b] = mp_obj_new_tuple(2, kk);
    }
    return t;
}

static void motion_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    motion_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const tm_motion_t *m = self->m;
    const uint32_t n = tm_motion_n(m), nb = tm_motion_bands(m);
    mp_printf(print, "<MotionFeatures n=%u channels=%u", (unsigned)n, (unsigned)tm_motion_channels(m));
    if (self->rate > 0.0f) {
        const uint32_t milli = (uint32_t)(self->rate * 1000.0f + 0.5f);
        mp_printf(print, " rate=%u.%03u Hz", (unsigned)(milli / 1000u), (unsigned)(milli % 1000u));
    }
    mp_printf(print, ", %u bands (FFT bins", (unsigned)nb);
    for (uint32_t b = 0; b < nb; b++) {
        mp_printf(print, "%s%u-%u", b ? ", " : " ", (unsigned)tm_motion_bins(m)[2 * b],
            (unsigned)tm_motion_bins(m)[2 * b + 1] - 1);
    }
    mp_printf(print, "), %u float32 out: per channel mean, rms, peak, crest, bands; state %u bytes>",
        (unsigned)tm_motion_outputs(m), (unsigned)tm_motion_bytes(n, 0, 0));
}

static void motion_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    motion_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const tm_motion_t *m = self->m;
    if (dest[0] != MP_OBJ_NULL) {
        return;     // read-only
    }
    if (attr == MP_QSTR_n) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_motion_n(m));
    } else if (attr == MP_QSTR_channels) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_motion_channels(m));
    } else if (attr == MP_QSTR_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_motion_outputs(m));
    } else if (attr == MP_QSTR_bins) {
        dest[0] = motion_bins_obj(m);
    } else if (attr == MP_QSTR_rate) {
        dest[0] = self->rate > 0.0f ? mp_obj_new_float_from_f(self->rate) : mp_const_none;
    } else if (attr == MP_QSTR_scale) {
        dest[0] = mp_obj_new_float_from_f(self->scale);
    } else if (attr == MP_QSTR_state_bytes) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_motion_bytes(tm_motion_n(m), 0, 0));
    } else {
        dest[1] = MP_OBJ_SENTINEL;  // methods
    }
}

// Called from mpy_init (modtinyml.c) when the module is built with FEATURES=motion.
void tm_motion_register(void) {
    mp_obj_full_type_t *type = m_malloc(sizeof(mp_obj_full_type_t));
    memset(type, 0, sizeof(mp_obj_full_type_t));
    type->base.type = (void *)&mp_type_type;
    type->flags = MP_TYPE_FLAG_NONE;
    type->name = MP_QSTR_MotionFeatures;
    mp_obj_t locals = mp_obj_new_dict(1);
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_compute), MP_OBJ_FROM_PTR(&motion_compute_obj));
    MP_OBJ_TYPE_SET_SLOT(type, make_new, motion_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(type, print, motion_print, 1);
    MP_OBJ_TYPE_SET_SLOT(type, attr, motion_attr, 2);
    MP_OBJ_TYPE_SET_SLOT(type, locals_dict, MP_OBJ_TO_PTR(locals), 3);
    mp_store_global(MP_QSTR_MotionFeatures, MP_OBJ_FROM_PTR(type));
}
