// PAD and PADV2: constant padding of up to 5-D tensors of any element type (int8, float32, int16, int32).
// tinyml-op: PAD 34
// tinyml-op: PADV2 60
// The pad value is 0, or for int8 the output zero point (PAD), or the constant input (PADV2). int16 (16x8) PAD
// pads with 0 as TFLM does (16x8 zero points are 0). No arithmetic: the input's bytes are copied row by row
// into an output pre-filled with the pad value.
#include "../tm_internal.h"

#define PAD_DIMS 5

typedef struct {
    tm_tensor_t *in, *out, *value;
    int32_t in_dims[PAD_DIMS], before[PAD_DIMS], out_dims[PAD_DIMS];
    uint32_t elem;
} pad_t;

// Element i of a constant int32 or int64 paddings tensor (int64 values must fit 32 bits; checked by caller).
static int64_t pad_at(const tm_tensor_t *p, int32_t i) {
    if (p->type == TM_INT32) {
        return tm_load_i32(p->data + 4 * i);
    }
    uint32_t lo = tm_load_u32(p->data + 8 * i), hi = tm_load_u32(p->data + 8 * i + 4);
    return (int64_t)(((uint64_t)hi << 32) | lo);
}

static tm_status_t get_pad(tm_model_t *m, tm_node_t *n, pad_t *p) {
    if (tm_expect_io(m, n, 2, 3, 1) != TM_OK) {
        return TM_ERROR;
    }
    p->in = tm_in(m, n, 0);
    p->out = tm_out(m, n, 0);
    p->value = tm_in(m, n, 2);
    tm_tensor_t *pads = tm_in(m, n, 1);
    const int rank = p->in->ndim;
    if (rank > PAD_DIMS || p->out->ndim != rank) {
        return tm_fail(m, "input and output must have the same rank, at most %d", PAD_DIMS);
    }
    if ((pads->type != TM_INT32 && pads->type != TM_INT64) || !pads->is_const || pads->ndim != 2 ||
        pads->dims[0] != rank || pads->dims[1] != 2) {
        return tm_fail(m, "paddings must be a constant int32 tensor of shape [%d, 2]", rank);
    }
    if (p->in->type != p->out->type) {
        return tm_fail(m, "input is %s, output %s", tm_type_name(p->in->type), tm_type_name(p->out->type));
    }
    p->elem = tm_type_size(p->in->type);
    // Leading dims of 1 make every case 5-D.
    const int lead = PAD_DIMS - rank;
    for (int d = 0; d < PAD_DIMS; d++) {
        int64_t before = 0, after = 0;
        int32_t size = 1, out = 1;
        if (d >= lead) {
            before = pad_at(pads, 2 * (d - lead));
            after = pad_at(pads, 2 * (d - lead) + 1);
            size = p->in->dims[d - lead];
            out = p->out->dims[d - lead];
        }
        if (before < 0 || after < 0 || before > 0x7fffffff || after > 0x7fffffff || before + after + size != out) {
            return tm_fail(m, "dim %d: input %d padded by (%d, %d) does not give the output's %d", d - lead, size,
                (int32_t)before, (int32_t)after, out);
        }
        p->in_dims[d] = size;
        p->out_dims[d] = out;
        p->before[d] = (int32_t)before;
    }
    if (p->value && (p->value->type != p->in->type || tm_elements(p->value) != 1)) {
        return tm_fail(m, "constant value must be one %s", tm_type_name(p->in->type));
    }
    return TM_OK;
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    pad_t p = { 0 };
    if (get_pad(m, n, &p) != TM_OK) {
        return TM_ERROR;
    }
    if (p.in->type == TM_INT8 && p.value &&
        (p.value->scale != p.out->scale || p.value->zero_point != p.out->zero_point)) {
        return tm_fail(m, "int8 constant value must have the output's scale and zero point");
    }
    return TM_OK;
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    pad_t p = { 0 };
    get_pad(m, n, &p);
    // The pad value's bytes: the constant input, else 0 (int8 PAD: the output zero point).
    uint8_t value[8] = { 0 };
    if (p.value) {
        memcpy(value, p.value->data, p.elem);
    } else if (p.in->type == TM_INT8) {
        value[0] = (uint8_t)(int8_t)p.out->zero_point;
    }
    uint8_t *y = p.out->data;
    const uint32_t total = p.out->bytes;
    if (p.elem == 1) {
        memset(y, value[0], total);
    } else if (total) {
        // One value, then the filled part copied after itself, doubling: log2(elements) memcpy calls, where a
        // memcpy per element was a call per element (the size is not a constant, so on every arch).
        memcpy(y, value, p.elem);
        for (uint32_t filled = p.elem; filled < total; filled *= 2) {
            memcpy(y + filled, y, filled < total - filled ? filled : total - filled);
        }
    }
    // Copy each innermost input row to its place in the output.
    const uint32_t row = (uint32_t)p.in_dims[4] * p.elem;
    const uint8_t *x = p.in->data;
    for (int32_t a = 0; a < p.in_dims[0]; a++) {
        for (int32_t b = 0; b < p.in_dims[1]; b++) {
            for (int32_t c = 0; c < p.in_dims[2]; c++) {
                for (int32_t d = 0; d < p.in_dims[3]; d++) {
                    int32_t o = p.before[0] + a;
                    o = o * p.out_dims[1] + p.before[1] + b;
                    o = o * p.out_dims[2] + p.before[2] + c;
                    o = o * p.out_dims[3] + p.before[3] + d;
                    o = o * p.out_dims[4] + p.before[4];
                    if (row) {
                        memcpy(y + (uint32_t)o * p.elem, x, row);
                    }
                    x += row;
                }
            }
        }
    }
    return TM_OK;
}

int tm_kernel_pad(tm_kernel_t *k) {
    k->name = "PAD";
    k->init = init;
    k->prepare = 0;
    k->eval = eval;
    k->reshapes = 0;
    return 1;
}
