// setjmp/longjmp for the windowed ABI, implemented in start.S (newlib's headers, used for the rest of libc,
// define no jmp_buf for Xtensa). Layout: start.S.
#ifndef QEMU_XTENSA_SETJMP_H
#define QEMU_XTENSA_SETJMP_H
typedef int jmp_buf[11];
int setjmp(jmp_buf env) __attribute__((returns_twice));
void longjmp(jmp_buf env, int val) __attribute__((noreturn));
#endif
