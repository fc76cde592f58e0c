// DEPTHWISE_CONV_2D on Cortex-M4/M7 (armv7emsp): the DSP-extension fast paths of the int8 kernel, partly
// assembly.
//
// The build compiles this file instead of kernels/depthwise_conv_2d.c for armv7emsp (not for `tinyml pack
// --small`). It includes that portable kernel, which keeps the parsing, checks, prepare, the float32 path and
// the int8 loop for what these paths leave, and supplies its hooks arch_scratch_bytes and arch_eval_int8 (at
// the end of this file). Same integers as the portable path, so no tolerance (docs/architecture.md).
#if !defined(__ARM_FEATURE_DSP) || defined(TM_SMALL)
#error "kernels/cortex_m4/ needs the Cortex-M4 DSP extension (armv7emsp) and is left out of small builds"
#endif
#define TM_ARCH_KERNEL 1
#include "../depthwise_conv_2d.c"
#include "arm_dsp.h"

// The DSP path's case of one input channel (see dw_cin1_dsp).
static int dw_cin1_ok(const dw_t *c) {
    return c->g.in_c == 1 && c->g.dil_w == 1 && (c->g.k_w & 3) == 0 && (c->g.out_c & 3) == 0;
}

// 3x3 windows, undilated, sweep stride 1 or 2 (most depthwise layers): a faster path on planes.
// Multiplier 1 with channels in fours, or one input channel with any multiplier. The input rows a
// window needs are widened into int16 planes, one per input channel, with x - Z_in and zero columns for
// the padding (zero contributes nothing, as TFLM's skipped taps), held in a ring of three rows. In a plane,
// a word holds two horizontally adjacent values, so SMLAD multiplies a pair of taps, and four adjacent
// outputs of one channel share the words they read (8 multiplies for 12 products per filter row).
// No border tests are left. One assembly routine does a row of outputs of one channel, requantization
// included. Layers that are long and narrow (kws: 25 x 5) are swept along their long side ("transposed":
// rows and columns swap roles), so that fewer outputs fall in groups of less than four.
//
// Requantization with SMMLAR: with acc2 = 2 * acc (filter and bias are doubled for free),
//   SMMLAR(acc2, M, c) = floor((acc2 * M + c * 2^32 + 2^31) / 2^32) = floor((acc * M + 2^30) / 2^31) + c
// which is TFLM's first rounding plus c. With c = 2^(e-1) - [acc < 0] + Z_out * 2^e, an arithmetic shift
// by e = -shift gives both roundings and Z_out (see tm_rq_t in arm_dsp.h for why [acc < 0] serves).
// Valid while no int32 overflows: checked per channel (|acc| < 2^30, |r + c| < 2^31); a channel that fails,
// or whose shift is not negative, takes a plain C loop over the same planes.

enum { DW3_HDR = 8 };   // rec words before the filter rows: 2 * bias four times, k, M, e, hi

typedef struct {
    int32_t rows_in, cols_in, rows_out, cols_out;   // "rows": the ring's dimension; "cols": the sweep
    int32_t stride_r, stride_c, pad_r, pad_c;
    int32_t x_row, x_col, y_row, y_col, w_row, w_col;   // byte steps (input, output), tap steps (filter)
    int32_t planes, chans, rw;   // planes and output channels per block, filter words per row in a rec
    int32_t wp;                  // plane row length (int16, even): every column a group reads
    int32_t nbuf;                // rows per plane: 3 (a ring) or all a block needs
    uint32_t scratch;
} dw3_geom_t;

// One output row of a block for the assembly (it advances b, y, rec and nc channel by channel).
typedef struct {
    const int16_t *b;   // the channel's plane, ring row 0, column 0
    int8_t *y;          // the channel's first output
    const int32_t *rec; // the channel's rec (see dw3_rec)
    int32_t nc;         // channels left
    int32_t db;         // bytes between the channels' planes (0: they share one)
    int32_t ys;         // bytes between outputs
    int32_t end;        // bytes of plane the groups of four cover
    int32_t tail;       // outputs left after them (0..3)
    int32_t wofs;       // bytes from a rec to its filter words for ring row 0
    int32_t nrows;      // output rows
    int32_t rstep;      // bytes of plane between output rows
    int32_t ystep;      // bytes between output rows
} dw3_row_t;
// The assembly (DW3_KERNEL) reads b, y, rec, nc, db with one LDM, ys, end, tail with another from DW3_ROW_YS,
// rstep and ystep with LDRD, and rec, wofs, nrows alone.
#define DW3_ROW_REC 8
#define DW3_ROW_YS 20
#define DW3_ROW_WOFS 32
#define DW3_ROW_NROWS 36
#define DW3_ROW_RSTEP 40
TM_ASM_OFFSET(dw3_row_t, b, 0);
TM_ASM_OFFSET(dw3_row_t, y, 4);
TM_ASM_OFFSET(dw3_row_t, rec, DW3_ROW_REC);
TM_ASM_OFFSET(dw3_row_t, nc, DW3_ROW_REC + 4);
TM_ASM_OFFSET(dw3_row_t, db, DW3_ROW_REC + 8);
TM_ASM_OFFSET(dw3_row_t, ys, DW3_ROW_YS);
TM_ASM_OFFSET(dw3_row_t, end, DW3_ROW_YS + 4);
TM_ASM_OFFSET(dw3_row_t, tail, DW3_ROW_YS + 8);
TM_ASM_OFFSET(dw3_row_t, wofs, DW3_ROW_WOFS);
TM_ASM_OFFSET(dw3_row_t, nrows, DW3_ROW_NROWS);
TM_ASM_OFFSET(dw3_row_t, rstep, DW3_ROW_RSTEP);
TM_ASM_OFFSET(dw3_row_t, ystep, DW3_ROW_RSTEP + 4);

// Extra assembly cost of a line of n outputs when groups of four do not fit (instructions, measured).
static int32_t dw3_line_cost(int32_t n) {
    return 64 * (n >> 2) + ((n & 2) ? 40 : 0) + ((n & 1) ? 30 : 0) + 20;
}

static int dw3_plan(const dw_t *c, dw3_geom_t *d) {
    const tm_window_t *g = &c->g;
    if (g->k_h != 3 || g->k_w != 3 || g->dil_h != 1 || g->dil_w != 1) {
        return 0;
    }
    if (!((c->dm == 1 && (g->in_c & 3) == 0) || g->in_c == 1)) {
        return 0;
    }
    const int32_t cin = g->in_c, cout = g->out_c;
    // Sweep along the width unless the height gives fewer short groups (and its stride fits).
    int transposed = (g->stride_h == 1 || g->stride_h == 2) &&
                     g->out_w * dw3_line_cost(g->out_h) < g->out_h * dw3_line_cost(g->out_w);
    if (!transposed && g->stride_w != 1 && g->stride_w != 2) {
        return 0;
    }
    if (!transposed) {
        d->rows_in = g->in_h; d->cols_in = g->in_w; d->rows_out = g->out_h; d->cols_out = g->out_w;
        d->stride_r = g->stride_h; d->stride_c = g->stride_w; d->pad_r = g->pad_h; d->pad_c = g->pad_w;
        d->x_row = g->in_w * cin; d->x_col = cin; d->y_row = g->out_w * cout; d->y_col = cout;
        d->w_row = 3; d->w_col = 1;
    } else {
        d->rows_in = g->in_w; d->cols_in = g->in_h; d->rows_out = g->out_w; d->cols_out = g->out_h;
        d->stride_r = g->stride_w; d->stride_c = g->stride_h; d->pad_r = g->pad_w; d->pad_c = g->pad_h;
        d->x_row = cin; d->x_col = g->in_w * cin; d->y_row = cout; d->y_col = g->out_w * cout;
        d->w_row = 1; d->w_col = 3;
    }
    d->planes = cin == 1 ? 1 : 4;
    d->chans = cin == 1 ? (c->dm < 8 ? c->dm : 8) : 4;
    d->rw = d->stride_c == 1 ? 3 : 2;
    // The last output starting at column j, a group reads up to column j + 3 (a word past a single
    // output; the column past a window is read but never multiplied).
    int32_t wp = d->stride_c * (d->cols_out - 1) + 4;
    wp = (wp + 1) & ~1;
    d->wp = wp;
    // Narrow layers hold every input row a block needs (when that is small), so that one call of the
    // assembly does all output rows and the padding rows are zeroed once; the others a ring of three.
    const int32_t all = (d->rows_out - 1) * d->stride_r + 3;
    d->nbuf = d->cols_out <= 12 && d->planes * all * wp * 2 <= 2048 ? all : 3;
    d->scratch = (uint32_t)d->chans * (DW3_HDR + 5 * d->rw) * 4u + (uint32_t)(d->planes * d->nbuf * wp) * 2u;
    return 1;
}

// K x 1 or 1 x K windows (temporal convolutions of audio models: NHWC with W = 1, kernels K x 1), multiplier
// 1, channels in fours, stride 1 or 2 along the line: every column (or row) is a 1-D convolution. Four
// channels' lines are widened into int16 planes (x - Z_in, zeros for the padding), a chunk of outputs at a
// time so the scratch stays small; in a plane a word holds positions (2i, 2i + 1), so SMLAD multiplies a
// pair of taps. With stride 1, odd outputs read the same words as even ones against a filter shifted by one
// tap (odd-aligned words (w[2j-1], w[2j]), w[-1] = w[K] = 0), so four outputs share each word loaded.
// Filter and bias are doubled, so the requantization is one SMMLAR (tm_rq2_apply); a channel it cannot
// represent (or whose sums could overflow) takes a plain C loop over the same plane. Lines of fewer than
// four outputs skip the planes (dwl_direct).
enum { DWL_HDR = 4, DWL_CHUNK = 32 };   // rec: 2 * bias, the filter words, then M, c, e (0: C loop)

typedef struct {
    int32_t len_in, len_out, k, stride, pad;   // along the line
    int32_t x_step, y_step;                   // bytes between line positions (input, output)
    int32_t n_other, x_other, y_other;        // lines, and bytes between their starts (input, output)
    int32_t chunk, pl, nw, nrec;              // outputs per chunk, plane length (int16), tap pairs, rec words
    uint32_t scratch;
} dwl_geom_t;

static int dwl_plan(const dw_t *c, dwl_geom_t *d) {
    const tm_window_t *g = &c->g;
    const int32_t cin = g->in_c;
    if (c->dm != 1 || (cin & 3) != 0) {
        return 0;
    }
    if (g->k_w == 1 && g->k_h > 1 && g->dil_h == 1) {   // K x 1: lines along the height
        d->len_in = g->in_h; d->len_out = g->out_h; d->k = g->k_h; d->stride = g->stride_h; d->pad = g->pad_h;
        d->x_step = g->in_w * cin; d->y_step = g->out_w * cin;
        d->n_other = g->out_w; d->x_other = g->stride_w * cin; d->y_other = cin;
    } else if (g->k_h == 1 && g->k_w > 1 && g->dil_w == 1) {   // 1 x K: lines along the width
        d->len_in = g->in_w; d->len_out = g->out_w; d->k = g->k_w; d->stride = g->stride_w; d->pad = g->pad_w;
        d->x_step = cin; d->y_step = cin;
        d->n_other = g->out_h; d->x_other = g->stride_h * g->in_w * cin; d->y_other = g->out_w * cin;
    } else {
        return 0;
    }
    if ((d->stride != 1 && d->stride != 2) || d->k > 64) {
        return 0;
    }
    d->chunk = d->len_out < DWL_CHUNK ? d->len_out : DWL_CHUNK;
    // Stride 1: a group of four at o reads up to position o + 2 * (K / 2) + 3, a pair o + 2 * (K / 2) + 1;
    // stride 2: a pair at o up to 2 * o + K + 2 (K rounded up to even). (See dwl_fill for what they hold.)
    d->pl = (d->stride * d->chunk + d->k + 2) & ~1;
    d->nw = d->stride == 1 ? d->k / 2 + 1 : (d->k + 1) / 2;
    d->nrec = DWL_HDR + 2 * d->nw;
    d->scratch = d->len_out < 4 ? 0 : 4u * (uint32_t)d->nrec * 4u + 4u * (uint32_t)d->pl * 2u;
    return 1;
}


// Cortex-M4/M7: the output channels are visited in blocks of four, each block over all output pixels, so
// that its filter, requantization constants and bias stay at hand. One word of input holds four channels
// (multiplier 1); SXTAB16 splits it into channels (0, 2) and (1, 3) as int16 x - Z_in, and SMLABB/SMLATT
// accumulate each half against the same split of the filter. The block's filter is widened once into
// scratch ([tap][2 words], 8 bytes per tap), so the scratch is small: the per-channel constants are not
// tabulated and the filter is never widened whole. Pixels whose window lies inside the image read their
// taps at fixed offsets from the window's corner (a table of taps words); the others visit only the valid
// taps, as TFLM does (integer sums make the order irrelevant).

// Output positions [lo, hi) along one dimension whose whole window lies inside the input (hi >= lo).
static void interior_range(int32_t pad, int32_t stride, int32_t keff, int32_t in, int32_t out, int32_t *lo,
    int32_t *hi) {
    int32_t a = (pad + stride - 1) / stride, t = in - 1 + pad - keff;
    int32_t b = t < 0 ? 0 : t / stride + 1;
    a = a < out ? a : out;
    b = b < out ? b : out;
    *lo = a;
    *hi = b < a ? a : b;
}

// Four channels' products over all taps of an interior window at xb (tap offsets toff, widened filter wp).
__attribute__((always_inline))
static inline void dw_taps4(const int8_t *xb, const int32_t *toff, const uint32_t *wp, int32_t taps,
    int32_t off, int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (taps == 9) {
        // GCC schedules the unrolled C badly (spills, reloads), so each tap is one block of assembly.
        uint32_t v, x02, w02, w13;
#define DW_TAP_ASM(k)                                                                                        \
        __asm__ ("ldr     %[v], [%[toff], #4*" #k "]\n\t"                                                     \
                 "ldr     %[v], [%[xb], %[v]]\n\t"                                                           \
                 "ldrd    %[w02], %[w13], [%[wp], #8*" #k "]\n\t"                                          \
                 "sxtab16 %[x02], %[off], %[v]\n\t"                                                         \
                 "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                                   \
                 "smlabb  %[a0], %[x02], %[w02], %[a0]\n\t"                                                 \
                 "smlatt  %[a2], %[x02], %[w02], %[a2]\n\t"                                                 \
                 "smlabb  %[a1], %[v], %[w13], %[a1]\n\t"                                                   \
                 "smlatt  %[a3], %[v], %[w13], %[a3]"                                                       \
                 : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [v] "=&r" (v),         \
                   [x02] "=&r" (x02), [w02] "=&r" (w02), [w13] "=&r" (w13)                                 \
                 : [toff] "r" (toff), [xb] "r" (xb), [wp] "r" (wp), [off] "r" (off)                        \
                 : "memory")
        DW_TAP_ASM(0); DW_TAP_ASM(1); DW_TAP_ASM(2); DW_TAP_ASM(3); DW_TAP_ASM(4); DW_TAP_ASM(5);
        DW_TAP_ASM(6); DW_TAP_ASM(7); DW_TAP_ASM(8);
#undef DW_TAP_ASM
    } else {
        for (int32_t k = 0; k < taps; k++) {
            const uint32_t v = tm_ld32(xb + toff[k]);
            const int32_t x02 = tm_sxtab16(off, v), x13 = tm_sxtab16_ror8(off, v);
            a0 = __smlabb(x02, (int32_t)wp[2 * k], a0);
            a2 = __smlatt(x02, (int32_t)wp[2 * k], a2);
            a1 = __smlabb(x13, (int32_t)wp[2 * k + 1], a1);
            a3 = __smlatt(x13, (int32_t)wp[2 * k + 1], a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

// A window that crosses the image's edge, all channel blocks of output pixel (b, oy, ox): only the valid taps
// are visited, the filter is read in place (SXTB16 splits a word of four channels' bytes as SXTAB16 does the
// input's) and the requantization constants are derived per output. Multiplier 1 reads four channels per
// input word; a multiple of four reads one input channel for the four (also inside the image: such layers
// have few channels, so this is not worth a faster path).
__attribute__((always_inline))
static inline void dw_pixel_dsp(const dw_t *c, const params_t *p, int32_t b, int32_t oy, int32_t ox, int full,
    int multi) {
    const tm_window_t *g = &c->g;
    const int32_t cin = g->in_c, cout = g->out_c, cout4 = cout & ~3, zi = c->in->zero_point;
    const int32_t zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi, off = tm_neg_pair(zi);
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    int32_t ky0, ky1, kx0, kx1;
    tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
    tap_range(x0, g->k_w, g->dil_w, g->in_w, &kx0, &kx1);
    const int32_t nkx = kx1 - kx0, xstep = g->dil_w * cin, ystep = g->dil_h * g->in_w * cin;
    const int32_t wrow = g->k_w * cout;   // filter taps are not dilated
    const int8_t *x = (const int8_t *)c->in->data +
                      ((b * g->in_h + y0 + ky0 * g->dil_h) * g->in_w + x0 + kx0 * g->dil_w) * cin;
    const int8_t *w = (const int8_t *)c->w->data + (ky0 * g->k_w + kx0) * cout;
    int8_t *y = (int8_t *)c->out->data + ((b * g->out_h + oy) * g->out_w + ox) * cout;
    for (int32_t c0 = 0; c0 < cout4; c0 += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (bias) {
            a0 = bias[c0];
            a1 = bias[c0 + 1];
            a2 = bias[c0 + 2];
            a3 = bias[c0 + 3];
        }
        const int8_t *xr = x + (multi ? c0 / c->dm : c0), *wr = w + c0;
        for (int32_t ky = ky0; ky < ky1; ky++, xr += ystep, wr += wrow) {
            const int8_t *xq = xr, *wq = wr;
            for (int32_t kx = nkx; kx > 0; kx--, xq += xstep, wq += cout) {
                int32_t x02, x13;
                if (multi) {
                    const int32_t v = *xq - zi;
                    x02 = x13 = (int32_t)(((uint32_t)v & 0xffffu) | ((uint32_t)v << 16));
                } else {
                    const uint32_t v = tm_ld32(xq);
                    x02 = tm_sxtab16(off, v);
                    x13 = tm_sxtab16_ror8(off, v);
                }
                const uint32_t wv = tm_ld32(wq);
                const int32_t w02 = tm_sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
                a0 = __smlabb(x02, w02, a0);
                a2 = __smlatt(x02, w02, a2);
                a1 = __smlabb(x13, w13, a1);
                a3 = __smlatt(x13, w13, a3);
            }
        }
        tm_rq_t q = tm_rq(p->q[c0].multiplier, p->q[c0].shift);
        y[c0] = (int8_t)tm_rq_out(a0, &q, zo, lo, hi, full);
        q = tm_rq(p->q[c0 + 1].multiplier, p->q[c0 + 1].shift);
        y[c0 + 1] = (int8_t)tm_rq_out(a1, &q, zo, lo, hi, full);
        q = tm_rq(p->q[c0 + 2].multiplier, p->q[c0 + 2].shift);
        y[c0 + 2] = (int8_t)tm_rq_out(a2, &q, zo, lo, hi, full);
        q = tm_rq(p->q[c0 + 3].multiplier, p->q[c0 + 3].shift);
        y[c0 + 3] = (int8_t)tm_rq_out(a3, &q, zo, lo, hi, full);
    }
}

// Multiplier 1, the four channels [c0, c0 + 4) of all output pixels inside the image (span: rows and
// columns [span[0], span[1]) x [span[2], span[3])).
__attribute__((always_inline))
static inline void dw_block_dsp(const dw_t *c, const params_t *p, const int32_t *toff, uint32_t *wide,
    int32_t c0, const int32_t *span, int full) {
    const tm_window_t *g = &c->g;
    const int8_t *w = (const int8_t *)c->w->data + c0;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data + c0 : 0;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi;
    const int32_t cin = g->in_c, cout = g->out_c, off = tm_neg_pair(zi), taps = g->k_h * g->k_w;
    tm_rq_t rq[4];
    int32_t b4[4] = { 0, 0, 0, 0 };
    for (int j = 0; j < 4; j++) {
        rq[j] = tm_rq(p->q[c0 + j].multiplier, p->q[c0 + j].shift);
        b4[j] = bias ? bias[j] : 0;
    }
    for (int32_t k = 0; k < taps; k++) {
        const uint32_t v = tm_ld32(w + k * cout);
        wide[2 * k] = (uint32_t)tm_sxtb16(v);
        wide[2 * k + 1] = (uint32_t)tm_sxtb16_ror8(v);
    }
    const int32_t xstep = g->stride_w * cin, n = span[3] - span[2];
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = span[0]; oy < span[1]; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = span[2] * g->stride_w - g->pad_w;
            const int8_t *xb = (const int8_t *)c->in->data + ((b * g->in_h + y0) * g->in_w + x0) * cin + c0;
            int8_t *y = (int8_t *)c->out->data + ((b * g->out_h + oy) * g->out_w + span[2]) * cout + c0;
            for (int32_t i = n; i > 0; i--, xb += xstep, y += cout) {
                int32_t acc[4] = { b4[0], b4[1], b4[2], b4[3] };
                dw_taps4(xb, toff, wide, taps, off, acc);
                y[0] = (int8_t)tm_rq_out(acc[0], &rq[0], zo, lo, hi, full);
                y[1] = (int8_t)tm_rq_out(acc[1], &rq[1], zo, lo, hi, full);
                y[2] = (int8_t)tm_rq_out(acc[2], &rq[2], zo, lo, hi, full);
                y[3] = (int8_t)tm_rq_out(acc[3], &rq[3], zo, lo, hi, full);
            }
        }
    }
}

// One input channel (so the multiplier is the channel count, a multiple of four), undilated rows of a
// multiple of four taps: such a layer is a convolution over one channel, so pairs of taps meet pairs of
// filter values in SMLAD. Two channels at a time over all pixels: their filter is widened into scratch as
// [tap group of four][channel][2 words] (SXTB16's pairing: taps (0, 2) and (1, 3)), and four input bytes
// of a row give two words by SXTAB16. Windows crossing the image's edge are first staged with Z_in in
// place of the missing taps (which then contribute 0).
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))   // (no memset/memcpy calls)
static void dw_cin1_dsp(const dw_t *c, const params_t *p, void *scratch) {
    const tm_window_t *g = &c->g;
    const int32_t cout = g->out_c, kw = g->k_w, groups = g->k_h * kw >> 2, zi = c->in->zero_point;
    const int32_t zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi, off = tm_neg_pair(zi);
    const uint32_t zi4 = (uint32_t)(uint8_t)zi * 0x01010101u;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    const int8_t *x = (const int8_t *)c->in->data;
    uint32_t *wide = scratch;
    int8_t *stage = (int8_t *)(wide + 4 * groups);
    int32_t span[4];
    interior_range(g->pad_h, g->stride_h, (g->k_h - 1) * g->dil_h, g->in_h, g->out_h, &span[0], &span[1]);
    interior_range(g->pad_w, g->stride_w, kw - 1, g->in_w, g->out_w, &span[2], &span[3]);
    const uint32_t acc_limit = (1u << 30) - (uint32_t)(g->k_h * kw) * (255u * 128u);
    for (int32_t c0 = 0; c0 < cout; c0 += 2) {
        const int8_t *w = (const int8_t *)c->w->data + c0;
        const tm_channel_q_t *qc = &p->q[c0];
        int32_t bias0 = bias ? bias[c0] : 0, bias1 = bias ? bias[c0 + 1] : 0;
        // Both channels' requantization as one SMMLAR (tm_rq2) when it can represent them and |acc| < 2^30:
        // then filter and bias are doubled (as tm_rq2_apply wants).
        const int dbl = tm_rq2_ok(qc[0].multiplier, qc[0].shift) && tm_rq2_ok(qc[1].multiplier, qc[1].shift) &&
                        (uint32_t)(bias0 < 0 ? -(int64_t)bias0 : bias0) < acc_limit &&
                        (uint32_t)(bias1 < 0 ? -(int64_t)bias1 : bias1) < acc_limit;
        const uint32_t dmask = dbl ? 0xfffefffeu : 0xffffffffu;   // (x << 1: int16 halves doubled)
        for (int32_t t = 0; t < groups; t++) {
            for (int j = 0; j < 2; j++) {
                const int8_t *wt = w + 4 * t * cout + j;
                const uint32_t v = (uint32_t)(uint8_t)wt[0] | (uint32_t)(uint8_t)wt[cout] << 8 |
                                   (uint32_t)(uint8_t)wt[2 * cout] << 16 | (uint32_t)(uint8_t)wt[3 * cout] << 24;
                wide[4 * t + 2 * j] = ((uint32_t)tm_sxtb16(v) << dbl) & dmask;
                wide[4 * t + 2 * j + 1] = ((uint32_t)tm_sxtb16_ror8(v) << dbl) & dmask;
            }
        }
        tm_rq2_t r0 = { 0, 0, 0 }, r1 = { 0, 0, 0 };
        if (dbl) {
            r0 = tm_rq2(qc[0].multiplier, qc[0].shift, zo);
            r1 = tm_rq2(qc[1].multiplier, qc[1].shift, zo);
            bias0 = (int32_t)((uint32_t)bias0 << 1);
            bias1 = (int32_t)((uint32_t)bias1 << 1);
        }
        int8_t *y = (int8_t *)c->out->data + c0;
        for (int32_t b = 0; b < g->batches; b++) {
            for (int32_t oy = 0; oy < g->out_h; oy++) {
                const int32_t y0 = oy * g->stride_h - g->pad_h;
                const int rowin = oy >= span[0] && oy < span[1];
                for (int32_t ox = 0; ox < g->out_w; ox++, y += cout) {
                    const int32_t x0 = ox * g->stride_w - g->pad_w;
                    // Rows outside the image are skipped; a window crossing a side is staged row by row.
                    int32_t ky0 = 0, ky1 = g->k_h, kx0 = 0, kx1 = kw;
                    if (!rowin) {
                        tap_range(y0, g->k_h, g->dil_h, g->in_h, &ky0, &ky1);
                    }
                    const int8_t *xr = x + (b * g->in_h + y0 + ky0 * g->dil_h) * g->in_w + x0;
                    int32_t rstep = g->dil_h * g->in_w;
                    if (ox < span[2] || ox >= span[3]) {
                        tap_range(x0, kw, 1, g->in_w, &kx0, &kx1);
                        int8_t *d = stage;
                        for (int32_t ky = ky0; ky < ky1; ky++, xr += rstep, d += kw) {
                            // Z_in four bytes at a time (kw is a multiple of 4), then the taps inside.
                            for (int32_t kx = 0; kx < kw; kx += 4) {
                                *(uint32_t *)(d + kx) = zi4;
                            }
                            for (int32_t kx = kx0; kx < kx1; kx++) {
                                d[kx] = xr[kx];
                            }
                        }
                        xr = stage;
                        rstep = kw;
                    }
                    int32_t a0 = bias0, a1 = bias1;
                    const uint32_t *wp = wide + ky0 * kw;
                    if (kw == 8 && ky1 > ky0) {
                        // (micro_speech's rows of 8 taps: the row loop in the assembly too, 21 per 16 MACs)
                        const int8_t *xq = xr;
                        int32_t rows = ky1 - ky0;
                        uint32_t v, x02, wa, wb;
#define DW_CIN1_WORD(OFS)                                                                                    \
                        "ldr     %[v], [%[xq], #" OFS "]\n\t"                                                 \
                        "ldrd    %[wa], %[wb], [%[wp]], #8\n\t"                                            \
                        "sxtab16 %[x02], %[off], %[v]\n\t"                                                 \
                        "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                           \
                        "smlad   %[a0], %[x02], %[wa], %[a0]\n\t"                                          \
                        "smlad   %[a0], %[v], %[wb], %[a0]\n\t"                                            \
                        "ldrd    %[wa], %[wb], [%[wp]], #8\n\t"                                            \
                        "smlad   %[a1], %[x02], %[wa], %[a1]\n\t"                                          \
                        "smlad   %[a1], %[v], %[wb], %[a1]\n\t"
                        __asm__ ("1:\n\t"
                                 DW_CIN1_WORD("0") DW_CIN1_WORD("4")
                                 "add     %[xq], %[xq], %[rstep]\n\t"
                                 "subs    %[rows], %[rows], #1\n\t"
                                 "bne     1b"
                                 : [a0] "+r" (a0), [a1] "+r" (a1), [xq] "+r" (xq), [wp] "+r" (wp),
                                   [rows] "+r" (rows), [v] "=&r" (v), [x02] "=&r" (x02), [wa] "=&r" (wa),
                                   [wb] "=&r" (wb)
                                 : [off] "r" (off), [rstep] "r" (rstep)
                                 : "cc", "memory");
#undef DW_CIN1_WORD
                        ky0 = ky1;   // (done)
                    }
                    for (int32_t ky = ky1 - ky0; ky > 0; ky--, xr += rstep) {
                        const int8_t *xq = xr;
                        int32_t n = kw >> 2;
                        uint32_t v, x02, wa, wb;
                        // GCC spills the filter words of the C loop; 11 instructions per 8 MACs here.
                        __asm__ ("1:\n\t"
                                 "ldr     %[v], [%[xq]], #4\n\t"
                                 "ldrd    %[wa], %[wb], [%[wp]], #8\n\t"
                                 "sxtab16 %[x02], %[off], %[v]\n\t"
                                 "sxtab16 %[v], %[off], %[v], ror #8\n\t"
                                 "smlad   %[a0], %[x02], %[wa], %[a0]\n\t"
                                 "smlad   %[a0], %[v], %[wb], %[a0]\n\t"
                                 "ldrd    %[wa], %[wb], [%[wp]], #8\n\t"
                                 "smlad   %[a1], %[x02], %[wa], %[a1]\n\t"
                                 "smlad   %[a1], %[v], %[wb], %[a1]\n\t"
                                 "subs    %[n], %[n], #1\n\t"
                                 "bne     1b"
                                 : [a0] "+r" (a0), [a1] "+r" (a1), [xq] "+r" (xq), [wp] "+r" (wp), [n] "+r" (n),
                                   [v] "=&r" (v), [x02] "=&r" (x02), [wa] "=&r" (wa), [wb] "=&r" (wb)
                                 : [off] "r" (off)
                                 : "cc", "memory");
                    }
                    if (dbl) {
                        y[0] = (int8_t)tm_clamp(tm_rq2_apply(a0, &r0), lo, hi);
                        y[1] = (int8_t)tm_clamp(tm_rq2_apply(a1, &r1), lo, hi);
                    } else {
                        y[0] = (int8_t)tm_clamp(tm_mbqm(a0, qc[0].multiplier, qc[0].shift) + zo, lo, hi);
                        y[1] = (int8_t)tm_clamp(tm_mbqm(a1, qc[1].multiplier, qc[1].shift) + zo, lo, hi);
                    }
                }
            }
        }
    }
}

// The assembly: output rows of a block (a: the dw3_row_t), channel after channel, row after row. b (r0)
// is the first output's column in the first plane row of the window, rs (r1) the bytes between plane rows,
// W (r2) the filter words of window rows 0-2 (rw words per row). Frame: [sp] 2 * bias four times (one LDM
// fills four sums), [sp + 16] k, M, e, hi, [sp + 32] y, ys, end of the groups of four, tail, [sp + 48] a,
// [sp + 52] the row's b and y, rows left. In a group:
// sums r3-r6, input words r7-r9 (stride 1) or r7-r11 (stride 2), filter words r10-r12 or r12/lr.
// Stride 1, with filter words W01 = (w0, w1), W12 = (w1, w2), Wr = (w2, w0), input words (x0, x1), ...:
//   y0 = SMLAD(x01, W01) + x2 w2    y1 = x1 w0 + SMLAD(x23, W12)
//   y2 = SMLAD(x23, W01) + x4 w2    y3 = x3 w0 + SMLAD(x45, W12)
// Stride 2, with W01 and w2: yi = SMLAD(x(2i, 2i+1), W01) + x(2i+2) w2.
#define DW3_S1_MUL2 "smlad r3, r7, r10, r3\n\t" "smlabb r3, r8, r12, r3\n\t"
#define DW3_S1_MUL4 DW3_S1_MUL2 "smlatt r4, r7, r12, r4\n\t" "smlad r4, r8, r11, r4\n\t"
#define DW3_S1_MUL8 DW3_S1_MUL4 "smlad r5, r8, r10, r5\n\t" "smlabb r5, r9, r12, r5\n\t" \
                                "smlatt r6, r8, r12, r6\n\t" "smlad r6, r9, r11, r6\n\t"
#define DW3_S2_MUL2 "smlad r3, r7, r12, r3\n\t" "smlabb r3, r8, lr, r3\n\t"
#define DW3_S2_MUL4 DW3_S2_MUL2 "smlad r4, r8, r12, r4\n\t" "smlabb r4, r9, lr, r4\n\t"
#define DW3_S2_MUL8 DW3_S2_MUL4 "smlad r5, r9, r12, r5\n\t" "smlabb r5, r10, lr, r5\n\t" \
                                "smlad r6, r10, r12, r6\n\t" "smlabb r6, r11, lr, r6\n\t"
// The sums over three filter rows: X is the input words' register list, MUL the multiplies.
#define DW3_S1_ROWS(X, MUL)                                                                                  \
    "ldm sp, {r3-r6}\n\t"                                                                                    \
    "ldm r0, {" X "}\n\t" "ldm r2!, {r10-r12}\n\t" MUL                                                     \
    "add lr, r0, r1\n\t" "ldm lr, {" X "}\n\t" "ldm r2!, {r10-r12}\n\t" MUL                                \
    "add lr, r0, r1, lsl #1\n\t" "ldm lr, {" X "}\n\t" "ldm r2!, {r10-r12}\n\t" MUL                        \
    "sub r2, r2, #36\n\t"
#define DW3_S2_ROWS(X, MUL)                                                                                  \
    "ldm sp, {r3-r6}\n\t"                                                                                    \
    "ldm r0, {" X "}\n\t" "ldm r2!, {r12, lr}\n\t" MUL                                                     \
    "add r12, r0, r1\n\t" "ldm r12, {" X "}\n\t" "ldm r2!, {r12, lr}\n\t" MUL                              \
    "add r12, r0, r1, lsl #1\n\t" "ldm r12, {" X "}\n\t" "ldm r2!, {r12, lr}\n\t" MUL                      \
    "sub r2, r2, #24\n\t"
// Requantize sum A (k r7, M r8, e r9, hi r10): SMMLAR, shift, saturate to int8 (and clamp at hi).
#define DW3_RQ_FULL(A) "add lr, r7, " A ", asr #31\n\t" "smmlar " A ", " A ", r8, lr\n\t"                   \
                       "asr " A ", " A ", r9\n\t" "ssat " A ", #8, " A "\n\t"
#define DW3_RQ_HI(A) DW3_RQ_FULL(A) "cmp " A ", r10\n\t" "it gt\n\t" "movgt " A ", r10\n\t"
// Store 1, 2 or 4 sums (y r11, step r12), keeping y in the frame.
#define DW3_OUT_LOAD "add lr, sp, #16\n\t" "ldm lr, {r7-r12}\n\t"
#define DW3_OUT1(RQ) DW3_OUT_LOAD RQ("r3") "strb r3, [r11]\n\t"
#define DW3_OUT2(RQ) DW3_OUT_LOAD RQ("r3") "strb r3, [r11]\n\t" RQ("r4") "strb r4, [r11, r12]\n\t"          \
    "add r11, r11, r12, lsl #1\n\t" "str r11, [sp, #32]\n\t"
#define DW3_OUT4(RQ) DW3_OUT_LOAD RQ("r3") "strb r3, [r11]\n\t" RQ("r4") "strb r4, [r11, r12]\n\t"          \
    "add r11, r11, r12, lsl #1\n\t"                                                                          \
    RQ("r5") "strb r5, [r11]\n\t" RQ("r6") "strb r6, [r11, r12]\n\t"                                      \
    "add r11, r11, r12, lsl #1\n\t" "str r11, [sp, #32]\n\t"
// Per channel: groups of four until the end, then a pair and a single as the tail asks. Channels whose
// rec has e = 0 are left to C.
#define DW3_KERNEL(name, ROWS, X4, M8, X2, M4, X1, M2, STEP, NREC, RQ)                                    \
    __attribute__((naked, noinline))                                                                         \
    static void name(int32_t rs, dw3_row_t *a) {                                                            \
        __asm__ volatile (                                                                                   \
            "push {r4-r11, lr}\n\t"                                                                          \
            "sub sp, sp, #64\n\t"                                                                            \
            "mov r3, r1\n\t"                                                                                 \
            "mov r1, r0\n\t"                                                                                 \
            "str r3, [sp, #48]\n"                                                                            \
            "5:\n\t"                                                                                         \
            "ldr r8, [r3, #" TM_STR(DW3_ROW_REC) "]\n\t"                                                     \
            "ldr r2, [r3, #" TM_STR(DW3_ROW_WOFS) "]\n\t"                                                    \
            "add r2, r2, r8\n\t"                                                                             \
            "ldm r8, {r4-r11}\n\t"                                                                           \
            "stm sp, {r4-r11}\n\t"                                                                           \
            "cmp r10, #0\n\t"                                                                                \
            "beq 6f\n\t"                                                                                     \
            "ldm r3, {r0, r4}\n\t"                                                                           \
            "ldr r5, [r3, #" TM_STR(DW3_ROW_NROWS) "]\n\t"                                                   \
            "add r12, sp, #52\n\t"                                                                           \
            "stm r12, {r0, r4, r5}\n"                                                                        \
            "7:\n\t"                                                                                         \
            "add r12, r3, #" TM_STR(DW3_ROW_YS) "\n\t"                                                       \
            "ldm r12, {r5-r7}\n\t"                                                                           \
            "add r6, r6, r0\n\t"                                                                             \
            "add r12, sp, #32\n\t"                                                                           \
            "stm r12, {r4-r7}\n\t"                                                                           \
            "cmp r0, r6\n\t"                                                                                 \
            "beq 2f\n"                                                                                       \
            "1:\n\t"                                                                                         \
            ROWS(X4, M8) DW3_OUT4(RQ)                                                                        \
            "add r0, r0, #" #STEP "\n\t"                                                                     \
            "ldr lr, [sp, #40]\n\t"                                                                          \
            "cmp r0, lr\n\t"                                                                                 \
            "bne 1b\n"                                                                                       \
            "2:\n\t"                                                                                         \
            "ldr lr, [sp, #44]\n\t"                                                                          \
            "tst lr, #2\n\t"                                                                                 \
            "beq 3f\n\t"                                                                                     \
            ROWS(X2, M4) DW3_OUT2(RQ)                                                                        \
            "add r0, r0, #" #STEP "/2\n"                                                                     \
            "3:\n\t"                                                                                         \
            "ldr lr, [sp, #44]\n\t"                                                                          \
            "tst lr, #1\n\t"                                                                                 \
            "beq 8f\n\t"                                                                                     \
            ROWS(X1, M2) DW3_OUT1(RQ)                                                                        \
            "8:\n\t"                                                                                         \
            "ldr r3, [sp, #48]\n\t"                                                                          \
            "ldrd r5, r6, [r3, #" TM_STR(DW3_ROW_RSTEP) "]\n\t"                                              \
            "add r12, sp, #52\n\t"                                                                           \
            "ldm r12, {r0, r4, r7}\n\t"                                                                      \
            "add r0, r0, r5\n\t"                                                                             \
            "add r4, r4, r6\n\t"                                                                             \
            "subs r7, r7, #1\n\t"                                                                            \
            "stm r12, {r0, r4, r7}\n\t"                                                                      \
            "bne 7b\n"                                                                                       \
            "6:\n\t"                                                                                         \
            "ldr r3, [sp, #48]\n\t"                                                                          \
            "ldm r3, {r0, r4, r8, r9, r10}\n\t"                                                              \
            "add r0, r0, r10\n\t"                                                                            \
            "add r4, r4, #1\n\t"                                                                             \
            "add r8, r8, #" TM_STR(NREC) "\n\t"                                                                     \
            "subs r9, r9, #1\n\t"                                                                            \
            "stm r3, {r0, r4, r8, r9}\n\t"                                                                   \
            "bne 5b\n\t"                                                                                     \
            "add sp, sp, #64\n\t"                                                                            \
            "pop {r4-r11, pc}\n\t");                                                                         \
    }

// A rec's bytes (the step from one channel's to the next): DW3_HDR words, then 5 rows of rw filter words.
#define DW3_REC_BYTES_S1 92
#define DW3_REC_BYTES_S2 72
_Static_assert((DW3_HDR + 5 * 3) * 4 == DW3_REC_BYTES_S1, "a stride-1 rec (rw = 3) is not DW3_REC_BYTES_S1");
_Static_assert((DW3_HDR + 5 * 2) * 4 == DW3_REC_BYTES_S2, "a stride-2 rec (rw = 2) is not DW3_REC_BYTES_S2");
DW3_KERNEL(dw3_s1_full, DW3_S1_ROWS, "r7-r9", DW3_S1_MUL8, "r7, r8", DW3_S1_MUL4, "r7, r8", DW3_S1_MUL2, 8,
           DW3_REC_BYTES_S1, DW3_RQ_FULL)
DW3_KERNEL(dw3_s1_hi, DW3_S1_ROWS, "r7-r9", DW3_S1_MUL8, "r7, r8", DW3_S1_MUL4, "r7, r8", DW3_S1_MUL2, 8,
           DW3_REC_BYTES_S1, DW3_RQ_HI)
DW3_KERNEL(dw3_s2_full, DW3_S2_ROWS, "r7-r11", DW3_S2_MUL8, "r7-r9", DW3_S2_MUL4, "r7, r8", DW3_S2_MUL2, 16,
           DW3_REC_BYTES_S2, DW3_RQ_FULL)
DW3_KERNEL(dw3_s2_hi, DW3_S2_ROWS, "r7-r11", DW3_S2_MUL8, "r7-r9", DW3_S2_MUL4, "r7, r8", DW3_S2_MUL2, 16,
           DW3_REC_BYTES_S2, DW3_RQ_HI)

typedef void (*dw3_kernel_t)(int32_t, dw3_row_t *);
static inline void dw3_st32(int16_t *p, int32_t v) {
    memcpy(p, &v, 4);   // one STR (unaligned stores are allowed)
}

static inline int32_t dw3_pkhbt(int32_t lo, int32_t hi) {   // (lo.bottom, hi.bottom)
    int32_t r;
    __asm__ ("pkhbt %0, %1, %2, lsl #16" : "=r" (r) : "r" (lo), "r" (hi));
    return r;
}

static inline int32_t dw3_pkhtb(int32_t hi, int32_t lo) {   // (lo.top, hi.top)
    int32_t r;
    __asm__ ("pkhtb %0, %1, %2, asr #16" : "=r" (r) : "r" (hi), "r" (lo));
    return r;
}

// nrows rows (x_row bytes apart; plane rows wp apart) of n pixels (ps bytes apart) of four channels at x
// into four planes d + j * pp, as x - Z_in (off: -Z_in in both halves). Two pixels per step: SXTAB16
// widens channels (0, 2) and (1, 3) of each, PKH pairs the two pixels of each channel.
__attribute__((noinline))
static void dw3_widen4(const int8_t *x, int32_t x_row, int32_t ps, int32_t n, int32_t nrows, int32_t off,
    int16_t *d, int32_t wp, int32_t pp) {
    for (; nrows > 0; nrows--, x += x_row, d += wp) {
        const int8_t *xp = x;
        int16_t *d0 = d, *d1 = d + pp, *d2 = d + 2 * pp, *d3 = d + 3 * pp;
        int32_t pairs = n >> 1;
        if (pairs > 0) {
            uint32_t v0, v1, a, e, t;
            __asm__ volatile (
                "1:\n\t"
                "ldr     %[v1], [%[xp], %[ps]]\n\t"
                "ldr     %[v0], [%[xp]]\n\t"
                "add     %[xp], %[xp], %[ps], lsl #1\n\t"
                "sxtab16 %[a], %[off], %[v0]\n\t"
                "sxtab16 %[v0], %[off], %[v0], ror #8\n\t"
                "sxtab16 %[e], %[off], %[v1]\n\t"
                "sxtab16 %[v1], %[off], %[v1], ror #8\n\t"
                "pkhbt   %[t], %[a], %[e], lsl #16\n\t"
                "str     %[t], [%[d0]], #4\n\t"
                "pkhtb   %[t], %[e], %[a], asr #16\n\t"
                "str     %[t], [%[d2]], #4\n\t"
                "pkhbt   %[t], %[v0], %[v1], lsl #16\n\t"
                "str     %[t], [%[d1]], #4\n\t"
                "pkhtb   %[t], %[v1], %[v0], asr #16\n\t"
                "str     %[t], [%[d3]], #4\n\t"
                "subs    %[pairs], %[pairs], #1\n\t"
                "bne     1b"
                : [xp] "+r" (xp), [d0] "+r" (d0), [d1] "+r" (d1), [d2] "+r" (d2), [d3] "+r" (d3),
                  [pairs] "+r" (pairs), [v0] "=&r" (v0), [v1] "=&r" (v1), [a] "=&r" (a), [e] "=&r" (e),
                  [t] "=&r" (t)
                : [ps] "r" (ps), [off] "r" (off)
                : "cc", "memory");
        }
        if (n & 1) {
            const uint32_t v = tm_ld32(xp);
            const int32_t a = tm_sxtab16(off, v), b = tm_sxtab16_ror8(off, v);
            *d0 = (int16_t)a;
            *d1 = (int16_t)b;
            *d2 = (int16_t)(a >> 16);
            *d3 = (int16_t)(b >> 16);
        }
    }
}

// n pixels of one channel into one plane (contiguous pixels four at a time).
__attribute__((noinline))
static void dw3_widen1(const int8_t *x, int32_t ps, int32_t n, int32_t zi, int16_t *d) {
    int32_t i = 0;
    if (ps == 1) {
        const int32_t off = tm_neg_pair(zi);
        for (; i + 4 <= n; i += 4) {
            const uint32_t v = tm_ld32(x + i);
            const int32_t a = tm_sxtab16(off, v), b = tm_sxtab16_ror8(off, v);
            dw3_st32(d + i, dw3_pkhbt(a, b));
            dw3_st32(d + i + 2, dw3_pkhtb(b, a));
        }
    }
    for (; i < n; i++) {
        d[i] = (int16_t)(x[i * ps] - zi);
    }
}

// The recs of channels [oc0, oc0 + nc): per channel 2 * bias (four times), k, M, e, hi, then the filter
// rows 0, 1, 2, 0, 1 (any rotation of the ring is three consecutive rows). e = 0 marks a channel for the C
// loop: the SMMLAR form could overflow, or the shift is not negative. Returns whether any is so marked.
static inline int32_t dw3_dbl(int32_t v) {   // both int16 halves doubled
    int32_t r;
    __asm__ ("sadd16 %0, %1, %1" : "=r" (r) : "r" (v));
    return r;
}

// Filter words of two channels at once, from taps t[9] holding the pair as (bottom, top) int16 halves:
// rows 0, 1, 2 and (for a ring's rotations) 0, 1 again, rw words per row.
__attribute__((always_inline))
static inline void dw3_rec_pair(const int32_t *t, int32_t *bot, int32_t *top, int rw, int nrows) {
    for (int r = 0; r < nrows; r++, bot += rw, top += rw) {
        const int32_t a = t[3 * (r % 3)], b = t[3 * (r % 3) + 1], c = t[3 * (r % 3) + 2];
        bot[0] = dw3_pkhbt(a, b);
        top[0] = dw3_pkhtb(b, a);
        if (rw == 3) {
            bot[1] = dw3_pkhbt(b, c);
            top[1] = dw3_pkhtb(c, b);
            bot[2] = dw3_pkhbt(c, a);
            top[2] = dw3_pkhtb(a, c);
        } else {
            bot[1] = c;         // w2 in the bottom half (the top one is never read)
            top[1] = c >> 16;
        }
    }
}

// Filter words of the four channels from w (rw, nrows constant where inlined).
__attribute__((always_inline))
static inline void dw3_rec_four(int32_t *rec, const int8_t *w, const int32_t *toff, int rw, int nrows) {
    const int32_t nrec = DW3_HDR + 5 * rw;
    int32_t lo[9], hi[9];
    for (int k = 0; k < 9; k++) {
        const uint32_t v = tm_ld32(w + toff[k]);
        lo[k] = dw3_dbl(tm_sxtb16(v));        // channels 0, 2
        hi[k] = dw3_dbl(tm_sxtb16_ror8(v));   // channels 1, 3
    }
    dw3_rec_pair(lo, rec + DW3_HDR, rec + 2 * nrec + DW3_HDR, rw, nrows);
    dw3_rec_pair(hi, rec + nrec + DW3_HDR, rec + 3 * nrec + DW3_HDR, rw, nrows);
}

// The recs of channels [oc0, oc0 + nc): per channel 2 * bias (four times), k, M, e, hi, then the filter
// rows 0, 1, 2, 0, 1 (any rotation of the ring is three consecutive rows; the last two only for a ring).
// e = 0 marks a channel for the C loop: the SMMLAR form could overflow, or the shift is not negative.
// Returns whether any is so marked.
__attribute__((noinline))
static int dw3_recs(const dw_t *c, const params_t *p, const dw3_geom_t *d, int32_t oc0, int32_t nc,
    int32_t *rec) {
    const int32_t cout = c->g.out_c, rw = d->rw, nrec = DW3_HDR + 5 * rw, zo = c->out->zero_point;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data + oc0 : 0;
    const tm_channel_q_t *q = p->q + oc0;
    const int8_t *w = (const int8_t *)c->w->data + oc0;
    int32_t toff[9];
    for (int32_t k = 0; k < 9; k++) {
        toff[k] = ((k / 3) * d->w_row + (k % 3) * d->w_col) * cout;
    }
    int32_t j = 0;
    for (; j + 4 <= nc; j += 4) {
        int32_t *r4 = rec + j * nrec;
        if (rw == 3) {
            if (d->nbuf == 3) {
                dw3_rec_four(r4, w + j, toff, 3, 5);
            } else {
                dw3_rec_four(r4, w + j, toff, 3, 3);
            }
        } else if (d->nbuf == 3) {
            dw3_rec_four(r4, w + j, toff, 2, 5);
        } else {
            dw3_rec_four(r4, w + j, toff, 2, 3);
        }
    }
    for (; j < nc; j++) {   // (one input channel, multiplier not a multiple of four)
        int32_t t[9];
        for (int32_t k = 0; k < 9; k++) {
            t[k] = w[j + toff[k]] * 2 & 0xffff;
        }
        int32_t top[15];
        dw3_rec_pair(t, rec + j * nrec + DW3_HDR, top, rw, 5);
    }
    int any_c = 0;
    for (j = 0; j < nc; j++, rec += nrec) {
        const int32_t b = bias ? bias[j] : 0, e = -q[j].shift;
        rec[0] = rec[1] = rec[2] = rec[3] = (int32_t)((uint32_t)b << 1);
        rec[5] = q[j].multiplier;
        rec[6] = 0;
        rec[7] = p->act_hi;
        // |acc| <= |bias| + 9 * 128 * 255 < 2^30, and |r + c| < 2^31 (|r| <= |acc|).
        const uint32_t acc_max = (uint32_t)(b < 0 ? -b : b) + 9u * 128u * 255u;
        if (e >= 1 && e <= 24 && acc_max < (1u << 30) && b != INT32_MIN) {   // (no uint32 overflow below)
            const uint32_t k_abs = (1u << (e - 1)) + (uint32_t)(zo < 0 ? -zo : zo) * (1u << e);
            if (acc_max + k_abs + 2u < (1u << 31)) {
                rec[4] = (int32_t)(1u << (e - 1)) + zo * (int32_t)(1u << e);
                rec[6] = e;
            }
        }
        any_c |= rec[6] == 0;
    }
    return any_c;
}

// A row of outputs of a channel whose rec failed dw3_rec: plain C over the same planes (w: its rows for
// ring rows 0-2).
static void dw3_row_c(const dw_t *c, const params_t *p, const dw3_geom_t *d, const int16_t *b, int32_t oc,
    const int32_t *w, int8_t *y) {
    const int32_t bias = c->bias ? ((const int32_t *)c->bias->data)[oc] : 0;
    const int32_t zo = c->out->zero_point;
    for (int32_t o = 0; o < d->cols_out; o++, y += d->y_col) {
        int32_t acc = bias;
        for (int32_t i = 0; i < 3; i++) {
            const int32_t *row = w + i * d->rw;
            const int16_t *x = b + i * d->wp + o * d->stride_c;   // (b: the window's first plane row)
            const int32_t w0 = (int16_t)row[0] >> 1, w1 = row[0] >> 17;
            const int32_t w2 = (d->rw == 3 ? row[1] >> 16 : (int16_t)row[1]) >> 1;
            acc += w0 * x[0] + w1 * x[1] + w2 * x[2];
        }
        *y = (int8_t)tm_clamp(tm_mbqm(acc, p->q[oc].multiplier, p->q[oc].shift) + zo, p->act_lo, p->act_hi);
    }
}

// n (even) int16 zeros at a word-aligned p. (memset is a call into MicroPython here, slow for a few words.)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void dw3_zero(int16_t *p, int32_t n) {
    uint32_t *w = (uint32_t *)p;
    for (int32_t k = 0; k < n >> 1; k++) {
        w[k] = 0;
    }
}

// Plane rows [slot, slot + nrows) of every plane in the block get input rows [r, r + nrows) (zeros for
// rows outside the image; a ring fills one row at a time).
static void dw3_fill_rows(const dw_t *c, const dw3_geom_t *d, int16_t *planes, int32_t slot, int32_t r,
    int32_t nrows, const int8_t *x) {
    const int32_t zi = c->in->zero_point, pp = d->nbuf * d->wp;
    int16_t *dst = planes + slot * d->wp;
    if (r < 0 || r >= d->rows_in) {
        for (int32_t j = 0; j < d->planes; j++) {
            dw3_zero(dst + j * pp, d->wp);
        }
        return;
    }
    int32_t n = d->wp - d->pad_c;
    n = n < d->cols_in ? n : d->cols_in;
    x += r * d->x_row;
    dst += d->pad_c;
    if (d->planes == 4) {
        dw3_widen4(x, d->x_row, d->x_col, n, nrows, tm_neg_pair(zi), dst, d->wp, pp);
    } else {
        for (; nrows > 0; nrows--, x += d->x_row, dst += d->wp) {
            dw3_widen1(x, d->x_col, n, zi, dst);
        }
    }
}

// Output rows [orow, orow + nrows) of the block's nc channels (first output y), the window of the first
// starting at plane row `row`, whose filter rows begin at `start` (a ring's rotation).
__attribute__((noinline))
static void dw3_out_rows(const dw_t *c, const params_t *p, const dw3_geom_t *d, dw3_kernel_t kernel,
    const int16_t *planes, const int32_t *recs, int32_t nc, int32_t oc0, int32_t row, int32_t nrows,
    int32_t start, int any_c, int8_t *y) {
    const int32_t nrec = DW3_HDR + 5 * d->rw, db = d->planes == 1 ? 0 : d->nbuf * d->wp;
    dw3_row_t a;
    a.b = planes + row * d->wp;
    a.y = y;
    a.rec = recs;
    a.nc = nc;
    a.db = 2 * db;
    a.ys = d->y_col;
    a.end = (d->cols_out >> 2) * 8 * d->stride_c;
    a.tail = d->cols_out & 3;
    a.wofs = (DW3_HDR + start * d->rw) * 4;
    a.nrows = nrows;
    a.rstep = 2 * d->stride_r * d->wp;
    a.ystep = d->y_row;
    kernel(2 * d->wp, &a);
    for (int32_t j = 0; any_c && j < nc; j++) {
        const int32_t *rec = recs + j * nrec;
        if (rec[6] == 0) {
            for (int32_t i = 0; i < nrows; i++) {
                dw3_row_c(c, p, d, planes + j * db + (row + i * d->stride_r) * d->wp, oc0 + j,
                    rec + DW3_HDR + start * d->rw, y + j + i * d->y_row);
            }
        }
    }
}

// The layer, block by block (four channels, or up to eight output channels of the one input channel).
static void dw3_eval(const dw_t *c, const params_t *p, const dw3_geom_t *d, void *scratch) {
    const tm_window_t *g = &c->g;
    const int32_t nrec = DW3_HDR + 5 * d->rw;
    int32_t *recs = scratch;
    int16_t *planes = (int16_t *)(recs + d->chans * nrec);
    const int full = p->act_hi == 127;
    const dw3_kernel_t kernel =
        d->stride_c == 1 ? (full ? dw3_s1_full : dw3_s1_hi) : (full ? dw3_s2_full : dw3_s2_hi);
    dw3_zero(planes, d->planes * d->nbuf * d->wp);   // padding stays zero
    for (int32_t oc0 = 0; oc0 < g->out_c; oc0 += d->chans) {
        const int32_t nc = g->out_c - oc0 < d->chans ? g->out_c - oc0 : d->chans;
        const int any_c = dw3_recs(c, p, d, oc0, nc, recs);
        for (int32_t bt = 0; bt < g->batches; bt++) {
            const int8_t *x = (const int8_t *)c->in->data + bt * g->in_h * g->in_w * g->in_c + oc0 / c->dm;
            int8_t *y = (int8_t *)c->out->data + bt * g->out_h * g->out_w * g->out_c + oc0;
            if (d->nbuf != 3) {
                // Plane row i holds input row i - pad (the padding rows were zeroed above).
                const int32_t hi = d->nbuf - d->pad_r < d->rows_in ? d->nbuf - d->pad_r : d->rows_in;
                dw3_fill_rows(c, d, planes, d->pad_r, 0, hi, x);
                dw3_out_rows(c, p, d, kernel, planes, recs, nc, oc0, 0, d->rows_out, 0, any_c, y);
                continue;
            }
            int32_t next = -0x7fffffff;   // first input row not yet in the ring
            for (int32_t orow = 0; orow < d->rows_out; orow++, y += d->y_row) {
                // Input row r lives in ring row r mod 3; ring row i then meets filter row (i - r0) mod 3.
                const int32_t r0 = orow * d->stride_r - d->pad_r, ring0 = (r0 % 3 + 3) % 3;
                for (int32_t r = r0 > next ? r0 : next, i = (r % 3 + 3) % 3; r < r0 + 3;
                     r++, i = i == 2 ? 0 : i + 1) {
                    dw3_fill_rows(c, d, planes, i, r, 1, x);
                }
                next = r0 + 3;
                dw3_out_rows(c, p, d, kernel, planes, recs, nc, oc0, 0, 1, (3 - ring0) % 3, any_c, y);
            }
        }
    }
}

// The recs of channels [c0, c0 + 4): per tap pair j the even-aligned word (2 w[2j], 2 w[2j + 1]) and the
// odd-aligned one (2 w[2j - 1], 2 w[2j]) (taps outside [0, K) are 0), then M, c, e and 2 * bias. A word of
// filter holds the four channels' tap: SXTB16 splits it into channels (0, 2) and (1, 3), PKH pairs taps.
__attribute__((noinline, optimize("Os")))   // (once per block of channels: size over speed)
static void dwl_recs(const dw_t *c, const params_t *p, const dwl_geom_t *d, int32_t c0, int32_t *rec) {
    const int32_t cout = c->g.out_c, zo = c->out->zero_point, nrec = d->nrec, nw = d->nw, k = d->k;
    const int8_t *w = (const int8_t *)c->w->data + c0;
    int32_t lo_a = 0, hi_a = 0;   // tap 2j - 1: channels (0, 2) and (1, 3), doubled
    int32_t *r0 = rec + 1, *r1 = r0 + nrec, *r2 = r1 + nrec, *r3 = r2 + nrec;
    for (int32_t j = 0; j < nw; j++, w += 2 * cout, r0 += 2, r1 += 2, r2 += 2, r3 += 2) {
        int32_t lo_b = 0, hi_b = 0, lo_c = 0, hi_c = 0;   // taps 2j, 2j + 1 (only the last pair may end early)
        if (j < nw - 1 || 2 * j < k) {
            const uint32_t v = tm_ld32(w);
            lo_b = dw3_dbl(tm_sxtb16(v));
            hi_b = dw3_dbl(tm_sxtb16_ror8(v));
        }
        if (j < nw - 1 || 2 * j + 1 < k) {
            const uint32_t v = tm_ld32(w + cout);
            lo_c = dw3_dbl(tm_sxtb16(v));
            hi_c = dw3_dbl(tm_sxtb16_ror8(v));
        }
        r0[0] = dw3_pkhbt(lo_b, lo_c);
        r0[1] = dw3_pkhbt(lo_a, lo_b);
        r1[0] = dw3_pkhbt(hi_b, hi_c);
        r1[1] = dw3_pkhbt(hi_a, hi_b);
        r2[0] = dw3_pkhtb(lo_c, lo_b);
        r2[1] = dw3_pkhtb(lo_b, lo_a);
        r3[0] = dw3_pkhtb(hi_c, hi_b);
        r3[1] = dw3_pkhtb(hi_b, hi_a);
        lo_a = lo_c;
        hi_a = hi_c;
    }
    // |acc| <= |b| + K * 255 * 128 < 2^30 keeps 2 * acc and SMMLAR's sum inside int32.
    const uint32_t limit = (1u << 30) - (uint32_t)k * (255u * 128u);
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data + c0 : 0;
    for (int32_t j = 0; j < 4; j++, rec += nrec) {
        const int32_t b = bias ? bias[j] : 0, M = p->q[c0 + j].multiplier, e = -p->q[c0 + j].shift;
        const int ok = M > 0 && (uint32_t)(e - 1) < 22u && (uint32_t)(b < 0 ? -(int64_t)b : b) < limit;
        int32_t *h = rec + 1 + 2 * nw;
        rec[0] = (int32_t)((uint32_t)b << 1);
        h[0] = M;
        h[1] = ok ? (int32_t)((1u << (e - 1)) + ((uint32_t)zo << e)) : 0;
        h[2] = ok ? e : 0;
    }
}

// n int16 zeros at p (no memset: a call into MicroPython here).
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void dwl_zero(int16_t *p, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        p[i] = 0;
    }
}

// Plane positions of the four channels at x (line position `start` first) as x - Z_in, for the n outputs
// of a chunk: [0, (n - 1) * stride + K) are the positions they multiply by taps, 0 outside the input. The
// positions past them are only read against zero filter words or for outputs not stored (0 * any int16 = 0),
// so they are left as they are.
__attribute__((optimize("Os")))
static void dwl_fill(const dw_t *c, const dwl_geom_t *d, int32_t start, int32_t n, const int8_t *x,
    int16_t *planes) {
    const int32_t need = (n - 1) * d->stride + d->k;
    int32_t lo = start < 0 ? -start : 0, hi = d->len_in - start;
    lo = lo < need ? lo : need;
    hi = hi < need ? hi : need;
    hi = hi > lo ? hi : lo;
    for (int32_t j = 0; j < 4; j++) {
        int16_t *pj = planes + j * d->pl;
        if (lo > 0) {
            dwl_zero(pj, lo);
        }
        if (hi < need) {
            dwl_zero(pj + hi, need - hi);
        }
    }
    if (hi > lo) {
        dw3_widen4(x + (start + lo) * d->x_step, 0, d->x_step, hi - lo, 1, tm_neg_pair(c->in->zero_point),
            planes + lo, 0, d->pl);
    }
}

// A channel the rec marks (e = 0): plain C over its plane, TFLM's requantization.
__attribute__((optimize("Os")))   // (rare: size over speed)
static void dwl_line_c(const dw_t *c, const params_t *p, const dwl_geom_t *d, int32_t oc, const int16_t *pl,
    int32_t n, int8_t *y) {
    const int8_t *w = (const int8_t *)c->w->data + oc;
    const int32_t b = c->bias ? ((const int32_t *)c->bias->data)[oc] : 0;
    for (int32_t o = 0; o < n; o++, y += d->y_step) {
        int32_t acc = b;
        for (int32_t t = 0; t < d->k; t++) {
            acc += w[t * c->g.out_c] * pl[o * d->stride + t];
        }
        const int32_t v = tm_mbqm(acc, p->q[oc].multiplier, p->q[oc].shift) + c->out->zero_point;
        *y = (int8_t)tm_clamp(v, p->act_lo, p->act_hi);
    }
}

// Stride 1, full int8 range: args[0] groups of four outputs of one channel (and, if args[1], a last group
// whose fourth output is not stored), with the requantization (tm_rq2_apply) and the stores, in one
// routine (x: plane word of the first; rec: the channel's record; y: first output; args[2]: bytes between
// outputs; args[3]: tap pairs - 1). r0 x, r1 rec, r2 y, r3 pairs left, r4-r7 sums (starting from 2 * bias:
// the first pair is peeled), r8-r11 input and filter words (then M, c, e and a temporary), r12 output
// step, lr groups left; the frame holds the next group's x, the record, the pair count and args[1].
#define DWL_GROUP                                                                                           \
    "ldm     sp, {r0, r1, r3}\n\t"                                                                           \
    "add     r8, r0, #8\n\t"                                                                                 \
    "str     r8, [sp]\n\t"                                                                                   \
    "ldr     r7, [r1], #4\n\t"                                                                               \
    "ldrd    r8, r9, [r0], #4\n\t"                                                                           \
    "ldrd    r10, r11, [r1], #8\n\t"                                                                         \
    "smlad   r4, r8, r10, r7\n\t"                                                                            \
    "smlad   r5, r8, r11, r7\n\t"                                                                            \
    "smlad   r6, r9, r10, r7\n\t"                                                                            \
    "smlad   r7, r9, r11, r7\n"                                                                              \
    "2:\n\t"                                                                                                 \
    "ldrd    r8, r9, [r0], #4\n\t"                                                                           \
    "ldrd    r10, r11, [r1], #8\n\t"                                                                         \
    "smlad   r4, r8, r10, r4\n\t"                                                                            \
    "smlad   r5, r8, r11, r5\n\t"                                                                            \
    "smlad   r6, r9, r10, r6\n\t"                                                                            \
    "smlad   r7, r9, r11, r7\n\t"                                                                            \
    "subs    r3, r3, #1\n\t"                                                                                 \
    "bne     2b\n\t"                                                                                         \
    "ldrd    r8, r9, [r1]\n\t"                                                                               \
    "ldr     r10, [r1, #8]\n\t"                                                                              \
    DWL_RQ("r4") DWL_RQ("r5") DWL_RQ("r6") DWL_RQ("r7")                                                      \
    "strb    r4, [r2]\n\t"                                                                                   \
    "strb    r5, [r2, r12]\n\t"                                                                              \
    "add     r2, r2, r12, lsl #1\n\t"                                                                        \
    "strb    r6, [r2]\n\t"
#define DWL_RQ(A) "add r11, r9, " A ", asr #31\n\t" "smmlar " A ", " A ", r8, r11\n\t" "asr " A ", " A ", r10\n\t" \
                  "ssat " A ", #8, " A "\n\t"
__attribute__((naked, noinline))
static void dwl_s1_groups(const uint32_t *x, const int32_t *rec, int8_t *y, const int32_t *args) {
    __asm__ volatile (
        "push    {r4-r11, lr}\n\t"
        "sub     sp, sp, #20\n\t"
        "ldm     r3, {r4, r5, r12, lr}\n\t"
        "stm     sp, {r0, r1, lr}\n\t"
        "str     r5, [sp, #12]\n\t"
        "movs    lr, r4\n\t"
        "beq     3f\n"
        "1:\n\t"
        DWL_GROUP
        "strb    r7, [r2, r12]\n\t"
        "add     r2, r2, r12, lsl #1\n\t"
        "subs    lr, lr, #1\n\t"
        "bne     1b\n"
        "3:\n\t"
        "ldr     r3, [sp, #12]\n\t"
        "cmp     r3, #0\n\t"
        "beq     9f\n\t"
        DWL_GROUP
        "9:\n\t"
        "add     sp, sp, #20\n\t"
        "pop     {r4-r11, pc}\n\t");
}
#undef DWL_GROUP
#undef DWL_RQ

// Outputs [0, n) of one channel two at a time (rec, plane pl, first output y): stride 2, or the last one or
// two of stride 1 (whose groups of four dwl_s1_groups does).
__attribute__((noinline))
static void dwl_pairs(const dwl_geom_t *d, const int32_t *rec, const int16_t *pl, int32_t n, int8_t *y) {
    const int32_t nw = d->nw, b2 = rec[0], ys = d->y_step, odd = d->stride == 1;
    const uint32_t *wr = (const uint32_t *)rec + 1, *x = (const uint32_t *)pl;
    for (int32_t o = 0; o < n; o += 2, x += 2 - odd, y += 2 * ys) {
        int32_t acc[2] = { b2, b2 };
        if (odd) {
            tm_dw_pairs2(x, wr, nw, acc, 1);
        } else {
            tm_dw_pairs2(x, wr, nw, acc, 0);
        }
        y[0] = (int8_t)acc[0];
        if (o + 1 < n) {
            y[ys] = (int8_t)acc[1];
        }
    }
}

// n outputs ys bytes apart clamped to [lo, hi] (activations narrower than int8, after the SSAT's clamp).
__attribute__((noinline))
static void dwl_clamp(int8_t *y, int32_t n, int32_t ys, int32_t lo, int32_t hi) {
    for (; n > 0; n--, y += ys) {
        const int32_t v = *y;
        *y = (int8_t)(v < lo ? lo : (v > hi ? hi : v));
    }
}

// Lines of fewer than four outputs (the end of a temporal stack: one output of K = the length): no tap is
// shared, so planes and records would cost more than they save. Four channels per input word, read in place
// (SXTAB16/SXTB16 split channels (0, 2) and (1, 3)), only the taps inside the input, as TFLM.
__attribute__((noinline))
static void dwl_direct(const dw_t *c, const params_t *p, const dwl_geom_t *d, int32_t c0, const int8_t *x,
    int8_t *y) {
    const int32_t cout = c->g.out_c, off = tm_neg_pair(c->in->zero_point), zo = c->out->zero_point;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data + c0 : 0;
    const int8_t *w0 = (const int8_t *)c->w->data + c0;
    for (int32_t o = 0; o < d->len_out; o++, y += d->y_step) {
        const int32_t start = o * d->stride - d->pad;
        int32_t k0, k1;
        tap_range(start, d->k, 1, d->len_in, &k0, &k1);
        int32_t a0 = bias ? bias[0] : 0, a1 = bias ? bias[1] : 0, a2 = bias ? bias[2] : 0;
        int32_t a3 = bias ? bias[3] : 0;
        const int8_t *xp = x + (start + k0) * d->x_step, *wp = w0 + k0 * cout;
        for (int32_t t = k1 - k0; t > 0; t--, xp += d->x_step, wp += cout) {
            const uint32_t v = tm_ld32(xp), wv = tm_ld32(wp);
            const int32_t x02 = tm_sxtab16(off, v), x13 = tm_sxtab16_ror8(off, v);
            const int32_t w02 = tm_sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
            a0 = __smlabb(x02, w02, a0);
            a2 = __smlatt(x02, w02, a2);
            a1 = __smlabb(x13, w13, a1);
            a3 = __smlatt(x13, w13, a3);
        }
        const int32_t acc[4] = { a0, a1, a2, a3 };
#pragma GCC unroll 1
        for (int32_t j = 0; j < 4; j++) {   // (one copy of the requantization: code size)
            const tm_rq_t q = tm_rq(p->q[c0 + j].multiplier, p->q[c0 + j].shift);
            y[j] = (int8_t)tm_rq_out(acc[j], &q, zo, p->act_lo, p->act_hi, 0);
        }
    }
}

// The layer: blocks of four channels, each over all lines, a chunk of outputs at a time.
__attribute__((noinline, optimize("Os")))   // (the loops around the routines: size over speed)
static void dwl_eval(const dw_t *c, const params_t *p, const dwl_geom_t *d, void *scratch) {
    const tm_window_t *g = &c->g;
    int32_t *recs = scratch;
    int16_t *planes = (int16_t *)(recs + 4 * d->nrec);
    const int full = p->act_lo == -128 && p->act_hi == 127;
    const int32_t x_batch = g->in_h * g->in_w * g->in_c, y_batch = g->out_h * g->out_w * g->out_c;
    for (int32_t c0 = 0; c0 < g->out_c; c0 += 4) {
        if (d->len_out >= 4) {
            dwl_recs(c, p, d, c0, recs);
        }
        for (int32_t b = 0; b < g->batches; b++) {
            for (int32_t l = 0; l < d->n_other; l++) {
                const int8_t *x = (const int8_t *)c->in->data + b * x_batch + l * d->x_other + c0;
                int8_t *y = (int8_t *)c->out->data + b * y_batch + l * d->y_other + c0;
                if (d->len_out < 4) {
                    dwl_direct(c, p, d, c0, x, y);
                    continue;
                }
                for (int32_t o0 = 0; o0 < d->len_out; o0 += d->chunk, y += d->chunk * d->y_step) {
                    const int32_t n = d->len_out - o0 < d->chunk ? d->len_out - o0 : d->chunk;
                    dwl_fill(c, d, o0 * d->stride - d->pad, n, x, planes);
                    // Stride 1: groups of four (a last three included) in the routine, the rest in pairs.
                    const int32_t n4 = d->stride == 1 ? ((n & 3) == 3 ? n + 1 : n) & ~3 : 0;
                    const int32_t args[4] = { n >> 2, (n & 3) == 3, d->y_step, d->nw - 1 };
                    for (int32_t j = 0; j < 4; j++) {
                        const int32_t *rec = recs + j * d->nrec;
                        const int16_t *pl = planes + j * d->pl;
                        if (rec[2 * d->nw + 3] == 0) {
                            dwl_line_c(c, p, d, c0 + j, pl, n, y + j);
                            continue;
                        }
                        if (n4 > 0) {
                            dwl_s1_groups((const uint32_t *)pl, rec, y + j, args);
                        }
                        if (n4 < n) {
                            dwl_pairs(d, rec, pl + n4, n - n4, y + j + n4 * d->y_step);
                        }
                        if (!full) {
                            dwl_clamp(y + j, n, d->y_step, p->act_lo, p->act_hi);
                        }
                    }
                }
            }
        }
    }
}

// Multiplier 1 or a multiple of four: the pixels inside the image block by block, then the others pixel by
// pixel. Channels past the last multiple of four (multiplier 1 only) are left to the portable loop.
static void dw_eval_dsp(const dw_t *c, const params_t *p, void *scratch) {
    const tm_window_t *g = &c->g;
    const int32_t taps = g->k_h * g->k_w, cout4 = g->out_c & ~3, multi = c->dm != 1;
    const int full = p->act_lo == -128 && p->act_hi == 127;
    int32_t span[4] = { 0, 0, 0, 0 };
    if (multi && dw_cin1_ok(c)) {
        dw_cin1_dsp(c, p, scratch);
        return;
    }
    if (!multi) {
        int32_t *toff = scratch;
        uint32_t *wide = (uint32_t *)(toff + taps);
        for (int32_t ky = 0, k = 0; ky < g->k_h; ky++) {
            for (int32_t kx = 0; kx < g->k_w; kx++, k++) {
                toff[k] = (ky * g->dil_h * g->in_w + kx * g->dil_w) * g->in_c;
            }
        }
        interior_range(g->pad_h, g->stride_h, (g->k_h - 1) * g->dil_h, g->in_h, g->out_h, &span[0], &span[1]);
        interior_range(g->pad_w, g->stride_w, (g->k_w - 1) * g->dil_w, g->in_w, g->out_w, &span[2], &span[3]);
        if (span[2] == span[3]) {
            span[1] = span[0];
        }
        for (int32_t c0 = 0; c0 < cout4 && span[0] < span[1]; c0 += 4) {
            // Specialised copies (the flag is a constant once inlined) for the common case.
            if (full) {
                dw_block_dsp(c, p, toff, wide, c0, span, 1);
            } else {
                dw_block_dsp(c, p, toff, wide, c0, span, 0);
            }
        }
    }
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int rowin = oy >= span[0] && oy < span[1];
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                if (rowin && ox == span[2]) {
                    ox = span[3] - 1;   // done above
                } else if (multi) {
                    dw_pixel_dsp(c, p, b, oy, ox, 0, 1);
                } else if (full) {
                    dw_pixel_dsp(c, p, b, oy, ox, 1, 0);
                } else {
                    dw_pixel_dsp(c, p, b, oy, ox, 0, 0);
                }
            }
        }
    }
}

// ---- The hooks of kernels/depthwise_conv_2d.c ----

// The largest scratch of the paths this layer can take: multiplier 1, a table of tap offsets and one block's
// widened filter; a multiple of 4 with one input channel, two channels' widened filter and a staged window;
// the 3x3 planes; the K x 1 planes (the only path such layers take).
static uint32_t arch_scratch_bytes(const dw_t *c) {
    uint32_t bytes = 0;
    if (c->dm == 1) {
        bytes = (uint32_t)(c->g.k_h * c->g.k_w) * (sizeof(int32_t) + 2u * sizeof(uint32_t));
    } else if ((c->dm & 3) == 0 && dw_cin1_ok(c)) {
        bytes = (uint32_t)(c->g.k_h * c->g.k_w) * (2u * sizeof(int16_t) + 1u);
    }
    dw3_geom_t d3;
    if (dw3_plan(c, &d3) && d3.scratch > bytes) {
        bytes = d3.scratch;   // (the path above serves activations clamped above -128)
    }
    dwl_geom_t dl;
    if (dwl_plan(c, &dl)) {
        bytes = dl.scratch;
    }
    return bytes;
}

static int32_t arch_eval_int8(tm_model_t *m, tm_node_t *n, const dw_t *c) {
    const params_t *p = tm_persistent(m, n);
    const int32_t dm = c->dm, cout = c->g.out_c;
    dwl_geom_t dl;
    if (dwl_plan(c, &dl)) {
        dwl_eval(c, p, &dl, tm_scratch(m, n));
        return cout;
    }
    dw3_geom_t d3;
    if (p->act_lo == -128 && dw3_plan(c, &d3)) {
        dw3_eval(c, p, &d3, tm_scratch(m, n));
        return cout;
    }
    if (dm == 1 || (dm & 3) == 0) {
        dw_eval_dsp(c, p, tm_scratch(m, n));
        // multiplier 1: channels past the last multiple of four are left to the portable loop
        return dm == 1 ? cout & ~3 : cout;
    }
    return 0;
}
