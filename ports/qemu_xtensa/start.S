// Start-up and register-window primitives of the QEMU Xtensa port (`qemu-system-xtensa -M sim -cpu de233_fpu`).
// The vectors, the exception handler (window overflow/underflow, MULSH/MULUH emulation, the CCOUNT wrap
// interrupt, fatal exceptions) are xtensa_exceptions.S, shared with the engine test harness, included first:
// _vectors must be the image's (4 KiB aligned) base.
//
// What is here and why:
// - _start: VECBASE, the register window, the FPU, the stack; then main() (ports/qemu_common/main.c), whose
//   result is the exit status.
// - xt_spill_windows, setjmp/longjmp: the windowed ABI keeps callers' registers in the register file until
//   a window overflow, so code that inspects or unwinds the stack (nlr, the GC) must spill them first.
// - xt_simcall: QEMU's semihosting call of the sim machine (open/read/write/lseek/close/exit/argv).
// - xt_disable_irq/xt_enable_irq: the interrupt mask.

#define XT_EMULATED_COUNT   xt_mul32high_emulated   // mphalport.c
#define XT_CCOUNT_WRAPS     xt_ccount_wraps         // mphalport.c
#define XT_FATAL_PREFIX     "\r\nFATAL: exception "
#define XT_FATAL_END        "\r\n"
#define XT_STACK_TOP        0x00800000  // mphalport.h: the stack grows down from here

#include "xtensa_exceptions.S"

    .literal .Lvectors, _vectors
    .literal .Lmain, main
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
    slli    a2, a2, 18            // PS: WOE=1, EXCM=0, UM=0, INTLEVEL=15 (main lowers it)
    addi    a2, a2, 15
    wsr     a2, ps
    rsync
    l32r    a8, .Lmain
    callx8  a8
    or      a3, a10, a10          // exit code = main()
    movi    a2, 1                 // SYS_exit
    .byte   0x00, 0x51, 0x00      // simcall
1:  j       1b

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
    .global xt_sim_errno
xt_sim_errno:
    .long   0
