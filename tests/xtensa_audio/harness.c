// Drives the audio frontend (native_modules/features/tm_audio.c, compiled for xtensawin) on the emulated
// Xtensa core, with tests/xtensa_engine/start.S (see tests/test_audio_frontend.py). The test puts a job at
// JOB_ADDR with QEMU's loader device: {magic, samples, step, chunk} then the int16 PCM. The harness feeds it
// in chunks and prints one line "OUT <hex of the frame's 40 uint16 values>" per frame through semihosting.
// Statics are fine here (bare metal); tm_audio.c itself keeps no state outside the caller's block.
#include <stddef.h>
#include <stdint.h>
#include "tm_audio.h"

#define JOB_ADDR 0x00400000u
#define JOB_MAGIC 0x4f445541u  // "AUDO"

int sim_write(int fd, const void *buf, unsigned len);

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) {
            *d++ = *s++;
        }
    } else {
        while (n--) {
            d[n] = s[n];
        }
    }
    return dst;
}

void *memset(void *p, int c, size_t n) {
    uint8_t *d = p;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return p;
}

static uint64_t state[1400];        // 11 KB >= tm_audio_bytes()
static uint16_t frames[40 * 8];
static char line[8 + 40 * 4];

int harness_main(void) {
    const uint32_t *job = (const uint32_t *)JOB_ADDR;
    if (job[0] != JOB_MAGIC || tm_audio_bytes() > sizeof(state)) {
        sim_write(1, "ERR job\n", 8);
        return 2;
    }
    const uint32_t n = job[1], chunk = job[3];
    const int16_t *pcm = (const int16_t *)(job + 4);
    tm_audio_t *a = tm_audio_init(state, job[2]);
    for (uint32_t pos = 0; pos < n; pos += chunk) {
        const uint32_t len = n - pos < chunk ? n - pos : chunk;
        if (tm_audio_frames_for(a, len) > 8) {
            sim_write(1, "ERR chunk\n", 10);
            return 3;
        }
        const uint32_t got = tm_audio_process(a, pcm + pos, len, frames);
        for (uint32_t f = 0; f < got; f++) {
            char *p = line;
            *p++ = 'O'; *p++ = 'U'; *p++ = 'T'; *p++ = ' ';
            for (int c = 0; c < 40; c++) {
                const uint16_t v = frames[f * 40 + c];
                for (int k = 12; k >= 0; k -= 4) {
                    *p++ = "0123456789abcdef"[(v >> k) & 15];
                }
            }
            *p++ = '\n';
            sim_write(1, line, (unsigned)(p - line));
        }
    }
    return 0;
}
