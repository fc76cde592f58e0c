// Drives the engine (tm_engine.h) on the emulated Xtensa core (see start.S and tests/test_xtensa_engine.py).
// The test puts a job in memory with QEMU's loader device at JOB_ADDR: a header, the .tflite model and
// n_sets input sets (each the model's inputs' bytes, concatenated in input order). The harness measures,
// loads and prepares the model in the memory after the job, then per set copies the inputs in, invokes and
// prints one line "OUT <hex of all outputs' bytes, concatenated>" through semihosting. Errors are printed
// as "ERR <stage>: <engine message>" and give a non-zero exit code; the last line, "MUL32HIGH_EMULATED <n>",
// counts the MULSH/MULUH instructions start.S emulated.
// Statics are fine here (bare metal, one model); the engine itself keeps no state outside its two blocks.
#include <stddef.h>
#include <stdint.h>
#include "tm_engine.h"

#define JOB_ADDR 0x00400000u
#define JOB_MAGIC 0x4a4d5458u  // "XTMJ"
#define JOB_CRASH 0x43544d58u  // "XMTC": execute an illegal instruction (tests start.S's fatal path)

typedef struct {
    uint32_t magic;
    uint32_t model_off, model_len;  // offsets from JOB_ADDR
    uint32_t n_sets, set_bytes, sets_off;
    uint32_t mem_off, mem_len;      // free memory for the metadata block and the arena
} job_t;

int sim_write(int fd, const void *buf, unsigned len);
extern volatile uint32_t mul32high_emulated;  // MULSH/MULUH emulated by start.S

// The engine's libc needs (the native module forwards these to MicroPython's own).
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

size_t strlen(const char *s) {
    const char *p = s;
    while (*p) {
        p++;
    }
    return (size_t)(p - s);
}

static char line[4096];
static unsigned line_len;

static void flush(void) {
    if (line_len) {
        sim_write(1, line, line_len);
        line_len = 0;
    }
}

static void put(char c) {
    if (line_len == sizeof(line)) {
        flush();
    }
    line[line_len++] = c;
}

static void puts_(const char *s) {
    while (*s) {
        put(*s++);
    }
}

static void put_hex(uint32_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
        put("0123456789abcdef"[(v >> (4 * i)) & 15]);
    }
}

static void put_dec(uint32_t v) {
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        put(buf[--n]);
    }
}

static int fail(const char *stage, const char *msg, int code) {
    puts_("ERR ");
    puts_(stage);
    puts_(": ");
    puts_(msg);
    put('\n');
    flush();
    return code;
}

int harness_main(void) {
    const job_t *job = (const job_t *)JOB_ADDR;
    if (job->magic == JOB_CRASH) {
        __asm__ volatile(".byte 0, 0, 0");  // ILL
    }
    if (job->magic != JOB_MAGIC) {
        return fail("job", "bad magic", 2);
    }
    const uint8_t *model = (const uint8_t *)(JOB_ADDR + job->model_off);
    uint8_t *mem = (uint8_t *)((JOB_ADDR + job->mem_off + 7u) & ~7u);
    uint32_t mem_len = job->mem_len - 8;
    char error[TM_ERR_LEN];
    uint32_t block_bytes;
    if (tm_model_measure(model, job->model_len, &block_bytes, error) != TM_OK) {
        return fail("measure", error, 3);
    }
    uint32_t block_alloc = (block_bytes + 7u) & ~7u;
    if (block_alloc > mem_len) {
        return fail("load", "metadata block does not fit", 4);
    }
    if (tm_model_load(mem, block_bytes, model, job->model_len, 0, error) != TM_OK) {
        return fail("load", error, 4);
    }
    tm_model_t *m = (tm_model_t *)mem;
    if (m->arena_bytes > mem_len - block_alloc) {
        return fail("prepare", "arena does not fit", 5);
    }
    // QEMU's RAM starts zeroed: a pattern in the arena makes a kernel that should write zeros and does not
    // differ from TFLM here, as it would in a reused arena on a board
    memset(mem + block_alloc, 0xA5, m->arena_bytes);
    if (tm_model_prepare(m, mem + block_alloc) != TM_OK) {
        return fail("prepare", m->error, 5);
    }
    puts_("ARENA ");
    put_dec(m->arena_bytes);
    puts_(" METADATA ");
    put_dec(m->metadata_bytes);
    put('\n');
    const uint8_t *set = (const uint8_t *)(JOB_ADDR + job->sets_off);
    for (uint32_t k = 0; k < job->n_sets; k++, set += job->set_bytes) {
        uint32_t off = 0;
        for (int i = 0; i < m->n_inputs; i++) {
            tm_tensor_t *t = &m->tensors[m->inputs[i]];
            if (off + t->bytes > job->set_bytes) {
                return fail("inputs", "input set too short", 6);
            }
            memcpy(t->data, set + off, t->bytes);
            off += t->bytes;
        }
        if (off != job->set_bytes) {
            return fail("inputs", "input set size differs from the model's inputs", 6);
        }
        if (tm_model_invoke(m) != TM_OK) {
            return fail("invoke", m->error, 7);
        }
        puts_("OUT ");
        for (int i = 0; i < m->n_outputs; i++) {
            tm_tensor_t *t = &m->tensors[m->outputs[i]];
            for (uint32_t j = 0; j < t->bytes; j++) {
                put_hex(t->data[j], 2);
            }
        }
        put('\n');
    }
    puts_("MUL32HIGH_EMULATED ");
    put_dec(mul32high_emulated);
    put('\n');
    flush();
    return 0;
}
