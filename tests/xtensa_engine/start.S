// Bare-metal start-up for running the engine's xtensawin (ESP32) code under
// `qemu-system-xtensa -M sim -cpu de233_fpu -semihosting` (windowed ABI + single-precision FPU, like the
// ESP32's LX6). Placed first in the image, which must be 4 KiB aligned (VECBASE).
//
// de233_fpu has no MUL32HIGH option, which the ESP32 has and which LLVM uses (-mcpu=esp32) for the high
// half of 32x32->64 multiplies. The engine objects are NOT recompiled without it: MULSH/MULUH raise an
// IllegalInstruction exception here, and the kernel exception handler below emulates them (exact 64-bit
// product from four MUL16U partial products) and resumes after the instruction. Any other exception (or a
// double exception) prints "XTEXC cause=.. epc=.. vaddr=.." and exits with code 0x40 + EXCCAUSE (0x7f for
// a double exception), so a crash is reported instead of hanging.
//
// Vector offsets for de233_fpu (QEMU target/xtensa/core-de233_fpu/core-isa.h): window handlers at
// 0x000..0x17f, kernel exception 0x300, user exception 0x340, double exception 0x3c0.
// harness_main()'s result becomes QEMU's exit code through the semihosting exit call.

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

    .org    _vectors + 0x300  // KernelExceptionVector (PS.UM = 0 throughout)
    wsr     a2, excsave1
    j       exc_handler

    .org    _vectors + 0x340  // UserExceptionVector (not expected)
    wsr     a2, excsave1
    j       exc_handler

    .org    _vectors + 0x3c0  // DoubleExceptionVector
    movi    a3, 0x7f
    movi    a2, 1                 // SYS_exit
    .byte   0x00, 0x51, 0x00      // simcall
1:  j       1b

    .org    _vectors + 0x400
    .literal_position
    .literal .Lvectors, _vectors
    .literal .Lmain, harness_main
    .literal .Lsave, exc_save
    .literal .Lmsg, exc_msg
    .literal .Lemu, mul32high_emulated
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

// ---------------------------------------------------------------------------------------------------
// Exception handler. Entered with PS.EXCM = 1 and the faulting code's a2 in EXCSAVE1; uses no windowed
// calls (a window overflow now would be a double exception). a0-a15 are saved to exc_save[0..15], so an
// instruction's register fields index that array.
    .p2align 2
.Lbad:
    j       fatal                 // within reach of the 8-bit-offset compare branches below
exc_handler:
    l32r    a2, .Lsave
    s32i    a0, a2, 0
    s32i    a1, a2, 4
    rsr     a0, excsave1
    s32i    a0, a2, 8
    s32i    a3, a2, 12
    s32i    a4, a2, 16
    s32i    a5, a2, 20
    s32i    a6, a2, 24
    s32i    a7, a2, 28
    s32i    a8, a2, 32
    s32i    a9, a2, 36
    s32i    a10, a2, 40
    s32i    a11, a2, 44
    s32i    a12, a2, 48
    s32i    a13, a2, 52
    s32i    a14, a2, 56
    s32i    a15, a2, 60
    rsr     a3, exccause
    bnez    a3, fatal             // 0 = IllegalInstruction
    rsr     a4, epc1
    l8ui    a5, a4, 0             // RRR format: op0 = b0[3:0], t = b0[7:4]
    l8ui    a6, a4, 1             //             s = b1[3:0],   r = b1[7:4]
    l8ui    a7, a4, 2             //             op1 = b2[3:0], op2 = b2[7:4]
    extui   a8, a5, 0, 4
    bnez    a8, fatal             // op0 = 0 (QRST)
    extui   a8, a7, 0, 4
    bnei    a8, 2, .Lbad          // op1 = 2 (MUL/DIV group)
    extui   a8, a7, 4, 4
    bltui   a8, 10, .Lbad          // op2 = 10 (MULUH) or 11 (MULSH)
    bgeui   a8, 12, .Lbad
    extui   a8, a5, 4, 4
    addx4   a8, a8, a2
    l32i    a9, a8, 0             // a9 = AR[t]
    extui   a8, a6, 0, 4
    addx4   a8, a8, a2
    l32i    a10, a8, 0            // a10 = AR[s]
    // unsigned high word: s = sh:sl, t = th:tl (16-bit halves)
    mul16u  a11, a10, a9          // sl*tl
    extui    a12, a10, 16, 16          // sh
    extui    a13, a9, 16, 16           // th
    mul16u  a14, a10, a13         // sl*th
    mul16u  a15, a12, a9          // sh*tl
    mul16u  a12, a12, a13         // sh*th
    extui    a11, a11, 16, 16
    extui   a13, a14, 0, 16
    add     a11, a11, a13
    extui   a13, a15, 0, 16
    add     a11, a11, a13         // carry word of the middle column (< 3 * 2^16)
    extui    a11, a11, 16, 16
    add     a12, a12, a11
    extui    a14, a14, 16, 16
    add     a12, a12, a14
    extui    a15, a15, 16, 16
    add     a12, a12, a15         // a12 = MULUH(s, t)
    extui   a8, a7, 4, 4
    beqi    a8, 10, 2f            // MULUH: done
    bgez    a10, 1f               // MULSH = MULUH - (s < 0 ? t : 0) - (t < 0 ? s : 0)  (mod 2^32)
    sub     a12, a12, a9
1:  bgez    a9, 2f
    sub     a12, a12, a10
2:  extui   a8, a6, 4, 4
    addx4   a8, a8, a2
    s32i    a12, a8, 0            // AR[r] = result
    addi    a4, a4, 3
    wsr     a4, epc1              // resume after the 3-byte instruction
    l32r    a8, .Lemu
    l32i    a9, a8, 0
    addi    a9, a9, 1
    s32i    a9, a8, 0             // count emulations (reported by the harness)
    l32i    a0, a2, 0
    l32i    a1, a2, 4
    l32i    a3, a2, 12
    l32i    a4, a2, 16
    l32i    a5, a2, 20
    l32i    a6, a2, 24
    l32i    a7, a2, 28
    l32i    a8, a2, 32
    l32i    a9, a2, 36
    l32i    a10, a2, 40
    l32i    a11, a2, 44
    l32i    a12, a2, 48
    l32i    a13, a2, 52
    l32i    a14, a2, 56
    l32i    a15, a2, 60
    l32i    a2, a2, 8             // last: the result may have been for a2
    rfe

// Print "XTEXC cause=XXXXXXXX epc=XXXXXXXX vaddr=XXXXXXXX\n" and exit with 0x40 + EXCCAUSE.
fatal:
    l32r    a4, .Lmsg             // template with three 8-digit hex fields at offsets 12, 25, 40
    addi    a5, a4, 12
    or      a6, a3, a3
    call0   hex8
    rsr     a6, epc1
    addi    a5, a4, 25
    call0   hex8
    rsr     a6, excvaddr
    addi    a5, a4, 40
    call0   hex8
    movi    a2, 4                 // SYS_write(1, msg, 49)
    movi    a3, 1
    movi    a5, 49
    .byte   0x00, 0x51, 0x00      // simcall
    rsr     a3, exccause
    addi    a3, a3, 0x40
    movi    a2, 1                 // SYS_exit
    .byte   0x00, 0x51, 0x00      // simcall
1:  j       1b

// a6 as 8 hex digits at a5 (call0: return address in a0; clobbers a6-a9)
    .p2align 2
hex8:
    movi    a7, 8
1:  extui   a8, a6, 28, 4
    addi    a9, a8, '0'
    bltui   a8, 10, 2f
    addi    a9, a8, 'a' - 10
2:  s8i     a9, a5, 0
    addi    a5, a5, 1
    slli    a6, a6, 4
    addi    a7, a7, -1
    bnez    a7, 1b
    ret

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

    .data
    .p2align 2
exc_save:
    .space  64
exc_msg:
    .ascii  "XTEXC cause=00000000 epc=00000000 vaddr=00000000\n"
    .global mul32high_emulated
    .p2align 2
mul32high_emulated:
    .long   0
