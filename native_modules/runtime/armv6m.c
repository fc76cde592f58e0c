// Integer helpers of the ARM run-time ABI for armv6m (Cortex-M0/M0+), whose Thumb-1 instruction set has
// no divide, no 32x32->64 multiply and no 64-bit shifts: GCC calls these instead, plus its switch-table
// helpers. MicroPython's native-module linker (mpy_ld.py) provides no libgcc, so the module carries them.
// Written so that none of them makes GCC emit a call to another helper it would not find.
#include <stdint.h>

// ---------------------------------------------------------------------------------------------------------
// Division: shift-and-subtract, one quotient bit per step from the numerator's top bit. Division by zero
// gives quotient 0xffffffff (unsigned) or +-INT32_MAX, like no exception at all: the engine never divides
// by zero (shapes are checked at load time).

static uint32_t udiv32(uint32_t n, uint32_t d, uint32_t *rem) {
    if (d == 0) {
        *rem = n;
        return 0xffffffffu;
    }
    uint32_t q = 0, r = 0;
    int bit = 31;
    while (bit >= 0 && !(n >> bit)) {
        bit--;
    }
    for (; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1);
        if (r >= d) {
            r -= d;
            q |= 1u << bit;
        }
    }
    *rem = r;
    return q;
}

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d) {
    uint32_t r;
    return udiv32(n, d, &r);
}

// Quotient in r0, remainder in r1: exactly how a uint64_t is returned.
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d) {
    uint32_t r, q = udiv32(n, d, &r);
    return ((uint64_t)r << 32) | q;
}

static int32_t sdiv32(int32_t n, int32_t d, int32_t *rem) {
    uint32_t r, q = udiv32(n < 0 ? 0u - (uint32_t)n : (uint32_t)n, d < 0 ? 0u - (uint32_t)d : (uint32_t)d, &r);
    if (d == 0) {
        q = 0x7fffffffu;
    }
    *rem = n < 0 ? -(int32_t)r : (int32_t)r;
    return (n < 0) != (d < 0) ? -(int32_t)q : (int32_t)q;
}

int32_t __aeabi_idiv(int32_t n, int32_t d) {
    int32_t r;
    return sdiv32(n, d, &r);
}

uint64_t __aeabi_idivmod(int32_t n, int32_t d) {
    int32_t r, q = sdiv32(n, d, &r);
    return ((uint64_t)(uint32_t)r << 32) | (uint32_t)q;
}

// ---------------------------------------------------------------------------------------------------------
// 64-bit multiply and shifts, from 32-bit halves (a 64-bit shift by a constant 32 is free in GCC's hands).

#define LO(x) ((uint32_t)(x))
#define HI(x) ((uint32_t)((x) >> 32))
#define MAKE64(hi, lo) (((uint64_t)(hi) << 32) | (uint32_t)(lo))

// 32x32 -> 64 from four 16x16 -> 32 products (MULS gives the low 32 bits only).
static uint64_t umul32x32(uint32_t a, uint32_t b) {
    uint32_t a0 = a & 0xffff, a1 = a >> 16, b0 = b & 0xffff, b1 = b >> 16;
    uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint32_t mid = (p00 >> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    uint32_t lo = (p00 & 0xffff) | (mid << 16);
    uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);
    return MAKE64(hi, lo);
}

uint64_t __aeabi_lmul(uint64_t a, uint64_t b) {
    uint64_t p = umul32x32(LO(a), LO(b));
    return MAKE64(HI(p) + LO(a) * HI(b) + HI(a) * LO(b), LO(p));
}

uint64_t __aeabi_llsl(uint64_t v, int n) {
    if (n >= 32) {
        return MAKE64(LO(v) << (n - 32), 0);
    }
    if (n == 0) {
        return v;
    }
    return MAKE64((HI(v) << n) | (LO(v) >> (32 - n)), LO(v) << n);
}

uint64_t __aeabi_llsr(uint64_t v, int n) {
    if (n >= 32) {
        return MAKE64(0, HI(v) >> (n - 32));
    }
    if (n == 0) {
        return v;
    }
    return MAKE64(HI(v) >> n, (LO(v) >> n) | (HI(v) << (32 - n)));
}

uint64_t __aeabi_lasr(uint64_t v, int n) {
    int32_t hi = (int32_t)HI(v);
    if (n >= 32) {
        return MAKE64((uint32_t)(hi >> 31), (uint32_t)(hi >> (n - 32)));
    }
    if (n == 0) {
        return v;
    }
    return MAKE64((uint32_t)(hi >> n), (LO(v) >> n) | (HI(v) << (32 - n)));
}

// ---------------------------------------------------------------------------------------------------------
// 64-bit division. AEABI returns the quotient in r0:r1 and the remainder in r2:r3, which C cannot express:
// small assembly wrappers call these C functions with a pointer for the remainder.

static int clz64(uint64_t x) {
    int n = 0;
    uint32_t hi = HI(x), lo = LO(x);
    if (hi == 0) {
        n = 32;
        hi = lo;
    }
    while (!(hi & 0x80000000u)) {
        hi <<= 1;
        n++;
    }
    return n;
}

__attribute__((used)) uint64_t tm_rt_udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
    if (d == 0) {
        *rem = n;
        return ~(uint64_t)0;
    }
    if (HI(n) == 0 && HI(d) == 0) {
        uint32_t r, q = udiv32(LO(n), LO(d), &r);
        *rem = r;
        return q;
    }
    uint64_t q = 0, r = n;
    if (n >= d) {
        int shift = clz64(d) - clz64(n);
        uint64_t dd = __aeabi_llsl(d, shift);
        for (; shift >= 0; shift--) {
            q = __aeabi_llsl(q, 1);
            if (r >= dd) {
                r -= dd;
                q |= 1;
            }
            dd = __aeabi_llsr(dd, 1);
        }
    }
    *rem = r;
    return q;
}

__attribute__((used)) int64_t tm_rt_divmod64(int64_t n, int64_t d, int64_t *rem) {
    uint64_t r, q = tm_rt_udivmod64(n < 0 ? 0 - (uint64_t)n : (uint64_t)n, d < 0 ? 0 - (uint64_t)d : (uint64_t)d, &r);
    *rem = n < 0 ? -(int64_t)r : (int64_t)r;
    return (n < 0) != (d < 0) ? -(int64_t)q : (int64_t)q;
}

// ---------------------------------------------------------------------------------------------------------
// Count leading zeros (__builtin_clz/__builtin_clzll: Thumb-1 has no CLZ). TFLM's audio frontend (bits.h)
// calls them; GCC only calls them with x != 0, and 0 gives 32/64 here.

int __clzsi2(uint32_t x) {
    int n = 0;
    if (!(x >> 16)) { n += 16; x <<= 16; }
    if (!(x >> 24)) { n += 8; x <<= 8; }
    if (!(x >> 28)) { n += 4; x <<= 4; }
    if (!(x >> 30)) { n += 2; x <<= 2; }
    if (!(x >> 31)) { n += 1; x <<= 1; }
    return x ? n : 32;
}

int __clzdi2(uint64_t x) {
    return HI(x) ? __clzsi2(HI(x)) : 32 + __clzsi2(LO(x));
}

// The assembly parts are Thumb code; the C parts also build on a host, where tests check them.
#if defined(__thumb__)

#define DIVMOD64_WRAPPER(name, impl) \
    __attribute__((naked)) void name(void) { \
        __asm__ volatile ( \
            ".syntax unified\n" \
            "push {r4, lr}\n" \
            "sub sp, sp, #16\n" \
            "add r4, sp, #8\n" \
            "str r4, [sp]\n"          /* fifth argument: where the remainder goes */ \
            "bl " #impl "\n" \
            "ldr r2, [sp, #8]\n" \
            "ldr r3, [sp, #12]\n" \
            "add sp, sp, #16\n" \
            "pop {r4, pc}\n"); \
    }

DIVMOD64_WRAPPER(__aeabi_uldivmod, tm_rt_udivmod64)
DIVMOD64_WRAPPER(__aeabi_ldivmod, tm_rt_divmod64)

// ---------------------------------------------------------------------------------------------------------
// GCC's Thumb-1 switch tables: `bl __gnu_thumb1_case_X` is followed by a table of offsets (in halfwords,
// from the table start) indexed by r0; return to the chosen case. All registers but lr are preserved.

#define CASE_TABLE_8(name, load) \
    __attribute__((naked)) void name(void) { \
        __asm__ volatile ( \
            ".syntax unified\n" \
            "push {r1}\n" \
            "mov r1, lr\n" \
            "lsrs r1, r1, #1\n" \
            "lsls r1, r1, #1\n"       /* table address: lr without the Thumb bit */ \
            load " r1, [r1, r0]\n" \
            "lsls r1, r1, #1\n" \
            "add lr, lr, r1\n" \
            "pop {r1}\n" \
            "bx lr\n"); \
    }

#define CASE_TABLE_16(name, load) \
    __attribute__((naked)) void name(void) { \
        __asm__ volatile ( \
            ".syntax unified\n" \
            "push {r0, r1}\n" \
            "mov r1, lr\n" \
            "lsrs r1, r1, #1\n" \
            "lsls r0, r0, #1\n" \
            "lsls r1, r1, #1\n" \
            load " r1, [r1, r0]\n" \
            "lsls r1, r1, #1\n" \
            "add lr, lr, r1\n" \
            "pop {r0, r1}\n" \
            "bx lr\n"); \
    }

CASE_TABLE_8(__gnu_thumb1_case_uqi, "ldrb")
CASE_TABLE_8(__gnu_thumb1_case_sqi, "ldrsb")
CASE_TABLE_16(__gnu_thumb1_case_uhi, "ldrh")
CASE_TABLE_16(__gnu_thumb1_case_shi, "ldrsh")

// Word table (offsets in bytes from the word-aligned table start).
__attribute__((naked)) void __gnu_thumb1_case_si(void) {
    __asm__ volatile (
        ".syntax unified\n"
        "push {r0, r1}\n"
        "mov r1, lr\n"
        "adds r1, r1, #2\n"
        "lsrs r1, r1, #2\n"
        "lsls r0, r0, #2\n"
        "lsls r1, r1, #2\n"
        "ldr r0, [r1, r0]\n"
        "adds r0, r0, r1\n"
        "mov lr, r0\n"
        "pop {r0, r1}\n"
        "mov pc, lr\n");
}

#endif // __thumb__
