// Shared by SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND: 3-D [N, H, C] or 4-D [N, H, W, C] tensors, a constant
// int32 block shape and a constant int32 [spatial, 2] paddings (or crops) tensor. 3-D is handled as 4-D with
// W = 1 and block width 1.
#ifndef TM_BATCH_SPACE_COMMON_H
#define TM_BATCH_SPACE_COMMON_H

#include "../tm_internal.h"

typedef struct {
    tm_tensor_t *in, *out;
    int32_t n, h, w, c;             // the input as 4-D
    int32_t on, oh, ow;             // the output as 4-D (channels equal)
    int32_t bh, bw, top, left, bottom, right;   // block shape; paddings or crops
    uint32_t elem;
} tm_batch_space_t;

static inline tm_status_t tm_batch_space_read(tm_model_t *m, tm_node_t *n, tm_batch_space_t *s) {
    if (tm_expect_io(m, n, 3, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    s->in = tm_in(m, n, 0);
    s->out = tm_out(m, n, 0);
    tm_tensor_t *block = tm_in(m, n, 1), *pads = tm_in(m, n, 2);
    const int rank = s->in->ndim, spatial = rank - 2;
    if ((rank != 3 && rank != 4) || s->out->ndim != rank) {
        return tm_fail(m, "input and output must both be 3-D or 4-D");
    }
    if (s->in->type != s->out->type) {
        return tm_fail(m, "input and output types differ");
    }
    if (block->type != TM_INT32 || !block->is_const || tm_elements(block) != spatial || pads->type != TM_INT32 ||
        !pads->is_const || pads->ndim != 2 || pads->dims[0] != spatial || pads->dims[1] != 2) {
        return tm_fail(m, "block shape and paddings/crops must be constant int32 of shapes [%d] and [%d, 2]",
            spatial, spatial);
    }
    s->elem = tm_type_size(s->in->type);
    s->n = s->in->dims[0];
    s->h = s->in->dims[1];
    s->w = rank == 4 ? s->in->dims[2] : 1;
    s->c = s->in->dims[rank - 1];
    s->on = s->out->dims[0];
    s->oh = s->out->dims[1];
    s->ow = rank == 4 ? s->out->dims[2] : 1;
    s->bh = tm_load_i32(block->data);
    s->bw = rank == 4 ? tm_load_i32(block->data + 4) : 1;
    s->top = tm_load_i32(pads->data);
    s->bottom = tm_load_i32(pads->data + 4);
    s->left = rank == 4 ? tm_load_i32(pads->data + 8) : 0;
    s->right = rank == 4 ? tm_load_i32(pads->data + 12) : 0;
    if (s->bh < 1 || s->bw < 1 || s->bh > 0xffff || s->bw > 0xffff) {
        return tm_fail(m, "block shape must be in 1..65535");
    }
    if (s->top < 0 || s->bottom < 0 || s->left < 0 || s->right < 0 || s->top > 0xffffff || s->bottom > 0xffffff ||
        s->left > 0xffffff || s->right > 0xffffff) {
        return tm_fail(m, "paddings/crops must be in 0..2^24");
    }
    if (s->out->dims[rank - 1] != s->c) {
        return tm_fail(m, "output has %d channels, input %d", s->out->dims[rank - 1], s->c);
    }
    return TM_OK;
}

// The output shape the op computes is (on, oh, ow). The converter stores a placeholder when the batch is
// dynamic (Keras' default): then the computed shape replaces it, as TF Lite does (TFLM keeps the stored
// shape and computes only part of the output). Any other disagreement is a corrupt model.
static inline tm_status_t tm_batch_space_output(tm_model_t *m, tm_node_t *n, tm_batch_space_t *s, int32_t on,
    int32_t oh, int32_t ow) {
    if (s->on == on && s->oh == oh && s->ow == ow) {
        return TM_OK;
    }
    int32_t dims[4] = { on, oh, ow, s->c };
    if (s->out->ndim == 3) {
        dims[2] = s->c;
    }
    if (!tm_dynamic_batch(m, s->out) || tm_set_shape(m, s->out, dims, s->out->ndim) != TM_OK) {
        return tm_fail(m, "output shape disagrees with the block shape, paddings and crops");
    }
    return tm_batch_space_read(m, n, s);
}

// The two ops move the same pixels in opposite directions. The batch-side tensor (SPACE_TO_BATCH_ND's output,
// BATCH_TO_SPACE_ND's input) is walked in memory order: its batch b holds spatial phase b / N of space-side
// batch b % N (N the space-side batch), shifted by the top/left paddings or crops. to_batch copies space
// pixels in and `fill`s those in the padding; otherwise pixels are copied out and the cropped ones dropped.
static inline void tm_batch_space_copy(const tm_batch_space_t *s, int to_batch, uint8_t fill) {
    const uint32_t pixel = (uint32_t)s->c * s->elem;
    const int32_t nb = to_batch ? s->on : s->n, hb = to_batch ? s->oh : s->h, wb = to_batch ? s->ow : s->w;
    const int32_t ns = to_batch ? s->n : s->on, hs = to_batch ? s->h : s->oh, ws = to_batch ? s->w : s->ow;
    uint8_t *batch = to_batch ? s->out->data : s->in->data;
    uint8_t *space = to_batch ? s->in->data : s->out->data;
    for (int32_t b = 0; b < nb; b++) {
        const int32_t sb = b % ns, phase = b / ns;
        const int32_t py = phase / s->bw, px = phase % s->bw;
        for (int32_t by = 0; by < hb; by++) {
            const int32_t sy = by * s->bh + py - s->top;
            for (int32_t bx = 0; bx < wb; bx++, batch += pixel) {
                const int32_t sx = bx * s->bw + px - s->left;
                if (sy < 0 || sy >= hs || sx < 0 || sx >= ws) {
                    if (to_batch) {
                        memset(batch, fill, pixel);     // padding (a cropped pixel is dropped)
                    }
                    continue;
                }
                uint8_t *p = space + (uint32_t)((sb * hs + sy) * ws + sx) * pixel;
                if (to_batch) {
                    memcpy(batch, p, pixel);
                } else {
                    memcpy(p, batch, pixel);
                }
            }
        }
    }
}

#endif
