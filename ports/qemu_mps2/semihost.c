// ARM semihosting (the "bkpt 0xab" interface QEMU implements with -semihosting-config enable=on).
// Calls take an operation number in r0 and a pointer to an argument block in r1; the result is in r0.
#include <string.h>
#include "semihost.h"

enum {
    SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_SEEK = 0x0a,
    SYS_FLEN = 0x0c, SYS_REMOVE = 0x0e, SYS_RENAME = 0x0f, SYS_ERRNO = 0x13, SYS_GET_CMDLINE = 0x15,
    SYS_EXIT_EXTENDED = 0x20,
};

static int sh_call(int op, const void *args) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = args;
    __asm volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}

int sh_open(const char *path, int mode) {
    uint32_t a[3] = { (uint32_t)path, mode, strlen(path) };
    return sh_call(SYS_OPEN, a);
}

int sh_close(int h) {
    uint32_t a[1] = { h };
    return sh_call(SYS_CLOSE, a);
}

size_t sh_read(int h, void *buf, size_t len) {
    uint32_t a[3] = { h, (uint32_t)buf, len };
    int not_read = sh_call(SYS_READ, a);      // returns the number of bytes NOT read
    return (not_read < 0 || (size_t)not_read > len) ? 0 : len - not_read;
}

size_t sh_write(int h, const void *buf, size_t len) {
    uint32_t a[3] = { h, (uint32_t)buf, len };
    int not_written = sh_call(SYS_WRITE, a);
    return (not_written < 0 || (size_t)not_written > len) ? 0 : len - not_written;
}

int sh_seek(int h, size_t pos) {
    uint32_t a[2] = { h, pos };
    return sh_call(SYS_SEEK, a);
}

long sh_flen(int h) {
    uint32_t a[1] = { h };
    return sh_call(SYS_FLEN, a);
}

int sh_remove(const char *path) {
    uint32_t a[2] = { (uint32_t)path, strlen(path) };
    return sh_call(SYS_REMOVE, a);
}

int sh_rename(const char *from, const char *to) {
    uint32_t a[4] = { (uint32_t)from, strlen(from), (uint32_t)to, strlen(to) };
    return sh_call(SYS_RENAME, a);
}

int sh_errno(void) {
    return sh_call(SYS_ERRNO, NULL);
}

int sh_cmdline(char *buf, size_t len) {
    uint32_t a[2] = { (uint32_t)buf, len };
    return sh_call(SYS_GET_CMDLINE, a);
}

void sh_exit(int status) {
    // ADP_Stopped_ApplicationExit with a status: QEMU exits with that status.
    uint32_t a[2] = { 0x20026, (uint32_t)status };
    for (;;) {
        sh_call(SYS_EXIT_EXTENDED, a);
    }
}
