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

#define XT_LANES 4

static uint32_t arch_scratch_bytes(const dw_t *c) {
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
        // loop takes 28. Its body starts 4-aligned, as in xtensa/conv_2d.c (the padding is jumped over).
        const int32_t *xo = xoff;
        const int16_t *wp = wg;
        int32_t pa, v, u;
        __asm__ volatile(
            "j 2f\n\t"
            ".p2align 2\n\t"
            ".byte 0\n\t"
            "2:\n\t"
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
