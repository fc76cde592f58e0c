// The mps2 port's semihosting API (../qemu_mps2/semihost.h, used by its file.c and modos.c, which this port
// compiles as they are) on QEMU's Xtensa sim semihosting (target/xtensa/xtensa-semi.c): POSIX-like calls
// executed by QEMU on the host, relative to its working directory. Host open() flags are passed through
// as they are, so they are Linux's. There is no remove, rename or stat call.
#include <string.h>
#include "semihost.h"

enum {
    SYS_EXIT = 1, SYS_READ = 3, SYS_WRITE = 4, SYS_OPEN = 5, SYS_CLOSE = 6, SYS_LSEEK = 19,
    SYS_ARGC = 1000, SYS_ARGV_SZ = 1001, SYS_ARGV = 1002,
};
enum { HOST_O_RDONLY = 0, HOST_O_WRONLY = 1, HOST_O_RDWR = 2, HOST_O_CREAT = 0100, HOST_O_TRUNC = 01000,
       HOST_O_APPEND = 02000 };
enum { SEEK_SET_ = 0, SEEK_CUR_ = 1, SEEK_END_ = 2 };

int xt_simcall(int op, int a, int b, int c);   // start.S
extern volatile int xt_sim_errno;

int sh_open(const char *path, int mode) {
    int flags;
    switch (mode) {
        case SH_MODE_RB: flags = HOST_O_RDONLY; break;
        case SH_MODE_RPB: flags = HOST_O_RDWR; break;
        case SH_MODE_WB: flags = HOST_O_WRONLY | HOST_O_CREAT | HOST_O_TRUNC; break;
        case SH_MODE_WPB: flags = HOST_O_RDWR | HOST_O_CREAT | HOST_O_TRUNC; break;
        case SH_MODE_AB: flags = HOST_O_WRONLY | HOST_O_CREAT | HOST_O_APPEND; break;
        case SH_MODE_APB: flags = HOST_O_RDWR | HOST_O_CREAT | HOST_O_APPEND; break;
        default: return -1;
    }
    return xt_simcall(SYS_OPEN, (int)path, flags, 0644);
}

int sh_close(int h) {
    return xt_simcall(SYS_CLOSE, h, 0, 0);
}

size_t sh_read(int h, void *buf, size_t len) {
    int n = xt_simcall(SYS_READ, h, (int)buf, len);
    return n < 0 ? 0 : (size_t)n;
}

size_t sh_write(int h, const void *buf, size_t len) {
    int n = xt_simcall(SYS_WRITE, h, (int)buf, len);
    return n < 0 ? 0 : (size_t)n;
}

int sh_seek(int h, size_t pos) {
    return xt_simcall(SYS_LSEEK, h, pos, SEEK_SET_) == (int)pos ? 0 : -1;
}

long sh_flen(int h) {
    int here = xt_simcall(SYS_LSEEK, h, 0, SEEK_CUR_);
    int end = xt_simcall(SYS_LSEEK, h, 0, SEEK_END_);
    if (here >= 0) {
        xt_simcall(SYS_LSEEK, h, here, SEEK_SET_);
    }
    return end;
}

int sh_remove(const char *path) {
    (void)path;
    return -1;      // no such semihosting call: os.remove() raises OSError
}

int sh_rename(const char *from, const char *to) {
    (void)from;
    (void)to;
    return -1;
}

int sh_errno(void) {
    return xt_sim_errno;
}

// "<arg0> <arg1> ...": the arguments of -semihosting-config ...,arg=firmware,arg=main.py[,arg=countfile],
// in the form the mps2 port gets from ARM semihosting's SYS_GET_CMDLINE.
int sh_cmdline(char *buf, size_t len) {
    int argc = xt_simcall(SYS_ARGC, 0, 0, 0);
    int size = xt_simcall(SYS_ARGV_SZ, 0, 0, 0);
    static char argv_block[1024] __attribute__((aligned(4)));
    if (argc <= 0 || size <= 0 || (size_t)size > sizeof(argv_block)) {
        return -1;
    }
    xt_simcall(SYS_ARGV, (int)argv_block, 0, 0);
    const char *const *argv = (const char *const *)argv_block;
    size_t pos = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (pos + n + 2 > len) {
            return -1;
        }
        if (i) {
            buf[pos++] = ' ';
        }
        memcpy(buf + pos, argv[i], n);
        pos += n;
    }
    buf[pos] = 0;
    return 0;
}

void sh_exit(int status) {
    for (;;) {
        xt_simcall(SYS_EXIT, status, 0, 0);
    }
}
