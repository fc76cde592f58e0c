// Start-up, exception handling and register-window primitives of the QEMU Xtensa port.
// Runs on `qemu-system-xtensa -M sim -cpu de233_fpu`: windowed ABI and a single-precision FPU like the
// ESP32's LX6 (de233_fpu is an LX7 with 32 physical address registers). Placed first in the image, which
// must be 4 KiB aligned (VECBASE). Vector offsets: QEMU's target/xtensa/core-de233_fpu/core-isa.h.
//
// What is here and why:
// - Window overflow/underflow handlers: the standard ones of the windowed ABI.
// - MULSH/MULUH emulation. The ESP32 has the MUL32HIGH option and LLVM (-mcpu=esp32) uses it for the high
//   word of 32x32->64 products (requantization, division by constants); de233_fpu lacks it, so those
//   instructions raise IllegalInstruction and the kernel exception handler computes them exactly from
//   four MUL16U partial products. The emulation runs the same instructions whatever the operands (no
//   data-dependent branch), so its cost is a constant that mphalport.c measures at boot and takes out of
//   the instruction count: an emulated MULSH/MULUH counts as one instruction, as on an ESP32.
// - The CCOUNT wrap interrupt (CCOMPARE0 = 0, timer 0 = interrupt 6, level 1): extends CCOUNT to 64 bits.
// - xt_spill_windows, setjmp/longjmp: the windowed ABI keeps callers' registers in the register file until
//   a window overflow, so code that inspects or unwinds the stack (nlr, the GC) must spill them first.
// - xt_simcall: QEMU's semihosting call of the sim machine (open/read/write/lseek/close/exit/argv).
// Any other exception prints "FATAL: exception cause=.. epc=.. vaddr=.." and exits with 0x40 + EXCCAUSE
// (0x7f for a double exception), so a crash is reported instead of hanging.

#define EXCCAUSE_ILLEGAL    0
#define EXCCAUSE_LEVEL1_INT 4
#define TIMER0_INT_BIT      (1 << 6)
#define XT_STACK_TOP        0x00800000  // mphalport.h: the stack grows down from here

    .text
    .global _vectors
    .p2align 2
_vectors:
    // WindowOverflow4: spill a0-a3 of the frame below the callee's stack pointer (a5)
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

    .org    _vectors + 0x80  // WindowOverflow8: a4-a7 go to the extra save area below the caller's sp
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
    .literal .Lmain, xt_main
    .literal .Lsave, exc_save
    .literal .Lmsg, exc_msg
    .literal .Lemu, xt_mul32high_emulated
    .literal .Lwraps, xt_ccount_wraps
    .literal .Lstack, XT_STACK_TOP
    .literal .Lerrno, xt_sim_errno
    .global _start
    .p2align 2
_start:
    l32r    a2, .Lvectors
    wsr     a2, vecbase
    movi    a2, 0
    wsr     a2, windowbase
    wsr     a2, intenable
    movi    a2, 1
    wsr     a2, windowstart
    wsr     a2, cpenable          // enable the FPU (coprocessor 0)
    rsync
    // This frame's sp is 64 bytes below the top; its (absent) caller's sp, read from sp - 12 by the
    // overflow handlers when this frame spills, is the top: the spill's extra save area then lies in
    // those 64 bytes.
    l32r    a2, .Lstack
    addi    a1, a2, -64
    addi    a3, a1, -16
    s32i    a2, a3, 4
    movi    a2, 1
    slli    a2, a2, 18            // PS: WOE=1, EXCM=0, UM=0, INTLEVEL=15 (xt_main lowers it)
    addi    a2, a2, 15
    wsr     a2, ps
    rsync
    l32r    a8, .Lmain
    callx8  a8
    or      a3, a10, a10          // exit code = xt_main()
    movi    a2, 1                 // SYS_exit
    .byte   0x00, 0x51, 0x00      // simcall
1:  j       1b

// ---------------------------------------------------------------------------------------------------
// Exception handler. Entered with PS.EXCM = 1 and the interrupted code's a2 in EXCSAVE1; uses no windowed
// calls (a window overflow now would be a double exception). a0-a15 are saved to exc_save[0..15], so an
// instruction's register fields index that array.
    .p2align 2
.Lbad:
    j       fatal                 // within reach of the 8-bit-offset compare branches below
.Lirq_far:
    j       .Lirq
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
    beqi    a3, EXCCAUSE_LEVEL1_INT, .Lirq_far
    bnez    a3, .Lbad             // 0 = IllegalInstruction
    rsr     a4, epc1
    l8ui    a5, a4, 0             // RRR format: op0 = b0[3:0], t = b0[7:4]
    l8ui    a6, a4, 1             //             s = b1[3:0],   r = b1[7:4]
    l8ui    a7, a4, 2             //             op1 = b2[3:0], op2 = b2[7:4]
    extui   a8, a5, 0, 4
    bnez    a8, .Lbad             // op0 = 0 (QRST)
    extui   a8, a7, 0, 4
    bnei    a8, 2, .Lbad          // op1 = 2 (MUL/DIV group)
    extui   a8, a7, 4, 4
    bltui   a8, 10, .Lbad         // op2 = 10 (MULUH) or 11 (MULSH)
    bgeui   a8, 12, .Lbad
    extui   a8, a5, 4, 4
    addx4   a8, a8, a2
    l32i    a9, a8, 0             // a9 = AR[t]
    extui   a8, a6, 0, 4
    addx4   a8, a8, a2
    l32i    a10, a8, 0            // a10 = AR[s]
    // unsigned high word: s = sh:sl, t = th:tl (16-bit halves)
    mul16u  a11, a10, a9          // sl*tl
    extui   a12, a10, 16, 16      // sh
    extui   a13, a9, 16, 16       // th
    mul16u  a14, a10, a13         // sl*th
    mul16u  a15, a12, a9          // sh*tl
    mul16u  a12, a12, a13         // sh*th
    extui   a11, a11, 16, 16
    extui   a13, a14, 0, 16
    add     a11, a11, a13
    extui   a13, a15, 0, 16
    add     a11, a11, a13         // carry word of the middle column (< 3 * 2^16)
    extui   a11, a11, 16, 16
    add     a12, a12, a11
    extui   a14, a14, 16, 16
    add     a12, a12, a14
    extui   a15, a15, 16, 16
    add     a12, a12, a15         // a12 = MULUH(s, t)
    // MULSH = MULUH - (s < 0 ? t : 0) - (t < 0 ? s : 0)  (mod 2^32), applied without branches under a mask
    // that is all ones for MULSH (op2 = 11) and zero for MULUH (op2 = 10): the same instruction count for
    // every operand and both instructions.
    srai    a13, a10, 31
    and     a13, a13, a9
    srai    a14, a9, 31
    and     a14, a14, a10
    add     a13, a13, a14
    extui   a8, a7, 4, 1
    neg     a8, a8
    and     a13, a13, a8
    sub     a12, a12, a13
    extui   a8, a6, 4, 4
    addx4   a8, a8, a2
    s32i    a12, a8, 0            // AR[r] = result
    addi    a4, a4, 3
    wsr     a4, epc1              // resume after the 3-byte instruction
    l32r    a8, .Lemu
    l32i    a9, a8, 0
    addi    a9, a9, 1
    s32i    a9, a8, 0             // count emulations (mphalport.c takes their cost out of the count)
    j       .Lrestore

.Lirq:                            // level-1 interrupt: only the CCOUNT wrap timer is enabled
    rsr     a4, interrupt
    movi    a5, TIMER0_INT_BIT
    bany    a4, a5, 1f
    j       fatal                 // another interrupt: none is enabled
1:
    movi    a4, 0
    wsr     a4, ccompare0         // writing CCOMPARE0 clears the interrupt; it fires again at the next wrap
    l32r    a4, .Lwraps
    l32i    a5, a4, 0
    addi    a5, a5, 1
    s32i    a5, a4, 0

.Lrestore:
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

// Print "\r\nFATAL: exception cause=XXXXXXXX epc=XXXXXXXX vaddr=XXXXXXXX\r\n", exit with 0x40 + EXCCAUSE.
fatal:
    l32r    a4, .Lmsg             // template with three 8-digit hex fields at offsets 25, 38, 53
    addi    a5, a4, 25
    rsr     a6, exccause
    call0   hex8
    rsr     a6, epc1
    addi    a5, a4, 38
    call0   hex8
    rsr     a6, excvaddr
    addi    a5, a4, 53
    call0   hex8
    movi    a2, 4                 // SYS_write(1, msg, 63)
    movi    a3, 1
    movi    a5, 63
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

// ---------------------------------------------------------------------------------------------------
// void xt_spill_windows(void): writes every live register window except the caller's own to the stack.
// Nested call12s rotate the window through the whole register file (6 x 3 quads covers 64 registers;
// de233_fpu has 32); each ENTRY that would overlap a live frame takes a window overflow exception,
// which stores that frame in its save areas. Returning reloads the frames on the way back as needed.
    .global xt_spill_windows
    .p2align 2
xt_spill_windows:
    entry   a1, 48                // a frame making call12s needs 16 + 32 bytes for the callee's spills
    movi    a14, 6
    call12  .Lspill_level
    retw
    .p2align 2
.Lspill_level:
    entry   a1, 48
    addi    a14, a2, -1
    beqz    a14, 1f
    call12  .Lspill_level
1:  retw

// int setjmp(jmp_buf env) / void longjmp(jmp_buf env, int val), for nlr (MICROPY_NLR_SETJMP).
// After a spill, the caller C of setjmp has its a0-a3 in the 16 bytes below setjmp's sp and its a4-a7 in
// the extra save area 32 bytes below its own caller's sp (mem[C.sp - 12]), which is where the
// WindowUnderflow8 handler reloads them from when setjmp returns. setjmp copies both into env, with its
// own a0/a1; longjmp spills everything live, puts those words back, makes its frame the only live one
// with setjmp's a0/a1, and returns: the underflow then restores C exactly as it was at the setjmp call.
// env: [0] a0, [1] sp of setjmp, [2..5] C's a0-a3, [6] address of C's a4-a7 area, [7..10] C's a4-a7.
    .global setjmp
    .p2align 2
setjmp:
    entry   a1, 32
    call8   xt_spill_windows
    s32i    a0, a2, 0
    s32i    a1, a2, 4
    addi    a4, a1, -16
    l32i    a3, a4, 0
    s32i    a3, a2, 8
    l32i    a3, a4, 4             // C's sp
    s32i    a3, a2, 12
    addi    a5, a3, -16
    l32i    a5, a5, 4             // mem[C.sp - 12]: C's caller's sp
    addi    a5, a5, -32
    s32i    a5, a2, 24
    l32i    a3, a4, 8
    s32i    a3, a2, 16
    l32i    a3, a4, 12
    s32i    a3, a2, 20
    l32i    a3, a5, 0
    s32i    a3, a2, 28
    l32i    a3, a5, 4
    s32i    a3, a2, 32
    l32i    a3, a5, 8
    s32i    a3, a2, 36
    l32i    a3, a5, 12
    s32i    a3, a2, 40
    movi    a2, 0
    retw

    .global longjmp
    .p2align 2
longjmp:
    entry   a1, 32
    call8   xt_spill_windows      // every older frame to memory: the ones kept must survive the reset below
    l32i    a4, a2, 4             // setjmp's sp
    addi    a5, a4, -16
    l32i    a6, a2, 8
    s32i    a6, a5, 0
    l32i    a6, a2, 12
    s32i    a6, a5, 4
    l32i    a6, a2, 16
    s32i    a6, a5, 8
    l32i    a6, a2, 20
    s32i    a6, a5, 12
    l32i    a5, a2, 24
    l32i    a6, a2, 28
    s32i    a6, a5, 0
    l32i    a6, a2, 32
    s32i    a6, a5, 4
    l32i    a6, a2, 36
    s32i    a6, a5, 8
    l32i    a6, a2, 40
    s32i    a6, a5, 12
    movi    a6, 1
    moveqz  a3, a6, a3            // longjmp(env, 0) returns 1
    rsr     a6, windowbase
    movi    a7, 1
    ssl     a6
    sll     a7, a7
    wsr     a7, windowstart       // only this frame is live: returning underflows into C from memory
    rsync
    l32i    a0, a2, 0
    or      a1, a4, a4
    or      a2, a3, a3
    retw

// int xt_simcall(int op, int a, int b, int c): QEMU sim semihosting (target/xtensa/xtensa-semi.c). The
// host's errno (as a guest value) of the call is left in xt_sim_errno.
    .global xt_simcall
    .p2align 2
xt_simcall:
    entry   a1, 32
    .byte   0x00, 0x51, 0x00      // simcall: a2 = op, a3..a5 = arguments; result in a2, errno in a3
    l32r    a4, .Lerrno
    s32i    a3, a4, 0
    retw

// Interrupt mask: PS.INTLEVEL (the timer is level 1).
    .global xt_disable_irq
    .p2align 2
xt_disable_irq:
    entry   a1, 32
    rsil    a2, 15
    retw

    .global xt_enable_irq
    .p2align 2
xt_enable_irq:
    entry   a1, 32
    wsr     a2, ps
    rsync
    retw

    .data
    .p2align 2
exc_save:
    .space  64
exc_msg:
    .ascii  "\r\nFATAL: exception cause=00000000 epc=00000000 vaddr=00000000\r\n"
    .global xt_mul32high_emulated
    .p2align 2
xt_mul32high_emulated:
    .long   0
    .global xt_ccount_wraps
xt_ccount_wraps:
    .long   0
    .global xt_sim_errno
xt_sim_errno:
    .long   0
