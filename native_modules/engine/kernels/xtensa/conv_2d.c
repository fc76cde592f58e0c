// CONV_2D's int8 path for Xtensa cores with the MAC16 option (ESP32, ESP32-S3; not the ESP32-S2, whose core
// has neither MAC16 nor zero-overhead loops: esp-idf components/xtensa/<chip>/include/xtensa/config/core-isa.h).
// Built only into modules made with tinyml.build's xtensa_mac16 (docs/architecture.md, "One folder per
// optimised arch"); the portable kernel in ../conv_2d.c does everything else.
//
// MAC16 multiplies 16-bit halves of its m0-m3 registers into a 40-bit accumulator and loads the next word
// in the same instruction (mula.dd.*.ldinc): one instruction per MAC when both operands are int16 in memory.
// The receptive field already is (x - Z_in as int16, as in the portable kernel); the filter is int8, so a
// block of output channels is widened into scratch once per invoke and every output pixel is computed
// against it. The products are exact and ACCLO is the accumulator's low 32 bits, so the sum equals the
// portable kernel's int32 (wrapping) sum; the bias is the portable kernel's, the requantization requant.h's
// (one MULSH and one MULL, exact), with its constants made once per invoke.
#define TM_ARCH_KERNEL 1
#include "../conv_2d.c"
#include "requant.h"
#include "zero_overhead_loop.h"

#ifndef __XTENSA__
#error "kernels/xtensa/conv_2d.c is for Xtensa cores with the MAC16 option"
#endif

// What the output stage of one channel reads, in the order channel_block's assembly loads it.
typedef struct {
    int32_t bias;   // the accumulator's start (0 without a bias)
    int32_t M;      // requant.h's fast path: TFLM's multiplier,
    int32_t c;      // 2^(e-1) + Z_out 2^e,
    int32_t e;      // right shift 1..22
} xt_conv_ch_t;

// Rows are padded with zeros to a multiple of 4 int16 (two words: one pass of the loop below).
static int32_t padded_len(const conv_t *c) {
    return (c->row_len + 3) & ~3;
}

// Output channels whose widened filter rows share the scratch (at most 8 KB of them, at least 4 rows).
static int32_t block_channels(const conv_t *c) {
    int32_t cb = 4096 / padded_len(c);
    cb = cb < 4 ? 4 : cb;
    return cb > c->cout_g ? c->cout_g : cb;
}

static uint32_t arch_scratch_bytes(const conv_t *c) {
    // The filter block, the receptive field, and one word past it that the last load reads ahead, then the
    // requantization constants and the bias (0 without one) of every output channel.
    return (uint32_t)((block_channels(c) + 1) * padded_len(c)) * sizeof(int16_t) + 4 +
           (uint32_t)c->g.out_c * (sizeof(xt_rq_t) + sizeof(xt_conv_ch_t));
}

static void arch_prepare(const conv_t *c, params_t *p) {
    (void)c;
    (void)p;
}

// sum(x[i] * w[i]) over 4 * quads int16 pairs (quads >= 1). ldinc adds 4 to the pointer, then loads, so
// both start one word early. Two register pairs alternate: m0/m2 hold the word being multiplied while
// m1/m3 receive the next, then the other way round. The zero-overhead loop's body starts 4-aligned
// (zero_overhead_loop.h).
// The accumulator starts at `init` (the bias): only ACCLO is read, and the low 32 bits of the sum do not
// depend on ACCHI, so ACCHI is left as it is.
static inline int32_t mac16_dot(const int16_t *x, const int16_t *w, int32_t quads, int32_t init) {
    int32_t acc = init;
    const int16_t *xp = x - 2, *wp = w - 2;
    __asm__ volatile(
        "wsr.acclo %[acc]\n\t"
        "ldinc m0, %[xp]\n\t"
        "ldinc m2, %[wp]\n\t"
        XT_LOOP_ALIGN
        "loopnez %[n], 1f\n\t"
        "mula.dd.ll.ldinc m1, %[xp], m0, m2\n\t"
        "mula.dd.hh.ldinc m3, %[wp], m0, m2\n\t"
        "mula.dd.ll.ldinc m0, %[xp], m1, m3\n\t"
        "mula.dd.hh.ldinc m2, %[wp], m1, m3\n\t"
        "1:\n\t"
        "rsr.acclo %[acc]\n\t"
        : [acc] "+r"(acc), [xp] "+r"(xp), [wp] "+r"(wp)
        : [n] "r"(quads)
        : "memory");
    return acc;
}

// Output channels [0, cb) of one pixel, every one inside requant.h's bounds: y[j] = clamp(requant(bias_j +
// row . w_j)), with w_j at w + j * 4 quads int16 (rows contiguous). One loop of assembly per pixel: per channel
// the MAC16 dot product of mac16_dot (one instruction per MAC), then xt_rq_fast, the clamp and the store, with
// the channel's constants loaded from ch[j]: 31 instructions besides the MACs, where the C loop around
// mac16_dot took about 45 (LLVM reloads its pointers and bounds from the stack for every channel).
static void channel_block(const int16_t *row, const int16_t *w, int32_t quads, const xt_conv_ch_t *ch, int32_t cb,
    int8_t *y, int32_t lo, int32_t hi) {
    const int16_t *rowm4 = row - 2, *wp = w - 2;
    int32_t xp, a, h, sg;
    __asm__ volatile(
        "3:\n\t"
        "l32i %[a], %[ch], 0\n\t"
        "or %[xp], %[rowm4], %[rowm4]\n\t"
        "wsr.acclo %[a]\n\t"
        "ldinc m0, %[xp]\n\t"
        "ldinc m2, %[wp]\n\t"
        XT_LOOP_ALIGN
        "loopnez %[quads], 1f\n\t"
        "mula.dd.ll.ldinc m1, %[xp], m0, m2\n\t"
        "mula.dd.hh.ldinc m3, %[wp], m0, m2\n\t"
        "mula.dd.ll.ldinc m0, %[xp], m1, m3\n\t"
        "mula.dd.hh.ldinc m2, %[wp], m1, m3\n\t"
        "1:\n\t"
        "rsr.acclo %[a]\n\t"
        "extui %[sg], %[a], 31, 1\n\t"
        "slli %[a], %[a], 1\n\t"
        "l32i %[xp], %[ch], 4\n\t"
        "mulsh %[h], %[a], %[xp]\n\t"
        "mull %[a], %[a], %[xp]\n\t"
        "extui %[a], %[a], 31, 1\n\t"
        "add %[h], %[h], %[a]\n\t"
        "l32i %[a], %[ch], 8\n\t"
        "add %[h], %[h], %[a]\n\t"
        "sub %[h], %[h], %[sg]\n\t"
        "l32i %[a], %[ch], 12\n\t"
        "ssr %[a]\n\t"
        "sra %[h], %[h]\n\t"
        "max %[h], %[h], %[lo]\n\t"
        "min %[h], %[h], %[hi]\n\t"
        "s8i %[h], %[y], 0\n\t"
        "addi %[y], %[y], 1\n\t"
        "addi %[ch], %[ch], 16\n\t"
        "addi %[wp], %[wp], -4\n\t"
        "addi %[cb], %[cb], -1\n\t"
        "bnez %[cb], 3b\n\t"
        : [wp] "+r"(wp), [ch] "+r"(ch), [cb] "+r"(cb), [y] "+r"(y), [xp] "=&r"(xp), [a] "=&r"(a), [h] "=&r"(h),
          [sg] "=&r"(sg)
        : [rowm4] "r"(rowm4), [quads] "r"(quads), [lo] "r"(lo), [hi] "r"(hi)
        : "memory");
}

// The receptive field of output pixel (b, oy, ox), group grp, as x - Z_in (0 outside the image).
static void field(const conv_t *c, const int8_t *x, int32_t b, int32_t oy, int32_t ox, int32_t grp, int32_t zi,
    int16_t *row) {
    const tm_window_t *g = &c->g;
    const int32_t cin_f = c->cin_f;
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    // A filter row wholly inside the image reads k_w * in_c contiguous values when the taps are adjacent pixels
    // and the group is the whole depth: one loop instead of a bounds check and a loop per tap (vww's first
    // layer, 3 channels: about 200 instructions less per pixel).
    const int whole_rows = g->dil_w == 1 && cin_f == g->in_c && x0 >= 0 && x0 + g->k_w <= g->in_w;
    for (int32_t ky = 0; ky < g->k_h; ky++) {
        const int32_t iy = y0 + ky * g->dil_h;
        const int8_t *xrow = x + ((b * g->in_h + iy) * g->in_w) * g->in_c + grp * cin_f;
        if (whole_rows && iy >= 0 && iy < g->in_h) {
            const int8_t *xp = xrow + x0 * g->in_c;
            const int32_t n = g->k_w * cin_f;
            for (int32_t i = 0; i < n; i++) {
                row[i] = (int16_t)(xp[i] - zi);
            }
            row += n;
            continue;
        }
        for (int32_t kx = 0; kx < g->k_w; kx++, row += cin_f) {
            const int32_t ix = x0 + kx * g->dil_w;
            if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                memset(row, 0, (size_t)cin_f * sizeof(int16_t));
                continue;
            }
            const int8_t *xp = xrow + ix * g->in_c;
            for (int32_t i = 0; i < cin_f; i++) {
                row[i] = (int16_t)(xp[i] - zi);
            }
        }
    }
}

// The receptive field as field() gathers it, for filter depths and input channels in fours ("quad" rows): each
// half holds u = x + 128 (padding: Z_in + 128), and each group of four values is stored in the order 0, 2, 1, 3,
// which the filter rows are widened in too. One l32i gives four values; v ^ 0x80808080 makes them unsigned and
// two masks split them into two words with no sign extension and no subtraction: 9 instructions per four values
// in a zero-overhead loop, where field() takes about 15 per value. Z_in + 128 moves into the accumulator's start:
// sum(w (x - Z_in)) = sum(w u) - (Z_in + 128) sum(w).
static void field_quads(const conv_t *c, const int8_t *x, int32_t b, int32_t oy, int32_t ox, int32_t grp,
    uint32_t padword, int16_t *row) {
    const tm_window_t *g = &c->g;
    const int32_t quads = c->cin_f >> 2;
    const int32_t y0 = oy * g->stride_h - g->pad_h, x0 = ox * g->stride_w - g->pad_w;
    const uint32_t flip = 0x80808080u, mask = 0x00ff00ffu;
    uint32_t *d = (uint32_t *)row;
    for (int32_t ky = 0; ky < g->k_h; ky++) {
        const int32_t iy = y0 + ky * g->dil_h;
        const int8_t *xrow = x + ((b * g->in_h + iy) * g->in_w) * g->in_c + grp * c->cin_f;
        for (int32_t kx = 0; kx < g->k_w; kx++) {
            const int32_t ix = x0 + kx * g->dil_w;
            if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                for (int32_t i = 0; i < 2 * quads; i++) {
                    *d++ = padword;
                }
                continue;
            }
            const int8_t *src = xrow + ix * g->in_c;
            uint32_t v, e;
            __asm__ volatile(
                XT_LOOP_ALIGN
                "loopnez %[n], 1f\n\t"
                "l32i %[v], %[src], 0\n\t"
                "addi %[src], %[src], 4\n\t"
                "xor %[v], %[v], %[flip]\n\t"
                "and %[e], %[v], %[mask]\n\t"
                "srli %[v], %[v], 8\n\t"
                "and %[v], %[v], %[mask]\n\t"
                "s32i %[e], %[d], 0\n\t"
                "s32i %[v], %[d], 4\n\t"
                "addi %[d], %[d], 8\n\t"
                "1:\n\t"
                : [src] "+r"(src), [d] "+r"(d), [v] "=&r"(v), [e] "=&r"(e)
                : [n] "r"(quads), [flip] "r"(flip), [mask] "r"(mask)
                : "memory");
        }
    }
}

static tm_status_t arch_eval_int8(tm_model_t *m, tm_node_t *n, const conv_t *c) {
    const tm_window_t *g = &c->g;
    const params_t *p = tm_persistent(m, n);
    const int32_t len = c->row_len, pad = padded_len(c), cb_max = block_channels(c);
    int16_t *wblk = tm_scratch(m, n);
    int16_t *row = wblk + cb_max * pad;
    const int8_t *x = (const int8_t *)c->in->data;
    const int8_t *w = (const int8_t *)c->w->data;
    const int32_t *bias = c->bias ? (const int32_t *)c->bias->data : 0;
    int8_t *y = (int8_t *)c->out->data;
    const int32_t zi = c->in->zero_point, zo = c->out->zero_point, lo = p->act_lo, hi = p->act_hi;
    memset(wblk, 0, (size_t)(cb_max + 1) * (size_t)pad * sizeof(int16_t) + 4);   // the zero padding
    xt_rq_t *rq = (xt_rq_t *)(row + pad + 2);
    xt_conv_ch_t *ch = (xt_conv_ch_t *)(rq + g->out_c);
    // Rows in fours (field_quads) when every tap's values are whole aligned words of the input.
    const int quads = c->cin_f % 4 == 0 && g->in_c % 4 == 0 && ((uintptr_t)x & 3) == 0;
    const uint32_t padword = (uint32_t)(zi + 128) * 0x00010001u;
    int all_fast = 1;     // every channel takes requant.h's fast path: channel_block does the whole pixel
    for (int32_t oc = 0; oc < g->out_c; oc++) {
        const int32_t b0 = bias ? bias[oc] : 0;
        rq[oc] = xt_rq(p->q[oc].multiplier, p->q[oc].shift, zo, xt_acc_bound(b0, len));
        ch[oc].bias = b0;
        ch[oc].M = rq[oc].M;
        ch[oc].c = rq[oc].c;
        ch[oc].e = rq[oc].e;
        all_fast &= rq[oc].e != 0;
    }
    for (int32_t grp = 0; grp < c->groups; grp++) {
        const int32_t oc_end = (grp + 1) * c->cout_g;
        for (int32_t oc0 = grp * c->cout_g; oc0 < oc_end; oc0 += cb_max) {
            const int32_t cb = oc_end - oc0 < cb_max ? oc_end - oc0 : cb_max;
            for (int32_t j = 0; j < cb; j++) {
                const int8_t *wr = w + (oc0 + j) * len;
                int16_t *wb = wblk + j * pad;
                if (quads) {        // field_quads' order, and Z_in + 128 into the start
                    int32_t sum = 0;
                    for (int32_t k = 0; k < len; k += 4) {
                        const int32_t w0 = wr[k], w1 = wr[k + 1], w2 = wr[k + 2], w3 = wr[k + 3];
                        wb[k] = (int16_t)w0;
                        wb[k + 1] = (int16_t)w2;
                        wb[k + 2] = (int16_t)w1;
                        wb[k + 3] = (int16_t)w3;
                        sum += w0 + w1 + w2 + w3;
                    }
                    ch[oc0 + j].bias -= (zi + 128) * sum;
                } else {
                    for (int32_t k = 0; k < len; k++) {
                        wb[k] = wr[k];
                    }
                }
            }
            int8_t *yp = y + oc0;
            for (int32_t b = 0; b < g->batches; b++) {
                for (int32_t oy = 0; oy < g->out_h; oy++) {
                    for (int32_t ox = 0; ox < g->out_w; ox++, yp += g->out_c) {
                        if (quads) {
                            field_quads(c, x, b, oy, ox, grp, padword, row);
                        } else {
                            field(c, x, b, oy, ox, grp, zi, row);
                        }
                        if (all_fast) {
                            channel_block(row, wblk, pad >> 2, ch + oc0, cb, yp, lo, hi);
                        } else {
                            const xt_rq_t *q = rq + oc0;
                            for (int32_t j = 0; j < cb; j++) {
                                const int32_t a = mac16_dot(row, wblk + j * pad, pad >> 2, ch[oc0 + j].bias);
                                yp[j] = (int8_t)tm_clamp(xt_rq_apply(a, &q[j]), lo, hi);
                            }
                        }
                    }
                }
            }
        }
    }
    return TM_OK;
}
