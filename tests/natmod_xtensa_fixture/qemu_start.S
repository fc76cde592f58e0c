// Bare-metal start-up for running xtfix.c's plain C helpers under
// `qemu-system-xtensa -M sim -cpu de233_fpu -semihosting` (windowed ABI and single-precision FPU
// like the ESP32's LX6). Placed first in the image, which must be 4 KiB aligned: the window
// overflow/underflow handlers below are the relocatable vectors at VECBASE + 0x000..0x17f.
// harness_main()'s result is passed to the semihosting exit call, so it becomes QEMU's exit code.

    .text
    .global _vectors
    .p2align 2
_vectors:
    // WindowOverflow4: spill a0-a3 of the frame below the callee's a5 (its stack pointer)
    s32e    a0, a5, -16
    s32e    a1, a5, -12
    s32e    a2, a5, -8
    s32e    a3, a5, -4
    rfwo

    .org    _vectors + 0x40  // WindowUnderflow4
    l32e    a0, a5, -16
    l32e    a1, a5, -12
    l32e    a2, a5, -8
    l32e    a3, a5, -4
    rfwu

    .org    _vectors + 0x80  // WindowOverflow8: a4-a7 go to the caller's frame's extra save area
    s32e    a0, a9, -16
    l32e    a0, a1, -12
    s32e    a2, a9, -8
    s32e    a1, a9, -12
    s32e    a3, a9, -4
    s32e    a4, a0, -32
    s32e    a5, a0, -28
    s32e    a6, a0, -24
    s32e    a7, a0, -20
    rfwo

    .org    _vectors + 0xc0  // WindowUnderflow8
    l32e    a1, a9, -12
    l32e    a0, a9, -16
    l32e    a7, a1, -12
    l32e    a2, a9, -8
    l32e    a4, a7, -32
    l32e    a3, a9, -4
    l32e    a5, a7, -28
    l32e    a6, a7, -24
    l32e    a7, a7, -20
    rfwu

    .org    _vectors + 0x100  // WindowOverflow12
    s32e    a0, a13, -16
    l32e    a0, a1, -12
    s32e    a1, a13, -12
    s32e    a2, a13, -8
    s32e    a3, a13, -4
    s32e    a4, a0, -48
    s32e    a5, a0, -44
    s32e    a6, a0, -40
    s32e    a7, a0, -36
    s32e    a8, a0, -32
    s32e    a9, a0, -28
    s32e    a10, a0, -24
    s32e    a11, a0, -20
    rfwo

    .org    _vectors + 0x140  // WindowUnderflow12
    l32e    a1, a13, -12
    l32e    a0, a13, -16
    l32e    a11, a1, -12
    l32e    a2, a13, -8
    l32e    a4, a11, -48
    l32e    a8, a11, -32
    l32e    a3, a13, -4
    l32e    a5, a11, -44
    l32e    a6, a11, -40
    l32e    a7, a11, -36
    l32e    a9, a11, -28
    l32e    a10, a11, -24
    l32e    a11, a11, -20
    rfwu

    .org    _vectors + 0x180
    .literal_position
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
    slli    a2, a2, 18            // PS: WOE=1, EXCM=0, INTLEVEL=15
    addi    a2, a2, 15
    wsr     a2, ps
    rsync
    l32r    a8, .Lmain
    callx8  a8
    or      a3, a10, a10          // exit code = harness_main()
    movi    a2, 1                 // SYS_exit
    .byte   0x00, 0x51, 0x00      // simcall
1:  j       1b
