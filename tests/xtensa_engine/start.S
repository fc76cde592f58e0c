// Bare-metal start-up for running the engine's xtensawin (ESP32) code under
// `qemu-system-xtensa -M sim -cpu de233_fpu -semihosting` (windowed ABI + single-precision FPU, like the
// ESP32's LX6). The vectors and the exception handler are the QEMU Xtensa port's
// (ports/qemu_xtensa/xtensa_exceptions.S), included first: _vectors must be the image's (4 KiB aligned) base.
//
// de233_fpu has no MUL32HIGH option, which the ESP32 has and which LLVM uses (-mcpu=esp32) for the high
// half of 32x32->64 multiplies. The engine objects are NOT recompiled without it: MULSH/MULUH raise an
// IllegalInstruction exception, which the handler emulates exactly, counting the emulations in
// mul32high_emulated (harness.c reports it). Any other exception (or a double exception) prints
// "XTEXC cause=.. epc=.. vaddr=.." and exits with code 0x40 + EXCCAUSE (0x7f for a double exception), so a
// crash is reported instead of hanging. harness_main()'s result becomes QEMU's exit code through the
// semihosting exit call.

#define XT_EMULATED_COUNT   mul32high_emulated      // harness.c
#define XT_FATAL_PREFIX     "XTEXC "
#define XT_FATAL_END        "\n"

#include "../../ports/qemu_xtensa/xtensa_exceptions.S"

    .literal .Lvectors, _vectors
    .literal .Lmain, harness_main
    .global _start
    .p2align 2
_start:
    l32r    a2, .Lvectors
    wsr     a2, vecbase
    movi    a2, 0
    wsr     a2, windowbase
    movi    a2, 1
    wsr     a2, windowstart
    wsr     a2, cpenable          // enable the FPU (coprocessor 0)
    rsync
    movi    a1, 1
    slli    a1, a1, 22            // stack top: 4 MiB
    addi    a2, a1, -64
    addi    a3, a1, -16
    s32i    a2, a3, 4             // sp - 12: this frame's "caller's sp", read by WindowOverflow8/12
    movi    a2, 1
    slli    a2, a2, 18            // PS: WOE=1, EXCM=0, UM=0, INTLEVEL=15
    addi    a2, a2, 15
    wsr     a2, ps
    rsync
    l32r    a8, .Lmain
    callx8  a8
    or      a3, a10, a10          // exit code = harness_main()
    movi    a2, 1                 // SYS_exit
    .byte   0x00, 0x51, 0x00      // simcall
1:  j       1b

// Semihosting calls for C (windowed ABI: arguments in a2..).
    .global sim_write
    .p2align 2
sim_write:                        // int sim_write(int fd, const void *buf, unsigned len)
    entry   a1, 32
    or      a5, a4, a4
    or      a4, a3, a3
    or      a3, a2, a2
    movi    a2, 4                 // SYS_write
    .byte   0x00, 0x51, 0x00      // simcall
    retw.n
