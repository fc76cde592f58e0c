// The exception side of a bare-metal image for `qemu-system-xtensa -M sim -cpu de233_fpu` (windowed ABI and a
// single-precision FPU like the ESP32's LX6; de233_fpu is an LX7 with 32 physical address registers),
// shared by this port's start.S and the engine test harness's (tests/xtensa_engine/start.S). Each includes
// it first, so that _vectors is the image's (4 KiB aligned) base, VECBASE; then come its own _start and
// functions. Vector offsets: QEMU's target/xtensa/core-de233_fpu/core-isa.h.
//
// What is here and why:
// - Window overflow/underflow handlers: the standard ones of the windowed ABI.
// - MULSH/MULUH emulation. The ESP32 has the MUL32HIGH option and LLVM (-mcpu=esp32) uses it for the high
//   word of 32x32->64 products (requantization, division by constants); de233_fpu lacks it, so those
//   instructions raise IllegalInstruction and the kernel exception handler computes them exactly from
//   four MUL16U partial products. The emulation runs the same instructions whatever the operands (no
//   data-dependent branch), so its cost is a constant (the port's mphalport.c measures it at boot and takes
//   it out of the instruction count: an emulated MULSH/MULUH counts as one instruction, as on an ESP32).
//   Emulations are counted in the word XT_EMULATED_COUNT.
// - Any other exception prints XT_FATAL_PREFIX "cause=.. epc=.. vaddr=.." XT_FATAL_END and exits with
//   0x40 + EXCCAUSE (0x7f for a double exception), so a crash is reported instead of hanging.
//
// - With XT_CCOUNT_WRAPS defined, the CCOUNT wrap interrupt (CCOMPARE0 = 0, timer 0 = interrupt 6, level 1),
//   which counts wraps in that word: CCOUNT extended to 64 bits. The includer enables the interrupt.
//
// The includer defines the names of the words (XT_EMULATED_COUNT, XT_CCOUNT_WRAPS: this file defines them)
// and the message's strings (XT_FATAL_PREFIX, XT_FATAL_END).

#define EXCCAUSE_ILLEGAL    0
#define EXCCAUSE_LEVEL1_INT 4
#define TIMER0_INT_BIT      (1 << 6)

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
    .literal .Lsave, exc_save
    .literal .Lmsg, exc_msg
    .literal .Lmsg_fields, exc_msg_fields
    .literal .Lmsg_end, exc_msg_end
    .literal .Lemu, XT_EMULATED_COUNT
#ifdef XT_CCOUNT_WRAPS
    .literal .Lwraps, XT_CCOUNT_WRAPS
#endif

// ---------------------------------------------------------------------------------------------------
// Exception handler. Entered with PS.EXCM = 1 and the interrupted code's a2 in EXCSAVE1; uses no windowed
// calls (a window overflow now would be a double exception). a0-a15 are saved to exc_save[0..15], so an
// instruction's register fields index that array.
    .p2align 2
.Lbad:
    j       fatal                 // within reach of the 8-bit-offset compare branches below
#ifdef XT_CCOUNT_WRAPS
.Lirq_far:
    j       .Lirq
#endif
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
#ifdef XT_CCOUNT_WRAPS
    beqi    a3, EXCCAUSE_LEVEL1_INT, .Lirq_far
#endif
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
    s32i    a9, a8, 0             // count emulations (the port's mphalport.c takes their cost out of the count)
#ifdef XT_CCOUNT_WRAPS
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
#endif

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

// Print XT_FATAL_PREFIX "cause=XXXXXXXX epc=XXXXXXXX vaddr=XXXXXXXX" XT_FATAL_END, exit with 0x40 + EXCCAUSE.
fatal:
    l32r    a4, .Lmsg_fields      // "cause=XXXXXXXX epc=XXXXXXXX vaddr=XXXXXXXX": hex fields at 6, 19, 34
    addi    a5, a4, 6
    rsr     a6, exccause
    call0   hex8
    rsr     a6, epc1
    addi    a5, a4, 19
    call0   hex8
    rsr     a6, excvaddr
    addi    a5, a4, 34
    call0   hex8
    movi    a2, 4                 // SYS_write(1, exc_msg, its length)
    movi    a3, 1
    l32r    a4, .Lmsg
    l32r    a5, .Lmsg_end
    sub     a5, a5, a4
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

    .data
    .p2align 2
exc_save:                         // a0-a15 of the interrupted code
    .space  64
exc_msg:
    .ascii  XT_FATAL_PREFIX
exc_msg_fields:
    .ascii  "cause=00000000 epc=00000000 vaddr=00000000"
    .ascii  XT_FATAL_END
exc_msg_end:
    .global XT_EMULATED_COUNT
    .p2align 2
XT_EMULATED_COUNT:
    .long   0
#ifdef XT_CCOUNT_WRAPS
    .global XT_CCOUNT_WRAPS
XT_CCOUNT_WRAPS:
    .long   0
#endif
    .text
