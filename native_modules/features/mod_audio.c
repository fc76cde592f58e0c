// tinyml.AudioFrontend: the MicroPython face of tm_audio.c (TFLM's audio frontend, bit-exact with the
// pymicro-features wheel). Compiled into the module only when it is wanted (FEATURES=audio: the full module,
// or `tinyml pack --features audio`): on the ESP32 native code takes scarce IRAM.
//   fe = tinyml.AudioFrontend()                       microWakeWord: 30 ms windows every 10 ms
//   fe = tinyml.AudioFrontend(config='micro_speech')  30 ms windows every 20 ms
//   n = fe.process(pcm, out)   int16 PCM at 16 kHz in (any length), n frames of 40 uint16 values out
// The state is one heap block allocated by the constructor; process() allocates nothing.
#include "py/dynruntime.h"
#include "tm_audio.h"
#include "tm_internal.h"    // tm_format (the engine is always in the module)

typedef struct {
    mp_obj_base_t base;
    tm_audio_t *a;
    uint8_t config;     // 0: microwakeword, 1: micro_speech
} audio_obj_t;

static const char *config_name(int config) {
    return config ? "micro_speech" : "microwakeword";
}

static void raise_msg(const mp_obj_type_t *type, const char *msg) {
    size_t len = 0;
    while (msg[len]) {
        len++;
    }
    nlr_raise(mp_obj_new_exception_arg1(type, mp_obj_new_str(msg, len)));
}

static int same_str(const char *a, size_t len, const char *b) {
    size_t i = 0;
    while (i < len && b[i] && a[i] == b[i]) {
        i++;
    }
    return i == len && b[i] == 0;
}

// AudioFrontend(config='microwakeword')
static mp_obj_t audio_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, true);
    mp_obj_t config_obj = n_args ? args[0] : mp_const_none;
    for (size_t k = 0; k < n_kw; k++) {
        if (args[n_args + 2 * k] != MP_OBJ_NEW_QSTR(MP_QSTR_config)) {
            raise_msg(&mp_type_TypeError, "AudioFrontend() takes config='microwakeword' or 'micro_speech'");
        }
        config_obj = args[n_args + 2 * k + 1];
    }
    int config = 0;
    if (config_obj != mp_const_none) {
        size_t len;
        const char *s = mp_obj_str_get_data(config_obj, &len);
        if (same_str(s, len, "micro_speech")) {
            config = 1;
        } else if (!same_str(s, len, "microwakeword")) {
            raise_msg(&mp_type_ValueError, "config must be 'microwakeword' (10 ms step) or 'micro_speech' (20 ms)");
        }
    }
    audio_obj_t *self = mp_obj_malloc(audio_obj_t, type);
    self->a = NULL;
    self->config = (uint8_t)config;
    void *mem = m_malloc(tm_audio_bytes());
    if (mem == NULL) {
        raise_msg((const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_MemoryError)), "not enough memory for the audio frontend's state");
    }
    self->a = tm_audio_init(mem, config ? 320 : 160);
    return MP_OBJ_FROM_PTR(self);
}

// Frames a chunk of n samples would complete now (to size out= for process()).
static mp_obj_t audio_frames_for(mp_obj_t self_in, mp_obj_t n_in) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t n = mp_obj_get_int(n_in);
    if (n < 0) {
        raise_msg(&mp_type_ValueError, "frames_for() takes a number of samples >= 0");
    }
    return mp_obj_new_int_from_uint(tm_audio_frames_for(self->a, (uint32_t)n));
}
static MP_DEFINE_CONST_FUN_OBJ_2(audio_frames_for_obj, audio_frames_for);

// process(pcm, out): pcm is int16 samples (array('h'), or bytes/bytearray/memoryview of little-endian int16),
// any length, all consumed; out is a writable uint16 buffer (array('H') or bytearray) with room for the frames
// they complete (frames_for(len(pcm)) x 40 values). Returns the number of frames written; out[:40 * n] holds
// them, one frame after the other. Checked before anything is consumed: on an error the state is unchanged.
static mp_obj_t audio_process(mp_obj_t self_in, mp_obj_t pcm_in, mp_obj_t out_in) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t pcm, out;
    mp_get_buffer_raise(pcm_in, &pcm, MP_BUFFER_READ);
    // (a bytearray's typecode is BYTEARRAY_TYPECODE, 1)
    if (pcm.typecode != 'h' && pcm.typecode != 'B' && pcm.typecode != 'b' && pcm.typecode != 1) {
        raise_msg(&mp_type_TypeError, "pcm must hold int16 samples: array('h') or bytes");
    }
    if (pcm.len & 1) {
        raise_msg(&mp_type_ValueError, "pcm has an odd number of bytes: int16 samples are 2 bytes each");
    }
    if (!mp_get_buffer(out_in, &out, MP_BUFFER_WRITE) ||
        (out.typecode != 'H' && out.typecode != 'B' && out.typecode != 'h' && out.typecode != 1)) {
        raise_msg(&mp_type_TypeError, "out must be a writable uint16 buffer: array('H') or bytearray");
    }
    const uint32_t n = (uint32_t)(pcm.len / 2);
    const uint32_t frames = tm_audio_frames_for(self->a, n);
    const uint32_t channels = tm_audio_channels();
    if (out.len / (2 * channels) < frames) {
        char msg[TM_ERR_LEN];
        tm_format(msg, "out has room for %u frames of %u values, these %u samples complete %u: "
            "size it with frames_for(len(pcm))", (uint32_t)(out.len / (2 * channels)), channels, n, frames);
        raise_msg(&mp_type_ValueError, msg);
    }
    return mp_obj_new_int_from_uint(tm_audio_process(self->a, pcm.buf, n, out.buf));
}
static MP_DEFINE_CONST_FUN_OBJ_3(audio_process_obj, audio_process);

static mp_obj_t audio_reset(mp_obj_t self_in) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tm_audio_reset(self->a);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(audio_reset_obj, audio_reset);

static void audio_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<AudioFrontend %s: 16 kHz int16 in, %u ms windows every %u ms, %u channels uint16 out, "
        "%u samples pending, state %u bytes>", config_name(self->config),
        (unsigned)(tm_audio_window_samples() / 16), (unsigned)(tm_audio_step_samples(self->a) / 16),
        (unsigned)tm_audio_channels(), (unsigned)tm_audio_pending(self->a), (unsigned)tm_audio_bytes());
}

static void audio_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;     // read-only
    }
    if (attr == MP_QSTR_channels) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_audio_channels());
    } else if (attr == MP_QSTR_step) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_audio_step_samples(self->a));
    } else if (attr == MP_QSTR_window) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_audio_window_samples());
    } else if (attr == MP_QSTR_pending) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_audio_pending(self->a));
    } else if (attr == MP_QSTR_state_bytes) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(tm_audio_bytes());
    } else if (attr == MP_QSTR_config) {
        const char *s = config_name(self->config);
        size_t len = 0;
        while (s[len]) {
            len++;
        }
        dest[0] = mp_obj_new_str(s, len);
    } else {
        dest[1] = MP_OBJ_SENTINEL;  // methods
    }
}

// Called from mpy_init (modtinyml.c) when the module is built with FEATURES=audio.
void tm_audio_register(void) {
    mp_obj_full_type_t *type = m_malloc(sizeof(mp_obj_full_type_t));
    memset(type, 0, sizeof(mp_obj_full_type_t));
    type->base.type = (void *)&mp_type_type;
    type->flags = MP_TYPE_FLAG_NONE;
    type->name = MP_QSTR_AudioFrontend;
    mp_obj_t locals = mp_obj_new_dict(3);
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_process), MP_OBJ_FROM_PTR(&audio_process_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_frames_for), MP_OBJ_FROM_PTR(&audio_frames_for_obj));
    mp_obj_dict_store(locals, MP_OBJ_NEW_QSTR(MP_QSTR_reset), MP_OBJ_FROM_PTR(&audio_reset_obj));
    MP_OBJ_TYPE_SET_SLOT(type, make_new, audio_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(type, print, audio_print, 1);
    MP_OBJ_TYPE_SET_SLOT(type, attr, audio_attr, 2);
    MP_OBJ_TYPE_SET_SLOT(type, locals_dict, MP_OBJ_TO_PTR(locals), 3);
    mp_store_global(MP_QSTR_AudioFrontend, MP_OBJ_FROM_PTR(type));
}
