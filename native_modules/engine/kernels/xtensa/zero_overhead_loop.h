// The entry of a zero-overhead loop in the Xtensa kernels' inline assembly (kernels/xtensa/).
//
// The loop body must not straddle a fetch boundary on the ESP32 (as GNU as arranges): the 3-byte `loopnez`
// is placed so the body after it starts 4-aligned, by a jump over the alignment padding and one filler byte
// (never executed). Padding must not be executed: llvm-mc fills it with bytes that are not instructions when
// it is 1 byte long (a `.p2align; nop; nop.n` ran them, and crashed once the code before it moved by one
// byte). Use it as the string right before "loopnez %[n], 1f\n\t"; it defines local label 2.
#ifndef TM_XTENSA_ZERO_OVERHEAD_LOOP_H
#define TM_XTENSA_ZERO_OVERHEAD_LOOP_H

#define XT_LOOP_ALIGN \
    "j 2f\n\t"        \
    ".p2align 2\n\t"  \
    ".byte 0\n\t"     \
    "2:\n\t"

#endif
