// DEPTHWISE_CONV_2D's int8 path for the Xtensa build with kernels/xtensa/ (tinyml.build's xtensa_mac16; C and
// one zero-overhead loop, no MAC16: it is in this folder because the ESP32's build is, and needs the loop
// option the ESP32-S2 lacks). Any depth multiplier dm: output channel oc reads input channel oc / dm.
//
// The portable kernel keeps eight accumulators, which the Xtensa's 16 address registers cannot hold next to
// the pointers: they live on the stack. Here four channels at a time stay in registers (dm = 1: four input
// channels; dm a multiple of 4: one input value shared by the four, as micro_speech's dm = 8; other dm take
// the channel-by-channel loop), and Z_in leaves the inner loop: for a pixel whose taps all lie inside the image,
//   sum(w * (x - Z_in)) + bias = sum(w * x) + (bias - Z_in * sum(w)),
// with the bracket computed once per invoke per channel (int32 arithmetic wraps, so the identity holds bit
// for bit). Those pixels read their taps through offsets computed once per invoke; border pixels subtract
// Z_in tap by tap over their valid taps, as the portable kernel does. Requantization is requant.h's (one
// MULSH and one MULL, exact), with its constants made once per invoke.
#define TM_ARCH_KERNEL 1
#include "../depthwise_conv_2d.c"
#include "requant.h"
#include "zero_overhead_loop.h"

#define XT_LANES 4

// ---- 3x3, depth multiplier 1, channels in fours: padded planes ----
//
// Four channels of the NHWC input are moved into two "pair planes" of words: plane 0 word (r, q) holds channels
// c0 (low half) and c0 + 2 (high half) of input pixel (r - pad_h, q - pad_w), plane 1 channels c0 + 1 and
// c0 + 3. Each half holds u = x + 128 (0..255): one l32i gives four channels, v ^ 0x80808080 makes them
// unsigned, and two masks split them into the planes' words without sign extension (10 instructions per four
// values). The planes are padded with Z_in + 128 where the image ends, so every output, border or not, is the
// same 9 taps with no test:
//   sum over taps of w (x - Z_in) [TFLM: taps outside the image skipped] + bias
//   = sum over all 9 taps of w u - (Z_in + 128) sum(w) + bias,
// since a padded tap has u - Z_in - 128 = 0. The bracket is MAC16's start value per channel; the products are
// exact and ACCLO is the sum's low 32 bits, so outputs are bit-exact. Per output 22 instructions (9 loads, 9
// MACs, ACCLO written and read, two row pointers) and requant.h's requantization, with one channel's weights,
// start and requantization constants in registers for its whole plane, where the per-pixel kernel below
// takes about 87 instructions per output (95 at the border).
typedef struct {
    int32_t w[5];       // the channel's taps as int16 pairs: (w0, w1), (w2, w3), (w4, w5), (w6, w7), (w8, 0)
    int32_t start;      // bias - (Z_in + 128) * sum(w)
} xt_dw_plane_ch_t;

// 3x3 without dilation, and either depth multiplier 1 with channels in fours, or one input channel (any
// multiplier: person_detection's first layer, 1 -> 8): every output channel then reads the low halves of one
// plane.
static int plane_path(const dw_t *c) {
    const tm_window_t *g = &c->g;
    return g->k_h == 3 && g->k_w == 3 && g->dil_h == 1 && g->dil_w == 1 && c->in->type == TM_INT8 &&
           ((c->dm == 1 && g->in_c % 4 == 0) || g->in_c == 1);
}

// The planes hold a band of output rows at a time, at most XT_DW_PLANE_WORDS words each (4 KB; at least the 3
// rows of one output row): a whole 97 x 97 plane (person_detection's first layer) would add 75 KB to the arena.
// Band rows are filled once per band, the rows between two bands twice (stride 2) or thrice (stride 1).
#define XT_DW_PLANE_WORDS 1024

// Output rows per band, and a plane's rows and words per row: the padded input those outputs read.
static void plane_dims(const tm_window_t *g, int32_t *band, int32_t *rows, int32_t *cols) {
    *cols = (g->out_w - 1) * g->stride_w + 3;
    int32_t r = (XT_DW_PLANE_WORDS / *cols - 3) / g->stride_h + 1;
    r = r < 1 ? 1 : r > g->out_h ? g->out_h : r;
    *band = r;
    *rows = (r - 1) * g->stride_h + 3;
}

// Output rows requantized by one requant_run call (up to 256 sums of scratch): a call per row costs about 25
// instructions, 4 per output of a 6 x 6 layer.
static int32_t requant_rows(const tm_window_t *g) {
    const int32_t r = 256 / g->out_w;
    return r < 1 ? 1 : r;
}

static uint32_t plane_scratch_bytes(const dw_t *c) {
    int32_t band, rows, cols;
    plane_dims(&c->g, &band, &rows, &cols);
    const int32_t sums = (requant_rows(&c->g) < band ? requant_rows(&c->g) : band) * c->g.out_w;
    return (uint32_t)(2 * rows * cols + sums) * sizeof(int32_t) +
           (uint32_t)c->g.out_c * (sizeof(xt_dw_plane_ch_t) + sizeof(xt_rq_t));
}

// One output row of one channel: acc[ox] = start + sum over the 3x3 taps of weight x plane half, for n outputs
// from the word r0 of tap (0, 0) of the first, in a zero-overhead loop (26 instructions per output). rs: the
// bytes from one plane row to the next, step: from one output's tap (0, 0) to the next's; H: the byte offset of
// the channel's half in a word ("0" low, "2" high). Each tap is one l16si and one mula.aa (both operands from
// address registers; the weights' halves alternate l, h). MAC16's memory-operand forms (ldinc into m0-m3) would
// save the loads, but QEMU 7.2 does not see an m register written by a load when the same translation block
// read it before (a MAC16 read, a ldinc into it, a second read gives the old value), and 9 taps need more
// values than the four m registers hold. The loop body starts 4-aligned (zero_overhead_loop.h).
#define XT_DW_PLANE_ROW(H)                                                                                   \
    XT_LOOP_ALIGN                                                                                            \
    "loopnez %[n], 1f\n\t"                                                                                  \
    "wsr.acclo %[start]\n\t"                                                                                \
    "add %[r1], %[r0], %[rs]\n\t"                                                                           \
    "l16si %[t], %[r0], 0 + " H "\n\t"                                                                      \
    "mula.aa.ll %[t], %[w01]\n\t"                                                                           \
    "l16si %[t], %[r0], 4 + " H "\n\t"                                                                      \
    "mula.aa.lh %[t], %[w01]\n\t"                                                                           \
    "l16si %[t], %[r0], 8 + " H "\n\t"                                                                      \
    "mula.aa.ll %[t], %[w23]\n\t"                                                                           \
    "add %[r2], %[r1], %[rs]\n\t"                                                                           \
    "l16si %[t], %[r1], 0 + " H "\n\t"                                                                      \
    "mula.aa.lh %[t], %[w23]\n\t"                                                                           \
    "l16si %[t], %[r1], 4 + " H "\n\t"                                                                      \
    "mula.aa.ll %[t], %[w45]\n\t"                                                                           \
    "l16si %[t], %[r1], 8 + " H "\n\t"                                                                      \
    "mula.aa.lh %[t], %[w45]\n\t"                                                                           \
    "l16si %[t], %[r2], 0 + " H "\n\t"                                                                      \
    "mula.aa.ll %[t], %[w67]\n\t"                                                                           \
    "l16si %[t], %[r2], 4 + " H "\n\t"                                                                      \
    "mula.aa.lh %[t], %[w67]\n\t"                                                                           \
    "l16si %[t], %[r2], 8 + " H "\n\t"                                                                      \
    "mula.aa.ll %[t], %[w8]\n\t"                                                                            \
    "rsr.acclo %[t]\n\t"                                                                                    \
    "s32i %[t], %[acc], 0\n\t"                                                                              \
    "addi %[acc], %[acc], 4\n\t"                                                                            \
    "add %[r0], %[r0], %[step]\n\t"                                                                         \
    "1:\n\t"

__attribute__((always_inline)) static inline void plane_row(const int32_t *r0, int32_t n, int32_t rs, int32_t step,
    const xt_dw_plane_ch_t *ch, int high, int32_t *acc) {
    const int32_t w01 = ch->w[0], w23 = ch->w[1], w45 = ch->w[2], w67 = ch->w[3], w8 = ch->w[4], start = ch->start;
    int32_t t;
    const int32_t *r1, *r2;
    if (high) {
        __asm__ volatile(XT_DW_PLANE_ROW("2")
            : [r0] "+r"(r0), [acc] "+r"(acc), [t] "=&r"(t), [r1] "=&r"(r1), [r2] "=&r"(r2)
            : [n] "r"(n), [rs] "r"(rs), [step] "r"(step), [start] "r"(start), [w01] "r"(w01), [w23] "r"(w23),
              [w45] "r"(w45), [w67] "r"(w67), [w8] "r"(w8)
            : "memory");
    } else {
        __asm__ volatile(XT_DW_PLANE_ROW("0")
            : [r0] "+r"(r0), [acc] "+r"(acc), [t] "=&r"(t), [r1] "=&r"(r1), [r2] "=&r"(r2)
            : [n] "r"(n), [rs] "r"(rs), [step] "r"(step), [start] "r"(start), [w01] "r"(w01), [w23] "r"(w23),
              [w45] "r"(w45), [w67] "r"(w67), [w8] "r"(w8)
            : "memory");
    }
}

// y[i * ystride] = clamp(requant.h's xt_rq_fast(acc[i]), lo, hi) for n sums of one channel (q->e != 0), in a
// zero-overhead loop: 15 instructions per output. SAR holds the shift for the whole loop (the firmware's MULSH
// emulation on QEMU leaves SAR alone; an ESP32 executes MULSH).
static void requant_run(const int32_t *acc, int32_t n, const xt_rq_t *q, int32_t lo, int32_t hi, int8_t *y,
    int32_t ystride) {
    int32_t a, s, h;
    __asm__ volatile(
        "ssr %[e]\n\t"
        XT_LOOP_ALIGN
        "loopnez %[n], 1f\n\t"
        "l32i %[a], %[acc], 0\n\t"
        "addi %[acc], %[acc], 4\n\t"
        "extui %[s], %[a], 31, 1\n\t"
        "slli %[a], %[a], 1\n\t"
        "mulsh %[h], %[a], %[M]\n\t"
        "mull %[a], %[a], %[M]\n\t"
        "extui %[a], %[a], 31, 1\n\t"
        "add %[h], %[h], %[a]\n\t"
        "add %[h], %[h], %[c]\n\t"
        "sub %[h], %[h], %[s]\n\t"
        "sra %[h], %[h]\n\t"
        "max %[h], %[h], %[lo]\n\t"
        "min %[h], %[h], %[hi]\n\t"
        "s8i %[h], %[y], 0\n\t"
        "add %[y], %[y], %[ys]\n\t"
        "1:\n\t"
        : [acc] "+r"(acc), [y] "+r"(y), [a] "=&r"(a), [s] "=&r"(s), [h] "=&r"(h)
        : [n] "r"(n), [e] "r"(q->e), [M] "r"(q->M), [c] "r"(q->c), [lo] "r"(lo), [hi] "r"(hi), [ys] "r"(ystride)
        : "memory");
}

// One channel's outputs from its pair plane (`high`: the channel is the words' high half), a row at a time:
// the sums into `acc` (out_w words of scratch), then their requantization.
static void plane_channel(const tm_window_t *g, const int32_t *plane, int32_t cols, int32_t out_rows,
    const xt_dw_plane_ch_t *ch, const xt_rq_t *q, int high, int32_t lo, int32_t hi, int32_t *acc, int8_t *y) {
    const int32_t rs = cols * 4, step = g->stride_w * 4, cout = g->out_c, rowstep = g->stride_h * cols;
    const int32_t out_w = g->out_w, chunk = requant_rows(g);
    for (int32_t oy0 = 0; oy0 < out_rows; oy0 += chunk) {
        // The sums of a few rows, then one requantization loop over them: consecutive outputs of one channel
        // are cout bytes apart across rows too.
        const int32_t nr = out_rows - oy0 < chunk ? out_rows - oy0 : chunk, n = nr * out_w;
        for (int32_t r = 0; r < nr; r++) {
            plane_row(plane + (oy0 + r) * rowstep, out_w, rs, step, ch, high, acc + r * out_w);
        }
        int8_t *yc = y + oy0 * out_w * cout;
        if (q->e) {
            requant_run(acc, n, q, lo, hi, yc, cout);
        } else {
            for (int32_t i = 0; i < n; i++) {
                yc[i * cout] = (int8_t)tm_clamp(xt_rq_slow(acc[i], q), lo, hi);
            }
        }
    }
}

// Input channels [c0, c0 + 4) of batch b into the two pair planes (the image part only; the padding was
// written once per invoke): per four values one l32i, the sign flip, two masks, two stores.
static void plane_fill(const tm_window_t *g, const int8_t *x, int32_t b, int32_t c0, int32_t top, int32_t rows,
    int32_t cols, uint32_t pad, int32_t *p0, int32_t *p1) {
    const int32_t q0 = g->pad_w, q1 = g->pad_w + g->in_w < cols ? g->pad_w + g->in_w : cols;
    const int32_t n = q1 - q0, stride = g->in_c;
    const uint32_t flip = 0x80808080u, mask = 0x00ff00ffu;
    for (int32_t r = 0; r < rows; r++) {
        const int32_t iy = top + r - g->pad_h;
        if (iy < 0 || iy >= g->in_h) {      // a padding row (the columns' padding is never overwritten)
            for (int32_t i = 0; i < cols; i++) {
                p0[r * cols + i] = (int32_t)pad;
                p1[r * cols + i] = (int32_t)pad;
            }
            continue;
        }
        const int8_t *src = x + ((b * g->in_h + iy) * g->in_w) * g->in_c + c0;
        int32_t *d0 = p0 + r * cols + q0, *d1 = p1 + r * cols + q0;
        if ((uintptr_t)src & 3) {       // l32i needs 4-aligned words (arena tensors are 16-aligned)
            for (int32_t i = 0; i < n; i++, src += stride) {
                const uint32_t u0 = (uint8_t)(src[0] ^ 0x80), u1 = (uint8_t)(src[1] ^ 0x80);
                const uint32_t u2 = (uint8_t)(src[2] ^ 0x80), u3 = (uint8_t)(src[3] ^ 0x80);
                d0[i] = (int32_t)(u0 | u2 << 16);
                d1[i] = (int32_t)(u1 | u3 << 16);
            }
            continue;
        }
        uint32_t v, e;
        __asm__ volatile(
            XT_LOOP_ALIGN
            "loopnez %[n], 1f\n\t"
            "l32i %[v], %[src], 0\n\t"
            "add %[src], %[src], %[stride]\n\t"
            "xor %[v], %[v], %[flip]\n\t"
            "and %[e], %[v], %[mask]\n\t"
            "srli %[v], %[v], 8\n\t"
            "and %[v], %[v], %[mask]\n\t"
            "s32i %[e], %[d0], 0\n\t"
            "s32i %[v], %[d1], 0\n\t"
            "addi %[d0], %[d0], 4\n\t"
            "addi %[d1], %[d1], 4\n\t"
            "1:\n\t"
            : [src] "+r"(src), [d0] "+r"(d0), [d1] "+r"(d1), [v] "=&r"(v), [e] "=&r"(e)
            : [n] "r"(n), [stride] "r"(stride), [flip] "r"(flip), [mask] "r"(mask)
            : "memory");
    }
}

// The one input channel of batch b into the low halves of plane p (u = x + 128; the high halves are unused).
static void plane_fill1(const tm_window_t *g, const int8_t *x, int32_t b, int32_t top, int32_t rows, int32_t cols,
    uint32_t pad, int32_t *p) {
    const int32_t n = (g->pad_w + g->in_w < cols ? g->pad_w + g->in_w : cols) - g->pad_w;
    for (int32_t r = 0; r < rows; r++) {
        const int32_t iy = top + r - g->pad_h;
        if (iy < 0 || iy >= g->in_h) {
            for (int32_t i = 0; i < cols; i++) {
                p[r * cols + i] = (int32_t)pad;
            }
            continue;
        }
        const int8_t *src = x + (b * g->in_h + iy) * g->in_w;
        int32_t *d = p + r * cols + g->pad_w;
        for (int32_t i = 0; i < n; i++) {
            d[i] = (uint8_t)(src[i] ^ 0x80);
        }
    }
}

static int32_t plane_eval(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    int8_t *y = (int8_t *)c->out->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, cout = g->out_c, lo = p->act_lo, hi = p->act_hi;
    int32_t band, rows, cols;
    plane_dims(g, &band, &rows, &cols);
    int32_t *p0 = tm_scratch(m, n), *p1 = p0 + rows * cols;
    xt_dw_plane_ch_t *chs = (xt_dw_plane_ch_t *)(p1 + rows * cols);
    xt_rq_t *rq = (xt_rq_t *)(chs + cout);
    int32_t *acc = (int32_t *)(rq + cout);
    // Per channel, every invoke (kept in the arena these 40 bytes per channel would put vww and person_detection
    // beyond an ESP32's heap: docs/benchmarks.md): the 9 taps loaded once each, from three row pointers, then
    // summed and paired. About 125 instructions per channel; 188 while each tap was indexed t * cout + ch and
    // loaded twice (once for the sum, once for the pairs).
    const int32_t c2 = 2 * cout;
    for (int32_t ch = 0; ch < cout; ch++) {
        const int8_t *r0 = w + ch, *r1 = r0 + 3 * cout, *r2 = r1 + 3 * cout;     // the filter's three rows
        const int32_t v0 = r0[0], v1 = r0[cout], v2 = r0[c2], v3 = r1[0], v4 = r1[cout], v5 = r1[c2];
        const int32_t v6 = r2[0], v7 = r2[cout], v8 = r2[c2];
        const int32_t s = v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8;
        int32_t *pw = chs[ch].w;
        pw[0] = (int32_t)(((uint32_t)v1 << 16) | ((uint32_t)v0 & 0xffffu));
        pw[1] = (int32_t)(((uint32_t)v3 << 16) | ((uint32_t)v2 & 0xffffu));
        pw[2] = (int32_t)(((uint32_t)v5 << 16) | ((uint32_t)v4 & 0xffffu));
        pw[3] = (int32_t)(((uint32_t)v7 << 16) | ((uint32_t)v6 & 0xffffu));
        pw[4] = (int32_t)((uint32_t)v8 & 0xffffu);
        const int32_t b0 = bias ? bias[ch] : 0;
        chs[ch].start = b0 - (zi + 128) * s;
        rq[ch] = xt_rq(p->q[ch].multiplier, p->q[ch].shift, zo, xt_acc_bound(b0, 9));
    }
    const uint32_t pad = (uint32_t)(zi + 128) * 0x00010001u;
    for (int32_t i = 0; i < 2 * rows * cols; i++) {
        p0[i] = (int32_t)pad;
    }
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy0 = 0; oy0 < g->out_h; oy0 += band) {
            const int32_t nr = g->out_h - oy0 < band ? g->out_h - oy0 : band, top = oy0 * g->stride_h;
            const int32_t used = (nr - 1) * g->stride_h + 3;
            int8_t *yb = y + ((b * g->out_h + oy0) * g->out_w) * cout;
            if (g->in_c == 1) {
                plane_fill1(g, x, b, top, used, cols, pad, p0);
                for (int32_t oc = 0; oc < cout; oc++) {
                    plane_channel(g, p0, cols, nr, &chs[oc], &rq[oc], 0, lo, hi, acc, yb + oc);
                }
                continue;
            }
            for (int32_t c0 = 0; c0 < cout; c0 += 4) {
                plane_fill(g, x, b, c0, top, used, cols, pad, p0, p1);
                plane_channel(g, p0, cols, nr, &chs[c0], &rq[c0], 0, lo, hi, acc, yb + c0);
                plane_channel(g, p1, cols, nr, &chs[c0 + 1], &rq[c0 + 1], 0, lo, hi, acc, yb + c0 + 1);
                plane_channel(g, p0, cols, nr, &chs[c0 + 2], &rq[c0 + 2], 1, lo, hi, acc, yb + c0 + 2);
                plane_channel(g, p1, cols, nr, &chs[c0 + 3], &rq[c0 + 3], 1, lo, hi, acc, yb + c0 + 3);
            }
        }
    }
    return cout;
}

// ---- the per-pixel kernel (any other layer) ----

static uint32_t arch_scratch_bytes(const dw_t *c) {
    if (plane_path(c)) {
        return plane_scratch_bytes(c);
    }
    const uint32_t taps = (uint32_t)(c->g.k_h * c->g.k_w);
    return (uint32_t)(2 * c->g.out_c + 4 * taps) * sizeof(int32_t) + (uint32_t)c->g.out_c * sizeof(xt_rq_t) +
           (uint32_t)c->g.out_c * taps * sizeof(int16_t);
}

static inline int8_t requant1(const xt_rq_t *rq, int32_t oc, int32_t a, int32_t lo, int32_t hi) {
    return (int8_t)tm_clamp(xt_rq_apply(a, &rq[oc]), lo, hi);
}

// Four channels [c0, c0 + 4) of one pixel over `ntaps` taps: input at x[base + xoff[i] + xc] (xc = c0 with
// dm = 1, the one input channel c0 / dm with `shared`; base, the index of tap (0, 0), may lie outside the
// image: only valid taps' indices are formed), filter at wg (the four channels' int16 weights, tap by tap):
// tap i's four at wg + 4 i when `interior` (all taps), at wg + wsel[i] otherwise. Inlined into each call, so
// `shared` and `interior` are constants and the interior calls (z = 0) have no subtraction at all.
__attribute__((always_inline)) static inline void lanes4(const xt_rq_t *rq, const int8_t *x, int32_t base,
    const int16_t *wg, const int32_t *xoff, const int32_t *wsel, int32_t ntaps, int32_t z, const int32_t *start,
    int32_t c0, int32_t xc, int shared, int interior, int32_t lo, int32_t hi, int8_t *y) {
    int32_t a0 = start[c0], a1 = start[c0 + 1], a2 = start[c0 + 2], a3 = start[c0 + 3];
    const int8_t *xb = x + (base + xc);
    if (interior && !shared) {
        // The C loop below (z = 0, wp = wg + 4 t) as a zero-overhead loop: 24 instructions per tap where LLVM's
        // loop takes 28. Its body starts 4-aligned (zero_overhead_loop.h).
        const int32_t *xo = xoff;
        const int16_t *wp = wg;
        int32_t pa, v, u;
        __asm__ volatile(
            XT_LOOP_ALIGN
            "loopnez %[n], 1f\n\t"
            "l32i %[pa], %[xo], 0\n\t"
            "addi %[xo], %[xo], 4\n\t"
            "add %[pa], %[pa], %[xb]\n\t"
            "l8ui %[v], %[pa], 0\n\t"
            "l16si %[u], %[wp], 0\n\t"
            "sext %[v], %[v], 7\n\t"
            "mull %[v], %[v], %[u]\n\t"
            "add %[a0], %[a0], %[v]\n\t"
            "l8ui %[v], %[pa], 1\n\t"
            "l16si %[u], %[wp], 2\n\t"
            "sext %[v], %[v], 7\n\t"
            "mull %[v], %[v], %[u]\n\t"
            "add %[a1], %[a1], %[v]\n\t"
            "l8ui %[v], %[pa], 2\n\t"
            "l16si %[u], %[wp], 4\n\t"
            "sext %[v], %[v], 7\n\t"
            "mull %[v], %[v], %[u]\n\t"
            "add %[a2], %[a2], %[v]\n\t"
            "l8ui %[v], %[pa], 3\n\t"
            "l16si %[u], %[wp], 6\n\t"
            "sext %[v], %[v], 7\n\t"
            "mull %[v], %[v], %[u]\n\t"
            "add %[a3], %[a3], %[v]\n\t"
            "addi %[wp], %[wp], 8\n\t"
            "1:\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xo] "+r"(xo), [wp] "+r"(wp),
              [pa] "=&r"(pa), [v] "=&r"(v), [u] "=&r"(u)
            : [n] "r"(ntaps), [xb] "r"(xb)
            : "memory");
    } else {
        for (int32_t t = 0; t < ntaps; t++) {
            const int8_t *xp = xb + xoff[t];
            const int16_t *wp = interior ? wg + 4 * t : wg + wsel[t];
            if (shared) {
                const int32_t v = xp[0] - z;
                a0 += wp[0] * v;
                a1 += wp[1] * v;
                a2 += wp[2] * v;
                a3 += wp[3] * v;
            } else {
                a0 += wp[0] * (xp[0] - z);
                a1 += wp[1] * (xp[1] - z);
                a2 += wp[2] * (xp[2] - z);
                a3 += wp[3] * (xp[3] - z);
            }
        }
    }
    y[c0] = requant1(rq, c0, a0, lo, hi);
    y[c0 + 1] = requant1(rq, c0 + 1, a1, lo, hi);
    y[c0 + 2] = requant1(rq, c0 + 2, a2, lo, hi);
    y[c0 + 3] = requant1(rq, c0 + 3, a3, lo, hi);
}

static int32_t arch_eval_int8(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    if (plane_path(c)) {
        return plane_eval(m, n, c);
    }
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    int8_t *y = (int8_t *)c->out->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, cout = g->out_c, taps = g->k_h * g->k_w;
    const int32_t dm = c->dm, lo = p->act_lo, hi = p->act_hi;
    // Scratch: bias - Z_in * sum(w) per channel, the bias alone (border pixels), then the tap offsets (into
    // the input, into the filter) of all taps and of one border pixel's valid taps, then the requantization
    // constants and the int16 filter.
    int32_t *folded = tm_scratch(m, n), *plain = folded + cout;
    int32_t *xoff = plain + cout, *woff = xoff + taps, *bxoff = woff + taps, *bwoff = bxoff + taps;
    xt_rq_t *rq = (xt_rq_t *)(bwoff + taps);
    // The filter as int16 (no sign extension in the loop), four channels' taps contiguous: [cout / 4][taps][4].
    int16_t *wide = (int16_t *)(rq + cout);
    for (int32_t ch = 0; ch < cout; ch++) {
        int32_t s = 0;
        for (int32_t t = 0; t < taps; t++) {
            s += w[t * cout + ch];
        }
        plain[ch] = bias ? bias[ch] : 0;
        folded[ch] = plain[ch] - zi * s;
        rq[ch] = xt_rq(p->q[ch].multiplier, p->q[ch].shift, zo, xt_acc_bound(plain[ch], taps));
    }
    for (int32_t ky = 0, t = 0; ky < g->k_h; ky++) {
        for (int32_t kx = 0; kx < g->k_w; kx++, t++) {
            xoff[t] = (ky * g->dil_h * g->in_w + kx * g->dil_w) * g->in_c;
            woff[t] = t * cout;
        }
    }
    // Channels in fours where the four read four input channels (dm = 1) or one (dm a multiple of 4).
    const int shared = dm % XT_LANES == 0;
    const int32_t c4 = (dm == 1 || shared) ? cout - cout % XT_LANES : 0;
    for (int32_t c0 = 0; c0 < c4; c0 += XT_LANES) {
        for (int32_t t = 0; t < taps; t++) {
            for (int32_t j = 0; j < XT_LANES; j++) {
                wide[(c0 * taps) + XT_LANES * t + j] = w[t * cout + c0 + j];
            }
        }
    }
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            int32_t ky0, ky1;
            tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < g->out_w; ox++, y += cout) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                int32_t kx0, kx1;
                tap_range(x0, g->k_w, g->dil_w, g->in_w, &kx0, &kx1);
                const int32_t base = ((b * g->in_h + y0) * g->in_w + x0) * g->in_c;
                int32_t c0 = 0;
                if (ky0 == 0 && ky1 == g->k_h && kx0 == 0 && kx1 == g->k_w) {
                    if (shared) {
                        for (; c0 < c4; c0 += XT_LANES) {
                            lanes4(rq, x, base, wide + c0 * taps, xoff, 0, taps, 0, folded, c0, c0 / dm, 1, 1, lo, hi, y);
                        }
                    } else {
                        for (; c0 < c4; c0 += XT_LANES) {
                            lanes4(rq, x, base, wide + c0 * taps, xoff, 0, taps, 0, folded, c0, c0, 0, 1, lo, hi, y);
                        }
                    }
                } else if (c4 > 0) {
                    int32_t nb = 0;
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        for (int32_t kx = kx0; kx < kx1; kx++, nb++) {
                            bxoff[nb] = xoff[ky * g->k_w + kx];
                            bwoff[nb] = XT_LANES * (ky * g->k_w + kx);   // into a group's int16 taps
                        }
                    }
                    if (shared) {
                        for (; c0 < c4; c0 += XT_LANES) {
                            lanes4(rq, x, base, wide + c0 * taps, bxoff, bwoff, nb, zi, plain, c0, c0 / dm, 1, 0, lo, hi,
                                   y);
                        }
                    } else {
                        for (; c0 < c4; c0 += XT_LANES) {
                            lanes4(rq, x, base, wide + c0 * taps, bxoff, bwoff, nb, zi, plain, c0, c0, 0, 0, lo, hi, y);
                        }
                    }
                }
                for (; c0 < cout; c0++) {     // the last cout % 4 channels (every channel for other dm), one by one
                    const int32_t xc = c0 / dm;
                    int32_t a = plain[c0];
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        for (int32_t kx = kx0; kx < kx1; kx++) {
                            const int32_t t = ky * g->k_w + kx;
                            a += w[woff[t] + c0] * (x[base + xoff[t] + xc] - zi);
                        }
                    }
                    y[c0] = requant1(rq, c0, a, lo, hi);
                }
            }
        }
    }
    return cout;
}
