// CONV_2D on Cortex-M4/M7 (armv7emsp): the DSP-extension fast path of the int8 kernel, partly assembly.
//
// The build compiles this file instead of kernels/conv_2d.c for armv7emsp (not for `tinyml pack --small`).
// It includes that portable kernel, which keeps the parsing, checks, prepare and float32 path, and supplies
// its hooks: arch_scratch_bytes, arch_prepare and arch_eval_int8 (at the end of this file). Same integers as
// the portable path, so no tolerance (docs/architecture.md).
#if !defined(__ARM_FEATURE_DSP) || defined(TM_SMALL)
#error "kernels/cortex_m4/ needs the Cortex-M4 DSP extension (armv7emsp) and is left out of small builds"
#endif
#define TM_ARCH_KERNEL 1
// -1: q[] holds each channel's requantization (pack_requant). >= 0: some channels are provably constant and
// q[] holds plan_live's template with this many live pairs (0 when every channel is constant).
#define TM_ARCH_PARAMS int32_t live_pairs;
#include "../conv_2d.c"
#include "arm_dsp.h"

// Cortex-M4/M7: two output pixels x two output channels per pass over the receptive field, two MACs per
// SMLAD, so each loaded input word serves two channels and each filter word two pixels.
//
// The two pixels' receptive fields are widened to int16 x - Z_in (0 for taps outside the image) and
// interleaved in groups of four values: [a_k, a_k+2] [a_k+1, a_k+3] [b_k, b_k+2] [b_k+1, b_k+3], the pairing
// in which SXTB16 and SXTB16 ROR 8 unpack four filter bytes, so the filter is read in place and never
// reordered. Rows are padded with zeros to a multiple of four values.
//
// Requantization, per channel with M >= 2^30 and a right shift 1 <= e = -s <= 16 (all but odd channels):
//   SRDHM(x, M) = floor((x M + 2^30) / 2^31) = SMMLAR(x, 2M - 2^32, x): the 64-bit x 2^32 + x (2M - 2^32)
//   is 2 x M exactly, so r = SRDHM(x, M) in one instruction.
//   RDBPOT(r, e) + Z_out = (r - [r < 0] + c) >> e with c = 2^(e-1) + Z_out 2^e.
// The sum with c saturates (QADD) where it would leave int32; the output saturates there anyway, as
// |c| < 2^23 and e <= 16 put the true value beyond int8. prepare() packs each channel's 8 bytes as
// { 2M mod 2^32, c << 8 | e } (ASR by register reads only e, the low byte); other channels keep
// { M, s << 16 | (uint8_t)Z_out << 8 | 0x80 } and take the 64-bit path of arm_dsp.h.
enum { RQ_SLOW = 0x80 };

static int rq_is_fast(tm_channel_q_t q) {
    return q.multiplier >= 0x40000000 && q.shift <= -1 && q.shift >= -16;
}

static tm_channel_q_t rq_pack_fast(tm_channel_q_t q, int32_t zo) {
    const int32_t e = -q.shift, cst = (int32_t)(1u << (e - 1)) + (int32_t)((uint32_t)zo << e);
    const tm_channel_q_t r = { (int32_t)((uint32_t)q.multiplier << 1), (int32_t)((uint32_t)cst << 8) | e };
    return r;
}

static void pack_requant(tm_channel_q_t *q, int32_t channels, int32_t zo) {
    for (int32_t ch = 0; ch < channels; ch++) {
        if (rq_is_fast(q[ch])) {
            q[ch] = rq_pack_fast(q[ch], zo);
        } else {
            q[ch].shift = (int32_t)((uint32_t)q[ch].shift << 16 | ((uint32_t)zo & 0xffu) << 8) | RQ_SLOW;
        }
    }
}

// ---- Constant channels ----
// A channel whose output is the same for every input (vww's deep layers: 70-90% of the channels have bias
// 2^30 and scales that shift it by 17-36 bits) needs no MACs. Proof of constancy: the sum is
// bias + sum(w (x - Z_in)) with x in [-128, 127] (taps outside the image count as x = Z_in), so it lies in
// [lo, hi] from the filter's positive and negative weights; if that range is inside int32, the wrapped int32
// sum is the exact one, and requantization with a right shift (no wrap-around: |result| <= 2^30) and SSAT
// is monotonic, so equal outputs at lo and hi mean one output everywhere.
enum { NOT_CONSTANT = 0x100, LIVE_MAX_C = 512 };

// The channel's output for sum x (full int8 range).
static int32_t output_for(int32_t x, tm_channel_q_t q, int32_t zo) {
    return __ssat(tm_mbqm(x, q.multiplier, q.shift) + zo, 8);
}

// The channel's output if constant (full int8 range), else NOT_CONSTANT. q: TFLM's multiplier and shift.
static int32_t constant_output(const conv_t *c, int32_t ch, tm_channel_q_t q) {
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point;
    if (q.shift >= 0 && q.multiplier != 0) {
        return NOT_CONSTANT;
    }
    // Sums of w + 128 and of |w| over the row (whole words: plan_live's rows), by USADA8 on w ^ 0x80 (w + 128
    // as unsigned bytes) against 0 and 128; row_len < 2^22 keeps them inside int32.
    const uint8_t *w = (const uint8_t *)c->w->data + ch * c->row_len;
    uint32_t biased = 0, mag = 0;
    for (int32_t i = 0; i < c->row_len; i += 4) {
        const uint32_t u = tm_ld32(w + i) ^ 0x80808080u;
        biased = __usada8(u, 0, biased);
        mag = __usada8(u, 0x80808080u, mag);
    }
    const int64_t sum = (int64_t)biased - 128 * c->row_len, pos = ((int64_t)mag + sum) / 2, neg = sum - pos;
    const int64_t b = ((const int32_t *)c->bias->data)[ch];
    const int64_t lo = b + pos * (-128 - zi) + neg * (127 - zi), hi = b + pos * (127 - zi) + neg * (-128 - zi);
    if (lo < INT32_MIN || hi > INT32_MAX) {
        return NOT_CONSTANT;
    }
    const int32_t v = output_for((int32_t)lo, q, zo);
    return v == output_for((int32_t)hi, q, zo) ? v : NOT_CONSTANT;
}

// Two live channels (c1 == c0 for an odd last one) with their packed fast requantization.
typedef struct {
    int32_t c0, c1;
    tm_channel_q_t q0, q1;
} live_pair_t;
// passes_live reads a pair with LDRD (c0, c1) and one LDM of six words.
TM_ASM_OFFSET(live_pair_t, c0, 0);
TM_ASM_OFFSET(live_pair_t, c1, 4);
TM_ASM_OFFSET(live_pair_t, q0, 8);
TM_ASM_OFFSET(live_pair_t, q1, 16);
TM_ASM_SIZE(live_pair_t, 24);
TM_ASM_OFFSET(tm_channel_q_t, multiplier, 0);   // (packed by pack_requant: m, then ew)
TM_ASM_OFFSET(tm_channel_q_t, shift, 4);
TM_ASM_SIZE(tm_channel_q_t, 8);

// With constant channels, q[]'s place (8 bytes a channel) holds instead a template of the output pixel
// (out_c bytes, rounded up to 4: the constants, 0 for live channels) and the live channels in pairs, when
// they fit and every live channel has the fast requantization; the whole int8 range, a constant bias, one
// group and rows of whole words are required too. Returns the number of pairs (0: every channel is constant),
// or -1 if q[] stays as it is.
static int32_t plan_live(const conv_t *c, params_t *p) {
    const int32_t out_c = c->g.out_c, zo = c->out->zero_point;
    if (p->act_lo != -128 || p->act_hi != 127 || !c->bias || !c->bias->is_const || c->groups != 1 ||
        (c->row_len & 3) || c->row_len >= (1 << 22) || out_c > LIVE_MAX_C) {
        return -1;
    }
    uint32_t live[LIVE_MAX_C / 32] = { 0 };
    int8_t value[LIVE_MAX_C];
    int32_t n_live = 0;
    for (int32_t ch = 0; ch < out_c; ch++) {
        const int32_t v = constant_output(c, ch, p->q[ch]);
        value[ch] = (int8_t)v;
        if (v == NOT_CONSTANT) {
            if (!rq_is_fast(p->q[ch])) {
                return -1;
            }
            live[ch >> 5] |= 1u << (ch & 31);
            n_live++;
        }
    }
    const int32_t pairs = (n_live + 1) >> 1, tbytes = (out_c + 3) & ~3;
    if (n_live == out_c || tbytes + pairs * (int32_t)sizeof(live_pair_t) > out_c * (int32_t)sizeof(tm_channel_q_t)) {
        return -1;
    }
    // In place, without overwriting what is still to be read: the live channels packed to the front of q[]
    // (k-th at q[k], k <= ch), then spread from the last into pairs after the template (the k-th's fields
    // start at byte tbytes + 12 k - 8 or later, past the end of q[k - 1] at 8 k), then the template.
    tm_channel_q_t *q = p->q;
    for (int32_t ch = 0, k = 0; ch < out_c; ch++) {
        if (live[ch >> 5] >> (ch & 31) & 1) {
            q[k++] = rq_pack_fast(q[ch], zo);
        }
    }
    live_pair_t *pair = (live_pair_t *)((int8_t *)q + tbytes);
    for (int32_t ch = out_c - 1, k = n_live - 1; ch >= 0; ch--) {
        if (live[ch >> 5] >> (ch & 31) & 1) {
            const tm_channel_q_t qk = q[k];
            live_pair_t *e = &pair[k >> 1];
            if (k & 1 || k == n_live - 1) {
                e->c1 = ch;
                e->q1 = qk;
            }
            if (!(k & 1)) {
                e->c0 = ch;
                e->q0 = qk;
            }
            k--;
        }
    }
    int8_t *tmpl = (int8_t *)q;
    for (int32_t ch = 0; ch < out_c; ch++) {
        tmpl[ch] = live[ch >> 5] >> (ch & 31) & 1 ? 0 : value[ch];
    }
    return pairs;
}

// Requantized x + Z_out (not yet clamped) for a fast channel: m2 = 2M mod 2^32, cst = c, ew = its packed word.
__attribute__((always_inline))
static inline int32_t rq_fast(int32_t x, int32_t m2, int32_t cst, int32_t ew) {
    const int32_t r = tm_smmlar(x, m2, x);
    return tm_asr_low_byte(__qadd(r + (r >> 31), cst), ew);
}

// Two outputs (pixels a and b) of one channel, requantized, clamped and stored.
__attribute__((always_inline))
static inline void store_pair(int32_t xa, int32_t xb, const tm_channel_q_t *q, const params_t *p, int32_t zo,
    int8_t *ya, int8_t *yb, int full) {
    const int32_t m = q->multiplier, ew = q->shift;
    int32_t va, vb;
    if (__builtin_expect(ew & RQ_SLOW, 0)) {
        const tm_rq_t rq = tm_rq(m, ew >> 16);
        va = tm_rq_apply(xa, &rq) + zo;
        vb = tm_rq_apply(xb, &rq) + zo;
    } else {
        const int32_t cst = ew >> 8;
        va = rq_fast(xa, m, cst, ew);
        vb = rq_fast(xb, m, cst, ew);
    }
    if (full) {
        *ya = (int8_t)__ssat(va, 8);
        *yb = (int8_t)__ssat(vb, 8);
    } else {
        *ya = (int8_t)tm_clamp(va, p->act_lo, p->act_hi);
        *yb = (int8_t)tm_clamp(vb, p->act_lo, p->act_hi);
    }
}

// The last 1..3 filter bytes of a row as a word (zeros beyond), without reading past the filter.
static inline uint32_t filter_tail(const int8_t *w, int32_t count) {
    uint32_t v = 0;
    for (int32_t i = 0; i < count; i++) {
        v |= (uint32_t)(uint8_t)w[i] << (8 * i);
    }
    return v;
}

// acc[0..3] += dot products of (pixel a, channel 0), (b, 0), (a, 1), (b, 1) over n4 values (a multiple of
// 4), then over `tail` (0..3) more. The loop is written in assembly because it needs 14 registers (4 sums,
// 4 row words, 2 filter words, 4 pointers), which GCC does not manage without spilling: 18 instructions
// per 16 MACs.
__attribute__((always_inline))
static inline void mac_2x2(const int8_t *w0, const int8_t *w1, const uint32_t *r, int32_t n4, int32_t tail,
    int32_t *acc) {
    int32_t a0 = acc[0], b0 = acc[1], a1 = acc[2], b1 = acc[3];
    if (n4) {
        // i runs from -n4 up to 0 against the ends of both filter rows; ADDS ends the loop by itself.
        const int8_t *e0 = w0 + n4, *e1 = w1 + n4;
        int32_t i = -n4;
        uint32_t xa02, xa13, xb02, xb13, wa, wb;
        __asm__ (
            "1:\n\t"
            "ldrd   %[xb02], %[xb13], [%[r], #8]\n\t"
            "ldrd   %[xa02], %[xa13], [%[r]], #16\n\t"
            "ldr    %[wa], [%[e0], %[i]]\n\t"
            "sxtb16 %[wb], %[wa]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad  %[a0], %[wb], %[xa02], %[a0]\n\t"
            "smlad  %[b0], %[wb], %[xb02], %[b0]\n\t"
            "smlad  %[a0], %[wa], %[xa13], %[a0]\n\t"
            "smlad  %[b0], %[wa], %[xb13], %[b0]\n\t"
            "ldr    %[wa], [%[e1], %[i]]\n\t"
            "sxtb16 %[wb], %[wa]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad  %[a1], %[wb], %[xa02], %[a1]\n\t"
            "smlad  %[b1], %[wb], %[xb02], %[b1]\n\t"
            "smlad  %[a1], %[wa], %[xa13], %[a1]\n\t"
            "smlad  %[b1], %[wa], %[xb13], %[b1]\n\t"
            "adds   %[i], %[i], #4\n\t"
            "bne    1b\n\t"
            : [a0] "+r" (a0), [b0] "+r" (b0), [a1] "+r" (a1), [b1] "+r" (b1), [r] "+r" (r), [i] "+r" (i),
              [xa02] "=&r" (xa02), [xa13] "=&r" (xa13), [xb02] "=&r" (xb02), [xb13] "=&r" (xb13),
              [wa] "=&r" (wa), [wb] "=&r" (wb)
            : [e0] "r" (e0), [e1] "r" (e1)
            : "cc", "memory");
        w0 = e0;
        w1 = e1;
    }
    if (tail) {
        uint32_t wv = filter_tail(w0, tail);
        int32_t w02 = tm_sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
        a0 = tm_smlad(w13, r[1], tm_smlad(w02, r[0], a0));
        b0 = tm_smlad(w13, r[3], tm_smlad(w02, r[2], b0));
        wv = filter_tail(w1, tail);
        w02 = tm_sxtb16(wv);
        w13 = tm_sxtb16_ror8(wv);
        a1 = tm_smlad(w13, r[1], tm_smlad(w02, r[0], a1));
        b1 = tm_smlad(w13, r[3], tm_smlad(w02, r[2], b1));
    }
    acc[0] = a0;
    acc[1] = b0;
    acc[2] = a1;
    acc[3] = b1;
}

// Output channels [oc, oc_end) of pixels a and b (rows widened in `rows`), two channels per pass. An odd
// last channel is computed twice and stored once. Rows are zero-padded to len4, so the filter is read in
// whole words past each row's end (into the next row), except at the very end of the filter tensor. The
// path of odd channels and clamping activations only: one copy, `full` tested per store.
__attribute__((noinline, noclone))
static void channels_2x2(const conv_t *c, const uint32_t *rows, int32_t oc, int32_t oc_end,
    const params_t *p, int32_t zo, int8_t *ya, int8_t *yb, int full) {
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    const int32_t len = c->row_len, len4 = (len + 3) & ~3, last = c->g.out_c - 1;
    for (; oc < oc_end; oc += 2) {
        const int32_t oc1 = oc + 1 < oc_end ? oc + 1 : oc;
        const int32_t n4 = oc1 == last ? len & ~3 : len4;
        int32_t acc[4];
        acc[0] = acc[1] = bias ? bias[oc] : 0;
        acc[2] = acc[3] = bias ? bias[oc1] : 0;
        mac_2x2(w + oc * len, w + oc1 * len, rows, n4, len - n4, acc);
        store_pair(acc[2], acc[3], &p->q[oc1], p, zo, ya + oc1, yb + oc1, full);
        store_pair(acc[0], acc[1], &p->q[oc], p, zo, ya + oc, yb + oc, full);
    }
}

// One group of four row values of both pixels against both channels' filter words, in passes_2x2 and
// passes_live: rows at r8 (one LDM: a02 r4, a13 r5, b02 r7, b13 r10), filters at r6 and lr, sums in r0-r3.
#define MAC_GROUP \
    "ldm    r8!, {r4, r5, r7, r10}\n\t" \
    "ldr    r11, [r6], #4\n\t" \
    "sxtb16 r12, r11\n\t" \
    "sxtb16 r11, r11, ror #8\n\t" \
    "smlad  r0, r12, r4, r0\n\t" \
    "smlad  r1, r12, r7, r1\n\t" \
    "smlad  r0, r11, r5, r0\n\t" \
    "smlad  r1, r11, r10, r1\n\t" \
    "ldr    r11, [lr], #4\n\t" \
    "sxtb16 r12, r11\n\t" \
    "sxtb16 r11, r11, ror #8\n\t" \
    "smlad  r2, r12, r4, r2\n\t" \
    "smlad  r3, r12, r7, r3\n\t" \
    "smlad  r2, r11, r5, r2\n\t" \
    "smlad  r3, r11, r10, r3\n\t"

// The MAC loop over rows [r8, r9), two groups per turn (16 instructions per 16 MACs); an odd group count
// enters at label 5 (the caller branches there).
#define MAC_LOOP \
    "1:\n\t" MAC_GROUP "5:\n\t" MAC_GROUP \
    "cmp    r8, r9\n\t" \
    "bne    1b\n\t"

// Requantization of sums A and B of one channel (rq_fast), packed words M and EW, then SSAT; M is free
// after the SMMLARs and holds the constant c.
#define RQ_FAST_2(A, B, M, EW) \
    "smmlar " A ", " A ", " M ", " A "\n\t" \
    "smmlar " B ", " B ", " M ", " B "\n\t" \
    "asr    " M ", " EW ", #8\n\t" \
    "add    " A ", " A ", " A ", asr #31\n\t" \
    "add    " B ", " B ", " B ", asr #31\n\t" \
    "qadd   " A ", " A ", " M "\n\t" \
    "qadd   " B ", " B ", " M "\n\t" \
    "asr    " A ", " A ", " EW "\n\t" \
    "asr    " B ", " B ", " EW "\n\t" \
    "ssat   " A ", #8, " A "\n\t" \
    "ssat   " B ", #8, " B "\n\t"

// What passes_2x2 reads: the first pair's pointers, and where to stop. Its layout is the assembly's frame.
typedef struct {
    const int32_t *bias;            // bias of the first pair's first channel
    int32_t odd;                    // nonzero if len4 / 4 (the number of groups) is odd
    const int8_t *w;                // its filter row
    int32_t len;                    // filter row length (row stride)
    const uint32_t *rows, *rows_end;    // the interleaved rows, len4 values per pixel
    const tm_channel_q_t *q;        // packed requantization of the first pair
    int8_t *ya, *yb;                // outputs of pixels a and b at the first pair's first channel
    const tm_channel_q_t *q_end;    // after the last pair
} passes_t;
// passes_2x2 copies it whole (LDM, PUSH) into its frame, reloads the first six words with one LDM and
// q, ya, yb, q_end with another from PASSES_Q.
#define PASSES_Q 24
#define PASSES_Q_END 36
#define PASSES_SIZE 40
TM_ASM_OFFSET(passes_t, bias, 0);
TM_ASM_OFFSET(passes_t, odd, 4);
TM_ASM_OFFSET(passes_t, w, 8);
TM_ASM_OFFSET(passes_t, len, 12);
TM_ASM_OFFSET(passes_t, rows, 16);
TM_ASM_OFFSET(passes_t, rows_end, 20);
TM_ASM_OFFSET(passes_t, q, PASSES_Q);
TM_ASM_OFFSET(passes_t, ya, PASSES_Q + 4);
TM_ASM_OFFSET(passes_t, yb, PASSES_Q + 8);
TM_ASM_OFFSET(passes_t, q_end, PASSES_Q_END);
TM_ASM_SIZE(passes_t, PASSES_SIZE);

// The four sums of a pair that has a slow channel, pushed below passes_2x2's frame.
typedef struct {
    int32_t acc[4];                 // (a, oc), (b, oc), (a, oc + 1), (b, oc + 1)
    passes_t a;                     // q, ya, yb still at this pair
} slow_frame_t;
// The four sums are pushed (SLOW_SUMS bytes) right below passes_2x2's frame.
#define SLOW_SUMS 16
TM_ASM_OFFSET(slow_frame_t, acc, 0);
TM_ASM_OFFSET(slow_frame_t, a, SLOW_SUMS);

// Called from passes_2x2 (hence `used`, and no IPA changes to its name or arguments).
__attribute__((used, noipa))
static void slow_pair(const slow_frame_t *f) {
    for (int32_t j = 0; j < 2; j++) {
        const tm_channel_q_t *q = &f->a.q[j];
        store_pair(f->acc[2 * j], f->acc[2 * j + 1], q, 0, (int8_t)(q->shift >> 8), f->a.ya + j, f->a.yb + j,
            1);
    }
}

// Consecutive channel pairs of pixels a and b, all in assembly: the pointers live in a stack frame loaded
// and stored with LDM/STM (one instruction each) around the MAC loop, which needs all 14 registers. For
// each pair: MAC_LOOP (filter words read up to len4, so the caller keeps the last pair of the tensor out),
// then the fast requantization of the four sums, SSAT (full activation range only) and the stores; about
// 42 instructions besides the MAC loop. A pair with a slow channel calls slow_pair instead.
__attribute__((naked, noinline))
static void passes_2x2(const passes_t *a) {
    __asm__ volatile (
        "push   {r4-r11, lr}\n\t"
        "ldm    r0, {r1-r10}\n\t"           // the frame: a copy of *a
        "push   {r1-r10}\n\t"
        "2:\n\t"                            // a pair: bias (r4), odd (r5), w (r6), len (r7), rows (r8), rows_end (r9)
        "ldm    sp, {r4, r5, r6, r7, r8, r9}\n\t"
        "ldrd   r0, r2, [r4], #8\n\t"       // a0 = b0 = bias[oc], a1 = b1 = bias[oc + 1]
        "add    lr, r6, r7\n\t"             // filter row of oc + 1
        "add    r10, lr, r7\n\t"            // the next pair's
        "stm    sp, {r4, r5, r10}\n\t"
        "mov    r1, r0\n\t"
        "mov    r3, r2\n\t"
        "cbnz   r5, 5f\n\t"
        MAC_LOOP
        "add    r11, sp, #" TM_STR(PASSES_Q) "\n\t"   // q (r4), ya (r5), yb (r6), q_end (r12)
        "ldm    r11, {r4, r5, r6, r12}\n\t"
        "ldm    r4!, {r7, r8, r9, r10}\n\t" // m, ew of oc and oc + 1
        "orr    lr, r8, r10\n\t"
        "tst    lr, #0x80\n\t"             // RQ_SLOW
        "bne    3f\n\t"
        RQ_FAST_2("r0", "r1", "r7", "r8")
        RQ_FAST_2("r2", "r3", "r9", "r10")
        "strb   r0, [r5], #1\n\t"
        "strb   r2, [r5], #1\n\t"
        "strb   r1, [r6], #1\n\t"
        "strb   r3, [r6], #1\n\t"
        "4:\n\t"
        "stm    r11, {r4, r5, r6}\n\t"
        "cmp    r4, r12\n\t"
        "bne    2b\n\t"
        "add    sp, sp, #" TM_STR(PASSES_SIZE) "\n\t"
        "pop    {r4-r11, pc}\n\t"
        "3:\n\t"                            // a pair with a slow channel: slow_pair(sums, frame)
        "push   {r0-r3}\n\t"
        "mov    r0, sp\n\t"
        "bl     slow_pair\n\t"
        "add    sp, sp, #" TM_STR(SLOW_SUMS) "\n\t"
        "adds   r5, r5, #2\n\t"
        "adds   r6, r6, #2\n\t"
        "ldr    r12, [r11, #" TM_STR(PASSES_Q_END) " - " TM_STR(PASSES_Q) "]\n\t"
        "b      4b\n\t");
}

// What passes_live reads (plan_live's pairs); its layout is the assembly's frame.
typedef struct {
    int8_t *ya, *yb;                // outputs of pixels a and b (channel 0)
    const live_pair_t *end;         // after the last pair
    const live_pair_t *pair;        // the next pair
    const int8_t *w;                // the filter
    int32_t len;                    // filter row length, a multiple of 4
    const int32_t *bias;
    const uint32_t *rows, *rows_end;    // the interleaved rows, len values per pixel
} live_t;
// passes_live copies it whole (LDM, PUSH) into its frame, reloads ya, yb, end, pair with one LDM and pair
// to rows_end with another from LIVE_PAIR.
#define LIVE_PAIR 12
#define LIVE_SIZE 36
TM_ASM_OFFSET(live_t, ya, 0);
TM_ASM_OFFSET(live_t, yb, 4);
TM_ASM_OFFSET(live_t, end, 8);
TM_ASM_OFFSET(live_t, pair, LIVE_PAIR);
TM_ASM_OFFSET(live_t, w, LIVE_PAIR + 4);
TM_ASM_OFFSET(live_t, len, LIVE_PAIR + 8);
TM_ASM_OFFSET(live_t, bias, LIVE_PAIR + 12);
TM_ASM_OFFSET(live_t, rows, LIVE_PAIR + 16);
TM_ASM_OFFSET(live_t, rows_end, LIVE_PAIR + 20);
TM_ASM_SIZE(live_t, LIVE_SIZE);

// The live channel pairs of pixels a and b, as passes_2x2 but with each pair's channels, bias and filter
// rows found from its entry (10 instructions) and stores at register offsets; no slow channels.
__attribute__((naked, noinline))
static void passes_live(const live_t *a) {
    __asm__ volatile (
        "push   {r4-r11, lr}\n\t"
        "ldm    r0, {r1-r9}\n\t"            // the frame: a copy of *a
        "push   {r1-r9}\n\t"
        "2:\n\t"
        "add    r4, sp, #" TM_STR(LIVE_PAIR) "\n\t"
        "ldm    r4, {r4, r5, r6, r7, r8, r9}\n\t"   // pair, w, len, bias, rows, rows_end
        "ldrd   r10, r11, [r4]\n\t"         // c0, c1
        "ldr    r0, [r7, r10, lsl #2]\n\t"  // a0 = b0 = bias[c0], a1 = b1 = bias[c1]
        "ldr    r2, [r7, r11, lsl #2]\n\t"
        "lsls   r12, r6, #29\n\t"           // N: an odd number of groups
        "mla    lr, r11, r6, r5\n\t"        // filter rows of c1 and c0
        "mla    r6, r10, r6, r5\n\t"
        "mov    r1, r0\n\t"
        "mov    r3, r2\n\t"
        "bmi    5f\n\t"
        MAC_LOOP
        "ldm    sp, {r4, r5, r6, r7}\n\t"   // ya, yb, end, pair
        "ldm    r7!, {r8, r9, r10, r11, r12, lr}\n\t"   // c0, c1, m, ew of c0 and c1
        RQ_FAST_2("r0", "r1", "r10", "r11")
        RQ_FAST_2("r2", "r3", "r12", "lr")
        "strb   r0, [r4, r8]\n\t"
        "strb   r1, [r5, r8]\n\t"
        "strb   r2, [r4, r9]\n\t"
        "strb   r3, [r5, r9]\n\t"
        "str    r7, [sp, #" TM_STR(LIVE_PAIR) "]\n\t"
        "cmp    r7, r6\n\t"
        "bne    2b\n\t"
        "add    sp, sp, #" TM_STR(LIVE_SIZE) "\n\t"
        "pop    {r4-r11, pc}\n\t");
}

// n >= 0 groups of four int8 values at src, widened to x - Z_in (off = -Z_in in both halves) into one
// pixel's slot of the interleaved rows; returns the slot's next group. Two groups per loop: 5 instructions
// a group.
static inline uint32_t *widen_groups(const int8_t *src, int32_t n, int32_t off, uint32_t *dst) {
    uint32_t v, u, lo, hi;
    // volatile: the stores are the point, even where the returned pointer is unused.
    if (n & 1) {
        __asm__ volatile ("ldr     %[v], [%[s]], #4\n\t"
                 "sxtab16 %[lo], %[off], %[v]\n\t"
                 "sxtab16 %[hi], %[off], %[v], ror #8\n\t"
                 "strd    %[lo], %[hi], [%[d]], #16\n\t"
                 : [v] "=&r" (v), [lo] "=&r" (lo), [hi] "=&r" (hi), [s] "+r" (src), [d] "+r" (dst)
                 : [off] "r" (off) : "memory");
    }
    if (n >>= 1) {
        __asm__ volatile ("1:\n\t"
                 "ldr     %[v], [%[s]], #4\n\t"
                 "ldr     %[u], [%[s]], #4\n\t"
                 "sxtab16 %[lo], %[off], %[v]\n\t"
                 "sxtab16 %[hi], %[off], %[v], ror #8\n\t"
                 "strd    %[lo], %[hi], [%[d]], #16\n\t"
                 "sxtab16 %[lo], %[off], %[u]\n\t"
                 "sxtab16 %[hi], %[off], %[u], ror #8\n\t"
                 "strd    %[lo], %[hi], [%[d]], #16\n\t"
                 "subs    %[n], %[n], #1\n\t"
                 "bne     1b\n\t"
                 : [v] "=&r" (v), [u] "=&r" (u), [lo] "=&r" (lo), [hi] "=&r" (hi), [s] "+r" (src), [d] "+r" (dst),
                   [n] "+r" (n)
                 : [off] "r" (off) : "cc", "memory");
    }
    return dst;
}

static inline uint32_t *zero_groups(int32_t n, uint32_t *dst) {
    for (; n > 0; n--) {
        dst[0] = 0;
        dst[1] = 0;
        dst += 4;
    }
    return dst;
}

// len int8 values (any count) widened into a slot, the last group padded with Z_in (which becomes 0).
static void widen_row(const int8_t *src, int32_t len, int32_t zi, uint32_t *dst) {
    dst = widen_groups(src, len >> 2, tm_neg_pair(zi), dst);
    if (len & 3) {
        uint32_t v = (uint8_t)zi * 0x01010101u;
        for (int32_t i = 0; i < (len & 3); i++) {
            v = (v & ~(0xffu << (8 * i))) | ((uint32_t)(uint8_t)src[(len & ~3) + i] << (8 * i));
        }
        widen_groups((const int8_t *)&v, 1, tm_neg_pair(zi), dst);
    }
}

// n bytes from src to dst, in words where possible (Cortex-M4 allows unaligned LDR/STR).
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    for (; n >= 4; n -= 4, src += 4, dst += 4) {
        const uint32_t v = tm_ld32(src);
        memcpy(dst, &v, 4);
    }
    if (n & 2) {
        uint16_t h;
        memcpy(&h, src, 2);
        memcpy(dst, &h, 2);
        src += 2;
        dst += 2;
    }
    if (n & 1) {
        *dst = *src;
    }
}

static inline void fill_bytes(int8_t *dst, int32_t v, int32_t n) {
    for (; n > 0; n--) {
        *dst++ = (int8_t)v;
    }
}

// Where output pixel `pix` (flat: batch, y, x) of group grp reads: the input at its window's top-left tap
// (possibly outside the image) and the window's top-left coordinates.
typedef struct {
    const int8_t *x;      // input of the batch and group, at (0, 0)
    int32_t y0, x0;
} window_t;

static inline window_t window_at(const conv_t *c, const int8_t *x, int32_t pix, int32_t grp) {
    const tm_window_t *g = &c->g;
    const int32_t ox = pix % g->out_w, t = pix / g->out_w, oy = t % g->out_h, b = t / g->out_h;
    window_t r = { x + b * g->in_h * g->in_w * g->in_c + grp * c->cin_f, oy * g->stride_h - g->pad_h,
                   ox * g->stride_w - g->pad_w };
    return r;
}

// A 1x1 window is never padded (SAME gives no padding for it): the row is the input pixel itself.
static void row_1x1(const conv_t *c, window_t win, int32_t zi, uint32_t *slot) {
    const int8_t *src = win.x + (win.y0 * c->g.in_w + win.x0) * c->g.in_c;
    if ((c->cin_f & 3) == 0) {
        widen_groups(src, c->cin_f >> 2, tm_neg_pair(zi), slot);
    } else {
        widen_row(src, c->cin_f, zi, slot);
    }
}

// A window row lies in one contiguous run of the input: dilation 1, one group, and inside the image.
static inline int run_inside(const conv_t *c, window_t win) {
    const tm_window_t *g = &c->g;
    return g->dil_w == 1 && c->cin_f == g->in_c && win.x0 >= 0 && win.x0 + g->k_w <= g->in_w;
}

// Filter depth a multiple of 4: every tap is whole groups, widened straight from the input.
static void row_taps(const conv_t *c, window_t win, int32_t zi, uint32_t *slot) {
    const tm_window_t *g = &c->g;
    const int32_t n = c->cin_f >> 2, off = tm_neg_pair(zi), run = run_inside(c, win);
    const int32_t row_stride = g->in_w * g->in_c;
    for (int32_t ky = 0, iy = win.y0; ky < g->k_h; ky++, iy += g->dil_h) {
        if (iy < 0 || iy >= g->in_h) {
            slot = zero_groups(n * g->k_w, slot);
            continue;
        }
        const int8_t *xrow = win.x + iy * row_stride;
        if (run) {
            slot = widen_groups(xrow + win.x0 * g->in_c, n * g->k_w, off, slot);
            continue;
        }
        for (int32_t kx = 0, ix = win.x0; kx < g->k_w; kx++, ix += g->dil_w) {
            slot = ix < 0 || ix >= g->in_w ? zero_groups(n, slot) : widen_groups(xrow + ix * g->in_c, n, off, slot);
        }
    }
}

// A window wholly inside the image: k_h runs of len >= 4 bytes, `stride` apart in the input, one after
// another: each run as words, the last one overlapping the one before (no byte loads, no write past the
// run). Not vectorized: GCC's versioned copies cost more than they save on runs this short.
__attribute__((optimize("no-tree-vectorize")))
static inline void stage_runs(int8_t *d, const int8_t *src, int32_t k_h, int32_t len, int32_t stride) {
    const int32_t last = len - 4;
    for (; k_h > 0; k_h--, src += stride, d += len) {
        for (int32_t i = 0; i < last; i += 4) {
            const uint32_t v = tm_ld32(src + i);
            memcpy(d + i, &v, 4);
        }
        const uint32_t v = tm_ld32(src + last);
        memcpy(d + last, &v, 4);
    }
}

// A window whose runs lie inside the image (see run_inside), rows too, and runs of at least 4 bytes.
static inline int window_inside(const conv_t *c, window_t win) {
    const tm_window_t *g = &c->g;
    return run_inside(c, win) && g->k_w * c->cin_f >= 4 && win.y0 >= 0 && win.y0 + (g->k_h - 1) * g->dil_h < g->in_h;
}

// The receptive field of any other window staged as int8, Z_in for taps outside the image, then widened.
__attribute__((noinline))
static void row_border(const conv_t *c, window_t win, int32_t zi, int8_t *stage, uint32_t *slot) {
    const tm_window_t *g = &c->g;
    const int32_t cin = c->cin_f, len = g->k_w * cin, run = run_inside(c, win);
    int8_t *d = stage;
    for (int32_t ky = 0, iy = win.y0; ky < g->k_h; ky++, iy += g->dil_h, d += len) {
        if (iy < 0 || iy >= g->in_h) {
            fill_bytes(d, zi, len);
            continue;
        }
        const int8_t *xrow = win.x + iy * g->in_w * g->in_c;
        if (run) {
            copy_bytes(d, xrow + win.x0 * g->in_c, len);
            continue;
        }
        for (int32_t kx = 0, ix = win.x0; kx < g->k_w; kx++, ix += g->dil_w) {
            if (ix < 0 || ix >= g->in_w) {
                fill_bytes(d + kx * cin, zi, cin);
            } else {
                copy_bytes(d + kx * cin, xrow + ix * g->in_c, cin);
            }
        }
    }
    widen_groups(stage, (c->row_len + 3) >> 2, tm_neg_pair(zi), slot);
}

// Other filter depths: the receptive field is staged as int8 (Z_in for taps outside the image; the stage's
// padding to len4 holds Z_in too), then widened.
static inline void row_staged(const conv_t *c, window_t win, int32_t zi, int8_t *stage, uint32_t *slot) {
    const tm_window_t *g = &c->g;
    const int32_t len = g->k_w * c->cin_f;
    if (window_inside(c, win)) {
        stage_runs(stage, win.x + (win.y0 * g->in_w + win.x0) * g->in_c, g->k_h, len, g->dil_h * g->in_w * g->in_c);
        widen_groups(stage, (c->row_len + 3) >> 2, tm_neg_pair(zi), slot);
        return;
    }
    row_border(c, win, zi, stage, slot);
}

// The template (n bytes) into both pixels' outputs: four words per LDM and STM where aligned.
static void copy_template(int8_t *ya, int8_t *yb, const int8_t *t, int32_t n) {
    if ((((uintptr_t)ya | (uintptr_t)yb | (uint32_t)n) & 15) == 0) {
        uint32_t v0, v1, v2, v3;
        __asm__ volatile ("1:\n\t"
                          "ldm     %[t]!, {%[v0], %[v1], %[v2], %[v3]}\n\t"
                          "stm     %[ya]!, {%[v0], %[v1], %[v2], %[v3]}\n\t"
                          "stm     %[yb]!, {%[v0], %[v1], %[v2], %[v3]}\n\t"
                          "subs    %[n], %[n], #16\n\t"
                          "bne     1b\n\t"
                          : [v0] "=&r" (v0), [v1] "=&r" (v1), [v2] "=&r" (v2), [v3] "=&r" (v3), [t] "+r" (t),
                            [ya] "+r" (ya), [yb] "+r" (yb), [n] "+r" (n)
                          : : "cc", "memory");
    } else {
        copy_bytes(ya, t, n);
        copy_bytes(yb, t, n);
    }
}

// All channels of pixels a and b with plan_live's layout: the template, then the live pairs over it.
static void channels_live(const conv_t *c, const uint32_t *rows, const params_t *p, int8_t *ya, int8_t *yb) {
    const int8_t *tmpl = (const int8_t *)p->q;
    const int32_t out_c = c->g.out_c, len = c->row_len;
    const live_pair_t *pairs = (const live_pair_t *)(tmpl + ((out_c + 3) & ~3));
    copy_template(ya, yb, tmpl, out_c);
    const live_t a = { ya, yb, pairs + p->live_pairs, pairs, (const int8_t *)c->w->data, len,
                       (const int32_t *)c->bias->data, rows, rows + len };
    passes_live(&a);
}

// Output channels [oc, oc_end) with a bias and the full int8 range: whole pairs in passes_2x2, except the
// tensor's last channel when rows are not whole words (no over-read past the filter) and an odd channel.
static void channels_fast(const conv_t *c, const uint32_t *rows, int32_t oc, int32_t oc_end, const params_t *p,
    int32_t zo, int8_t *ya, int8_t *yb) {
    const int32_t len = c->row_len, len4 = (len + 3) & ~3, odd = len4 & 4;
    const int32_t *bias = (const int32_t *)c->bias->data;
    const int8_t *w = (const int8_t *)c->w->data;
    int32_t pairs = (oc_end - oc) >> 1;
    const int last = (len & 3) && oc + 2 * pairs == c->g.out_c;
    pairs -= last;
    int32_t done = oc + 2 * pairs;
    if (pairs > 0) {
        const passes_t a = { bias + oc, odd, w + oc * len, len, rows, rows + len4, p->q + oc, ya + oc, yb + oc,
                             p->q + done };
        passes_2x2(&a);
    }
    if (last) {
        // The tensor's last pair, from its zero-padded copy (last_rows).
        const passes_t a = { bias + done, odd, (const int8_t *)(rows + len4) + len4, len, rows, rows + len4,
                             p->q + done, ya + done, yb + done, p->q + done + 2 };
        passes_2x2(&a);
        done += 2;
    }
    if (done < oc_end) {
        channels_2x2(c, rows, done, oc_end, p, zo, ya, yb, 1);
    }
}

// The filter's last two rows, zero-padded past their end, after the stage in scratch (rows not whole words).
static void last_rows(const conv_t *c, int8_t *copy) {
    const int32_t len = c->row_len;
    if (len & 3 && c->g.out_c >= 2) {
        memcpy(copy, (const int8_t *)c->w->data + (c->g.out_c - 2) * len, (size_t)(2 * len));
        memset(copy + 2 * len, 0, 4);
    }
}

static tm_status_t arch_eval_int8(tm_model_t *m, tm_node_t *n, const conv_t *c) {
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    const int32_t len = c->row_len, len4 = (len + 3) & ~3;
    uint32_t *rows = tm_scratch(m, n);
    int8_t *stage = (int8_t *)(rows + len4);
    const int8_t *x = (const int8_t *)c->in->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point;
    const int full = p->act_lo == -128 && p->act_hi == 127;
    const int pointwise = g->k_h == 1 && g->k_w == 1, taps = (c->cin_f & 3) == 0;
    const int32_t npix = g->batches * g->out_h * g->out_w, out_c = g->out_c;
    if (p->live_pairs == 0) {
        // Every channel is constant: each output pixel is the template, whatever the input.
        for (int32_t px = 0; px < npix; px++) {
            copy_bytes((int8_t *)c->out->data + px * out_c, (const int8_t *)p->q, out_c);
        }
        return TM_OK;
    }
    memset(stage + len, zi, (size_t)(len4 - len));
    last_rows(c, stage + len4);
    for (int32_t pa = 0; pa < npix; pa += 2) {
        // An odd last pixel is computed twice and stored once.
        const int32_t pb = pa + 1 < npix ? pa + 1 : pa;
        int8_t *ya = (int8_t *)c->out->data + pa * out_c, *yb = (int8_t *)c->out->data + pb * out_c;
        for (int32_t grp = 0; grp < c->groups; grp++) {
            const window_t wa = window_at(c, x, pa, grp), wb = window_at(c, x, pb, grp);
            if (pointwise) {
                row_1x1(c, wa, zi, rows);
                row_1x1(c, wb, zi, rows + 2);
            } else if (taps) {
                row_taps(c, wa, zi, rows);
                row_taps(c, wb, zi, rows + 2);
            } else {
                row_staged(c, wa, zi, stage, rows);
                row_staged(c, wb, zi, stage, rows + 2);
            }
            const int32_t oc0 = grp * c->cout_g, oc_end = oc0 + c->cout_g;
            if (p->live_pairs > 0) {
                channels_live(c, rows, p, ya, yb);
            } else if (full && c->bias) {
                channels_fast(c, rows, oc0, oc_end, p, zo, ya, yb);
            } else {
                channels_2x2(c, rows, oc0, oc_end, p, zo, ya, yb, full);
            }
        }
    }
    return TM_OK;
}

// ---- The hooks of kernels/conv_2d.c ----

// Two pixels' int16 rows, a staging row of int8 (receptive field with Z_in in the padding) and, for rows
// that are not whole words, a zero-padded copy of the filter's last two rows.
static uint32_t arch_scratch_bytes(const conv_t *c) {
    const uint32_t len4 = ((uint32_t)c->row_len + 3u) & ~3u;
    return 2u * len4 * sizeof(int16_t) + len4 + ((c->row_len & 3) ? 2u * len4 + 4u : 0u);
}

static void arch_prepare(const conv_t *c, params_t *p) {
    p->live_pairs = plan_live(c, p);
    if (p->live_pairs < 0) {
        pack_requant(p->q, c->g.out_c, c->out->zero_point);
    }
}
