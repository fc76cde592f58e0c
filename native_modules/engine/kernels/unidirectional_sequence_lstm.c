// UNIDIRECTIONAL_SEQUENCE_LSTM: the fused LSTM of legacy Keras (tf_keras) and the TF1 converter, as TFLM runs
// it: int8 activations with int8 weights, int32 biases and an int16 cell state (TFLM's integer LSTM), and
// float32, with a tanh cell activation. Like TFLM: no peephole, projection, layer norm or CIFG (those inputs
// must be omitted).
// tinyml-types: int8 float32
// tinyml-op: UNIDIRECTIONAL_SEQUENCE_LSTM 44
// tinyml-uses-float: tm_math.c
//
// The hidden and cell states are the op's inputs 18 and 19, variable tensors in TFLite. TFLM keeps them
// across invokes (a sequence continues where the last invoke left it) and resets them only with the
// interpreter (int8 to the zero point, everything else to 0). This kernel keeps them in its persistent data
// (so they survive invokes whatever the planner does with the model's tensors 18/19, whose quantization is
// all it reads) and resets them in tm_model_reset.
//
// Integer arithmetic per time step (TFLM lstm_eval.h), for each gate g of input, forget, cell, output:
//   g = act( sat16( FC(x_t, W_xg, b_g) + FC(h, W_hg) ) ), both FCs int8 -> int16 at scale 2^-12 (Q3.12),
//   act = sigmoid (tanh for the cell gate) on int16, giving Q0.15;
//   c = sat16( mul(f, c) + mul(i, g) ) [clipped to +-cell_clip], h = mul(tanh(c), o) -> int8.
// The gates are computed in TFLM's order (forget, input, cell, cell update, output, hidden): the output gate
// reads the hidden state of the previous step, which is overwritten only at the end of the step.
#include "../tm_internal.h"
#include "../tm_math.h"
#include "../tm_quant.h"
#include "int16_sigmoid.h"

enum { OPT_ACTIVATION = 0, OPT_CELL_CLIP = 1, OPT_PROJ_CLIP = 2, OPT_TIME_MAJOR = 3 };
enum { IN_X = 0, IN_W_X = 1, IN_W_H = 5, IN_PEEPHOLE = 9, IN_BIAS = 12, IN_PROJECTION = 16, IN_H = 18, IN_C = 19,
       IN_LAYER_NORM = 20, N_INPUTS = 24 };
// Gate g's weights are inputs IN_W_X + g and IN_W_H + g, its bias IN_BIAS + g (TFLite's input order).
enum { GATE_INPUT = 0, GATE_FORGET = 1, GATE_CELL = 2, GATE_OUTPUT = 3, N_GATES = 4 };
enum { ACT_TANH = 4, ACT_SIGMOID = 6 };     // (SIGMOID: TFLM's internal value, for the gates)

typedef struct {
    int32_t x_mult, x_shift;    // FC(x) -> Q3.12
    int32_t h_mult, h_shift;    // FC(h) -> Q3.12
    int32_t wx_zp, wh_zp;       // weight zero points (0 from the converter; TFLM subtracts them)
} gate_params_t;

typedef struct {
    int32_t batches, steps, features, units;
    uint8_t time_major, cell_act, is_float;
    int16_t cell_clip_q;        // int16 cell clip (0 = none)
    float cell_clip;            // float32 cell clip (0 = none)
    int32_t x_zp, h_zp;
    int32_t cell_tanh_mult, cell_tanh_shift;   // tanh(c) input scaling, from the cell scale's power of two
    int32_t fc_mult, fc_shift;  // f * c -> c
    int32_t ig_mult, ig_shift;  // i * g -> c
    int32_t hid_mult, hid_shift; // tanh(c) * o -> h (int8)
    gate_params_t gate[N_GATES];
    uint32_t state_offset;      // hidden then cell state, from the start of this struct
} lstm_params_t;

// int16 LOGISTIC (input Q3.12 scaled by mult/2^shift, output Q0.15), TFLM's reference_integer_ops::Logistic.
static int16_t sigmoid16(int32_t x, int32_t mult, int32_t shift) {
    return tm_int16_sigmoid_or_tanh(tm_int16_act_input(x, mult, shift), 0);
}

// int16 TANH (tanh(x) = 2 sigmoid(2x) - 1), TFLM's reference_integer_ops::Tanh.
static int16_t tanh16(int32_t x, int32_t mult, int32_t shift) {
    return tm_int16_sigmoid_or_tanh(tm_int16_act_input(x, mult, shift), 1);
}

// TFLM's (multiplier, shift) for its int16 tanh/logistic given "left shift" l: 3 * 2^l, or 3 / 2^-l.
static void tanh_scaling(int32_t left_shift, int32_t *mult, int32_t *shift) {
    if (left_shift < 0) {
        *mult = 3;
        *shift = -left_shift;
    } else {
        *mult = 3 << left_shift;
        *shift = 0;
    }
}

static inline int16_t sat16(int32_t v) {
    return (int16_t)tm_clamp(v, -32768, 32767);
}

// round(log2(scale)) as TFLM's CheckedLog2 (log2 computed in float, then rounded): the exponent of the
// float, plus one when its mantissa exceeds sqrt(2).
static int32_t log2_rounded(float scale) {
    union { float f; uint32_t u; } v = { scale };
    int32_t e = (int32_t)((v.u >> 23) & 0xff) - 127;
    return (v.u & 0x7fffff) > 0x3504f3 ? e + 1 : e;
}

static int is_omitted(tm_model_t *m, tm_node_t *n, int i) {
    return tm_in_index(m, n, i) < 0;
}

// Checks everything eval relies on; fills the sizes of *p (init and prepare both call it).
static tm_status_t check(tm_model_t *m, tm_node_t *n, lstm_params_t *p) {
    if (n->n_in != N_INPUTS || n->n_out != 1) {
        return tm_fail(m, "expects %d inputs and 1 output, has %d and %d (as TFLM)", N_INPUTS, n->n_in, n->n_out);
    }
    for (int i = 0; i < N_INPUTS; i++) {
        const int optional = (i >= IN_PEEPHOLE && i < IN_BIAS) || i == IN_PROJECTION || i == IN_PROJECTION + 1 ||
                             i >= IN_LAYER_NORM;
        if (optional && !is_omitted(m, n, i)) {
            return tm_fail(m, "input %d (peephole, projection or layer norm) is not supported, as in TFLM", i);
        }
        if (!optional && is_omitted(m, n, i)) {
            return tm_fail(m, "input %d is missing (CIFG LSTMs are not supported, as in TFLM)", i);
        }
    }
    tm_tensor_t *x = tm_in(m, n, IN_X), *out = tm_out(m, n, 0);
    tm_tensor_t *h = tm_in(m, n, IN_H), *c = tm_in(m, n, IN_C);
    if (x->ndim != 3 || out->ndim != 3) {
        return tm_fail(m, "input and output must be 3-D, got %d-D and %d-D", x->ndim, out->ndim);
    }
    p->time_major = (uint8_t)(tm_opt_u8(m, n, OPT_TIME_MAJOR, 0) != 0);
    p->batches = x->dims[p->time_major ? 1 : 0];
    p->steps = x->dims[p->time_major ? 0 : 1];
    p->features = x->dims[2];
    p->units = tm_in(m, n, IN_W_X + GATE_FORGET)->ndim == 2 ? tm_in(m, n, IN_W_X + GATE_FORGET)->dims[0] : 0;
    if (p->batches <= 0 || p->steps <= 0 || p->features <= 0 || p->units <= 0) {
        return tm_fail(m, "empty input or weights");
    }
    if (out->dims[0] != x->dims[0] || out->dims[1] != x->dims[1] || out->dims[2] != p->units) {
        return tm_fail(m, "output shape must be the input's with %d units last", p->units);
    }
    if (tm_elements(h) != p->batches * p->units || tm_elements(c) != p->batches * p->units) {
        return tm_fail(m, "hidden and cell states must hold %d x %d values", p->batches, p->units);
    }
    p->is_float = (uint8_t)tm_is_f32(x);
    const int wtype = p->is_float ? TM_FLOAT32 : TM_INT8, btype = p->is_float ? TM_FLOAT32 : TM_INT32;
    if (!p->is_float) {
        if (x->type != TM_INT8) {
            return tm_fail(m, "input must be int8 or float32 (16x8 LSTMs are not supported yet)");
        }
        if (c->type != TM_INT16) {
            return tm_fail(m, "an int8 LSTM needs an int16 cell state (full-integer conversion gives one)");
        }
    }
    if (tm_expect_type(m, out, x->type, "output") != TM_OK || tm_expect_type(m, h, x->type, "hidden state") != TM_OK ||
        (p->is_float && tm_expect_type(m, c, TM_FLOAT32, "cell state") != TM_OK)) {
        return TM_ERROR;
    }
    for (int g = 0; g < N_GATES; g++) {
        tm_tensor_t *wx = tm_in(m, n, IN_W_X + g), *wh = tm_in(m, n, IN_W_H + g), *b = tm_in(m, n, IN_BIAS + g);
        if (tm_expect_type(m, wx, wtype, "input weights") != TM_OK ||
            tm_expect_type(m, wh, wtype, "recurrent weights") != TM_OK ||
            tm_expect_type(m, b, btype, "bias") != TM_OK) {
            return TM_ERROR;
        }
        if (!wx->is_const || !wh->is_const || !b->is_const) {
            return tm_fail(m, "weights and biases must be constant");
        }
        if (wx->ndim != 2 || wx->dims[0] != p->units || wx->dims[1] != p->features || wh->ndim != 2 ||
            wh->dims[0] != p->units || wh->dims[1] != p->units || tm_elements(b) != p->units) {
            return tm_fail(m, "gate %d: weights must be [%d, %d] and [%d, %d], bias [%d]", g, p->units, p->features,
                           p->units, p->units, p->units);
        }
        if (!p->is_float && (wx->n_scales > 1 || wh->n_scales > 1)) {
            return tm_fail(m, "per-channel LSTM weights are not supported (TFLM's LSTM is per-tensor)");
        }
    }
    // The schema's activations have no SIGMOID (TFLM's kernel also takes its internal sigmoid, which no model
    // can name), and TFLM computes the others wrongly (an assertion compiled out): tanh only.
    const int32_t act = tm_opt_u8(m, n, OPT_ACTIVATION, 0);
    if (act != ACT_TANH) {
        return tm_fail(m, "cell activation %d is not supported: only TANH (Keras' default), as TFLM", act);
    }
    p->cell_act = (uint8_t)act;
    return TM_OK;
}

static uint32_t state_bytes(const lstm_params_t *p) {
    const uint32_t cells = (uint32_t)(p->batches * p->units);
    return p->is_float ? cells * 8u : cells * 3u;      // hidden then cell: float32 both, or int8 and int16
}

static tm_status_t init(tm_model_t *m, tm_node_t *n, tm_node_request_t *req) {
    lstm_params_t p;
    if (check(m, n, &p) != TM_OK) {
        return TM_ERROR;
    }
    // The int16 cell state follows the int8 hidden state: keep it 2-byte aligned.
    const uint32_t state_offset = (sizeof(lstm_params_t) + 7u) & ~7u;
    req->persistent_bytes = state_offset + ((state_bytes(&p) + 1u) & ~1u);
    // Four gate buffers of one batch row (TFLM's four scratch buffers hold all rows of a time-major step;
    // the rows are independent, so one row at a time gives the same values).
    req->scratch_bytes = (uint32_t)(N_GATES * p.units) * (p.is_float ? 4u : 2u);
    return TM_OK;
}

static tm_status_t prepare(tm_model_t *m, tm_node_t *n) {
    lstm_params_t *p = tm_persistent(m, n);
    memset(p, 0, sizeof(*p));
    check(m, n, p);
    p->state_offset = (sizeof(lstm_params_t) + 7u) & ~7u;
    if (p->is_float) {
        const float clip = tm_opt_f32(m, n, OPT_CELL_CLIP, 0.0f);
        p->cell_clip = clip > 0.0f ? clip : 0.0f;
        return TM_OK;
    }
    tm_tensor_t *x = tm_in(m, n, IN_X), *h = tm_in(m, n, IN_H), *c = tm_in(m, n, IN_C);
    p->x_zp = x->zero_point;
    p->h_zp = h->zero_point;
    const float q3_12 = 1.0f / 4096.0f, q0_15 = 1.0f / 32768.0f;
    int ok = 1, shift;
    for (int g = 0; g < N_GATES; g++) {
        tm_tensor_t *wx = tm_in(m, n, IN_W_X + g), *wh = tm_in(m, n, IN_W_H + g);
        gate_params_t *gp = &p->gate[g];
        ok &= tm_quantize_ratio(x->scale, wx->scale, q3_12, 1.0f, &gp->x_mult, &shift);
        gp->x_shift = shift;
        ok &= tm_quantize_ratio(h->scale, wh->scale, q3_12, 1.0f, &gp->h_mult, &shift);
        gp->h_shift = shift;
        gp->wx_zp = wx->zero_point;
        gp->wh_zp = wh->zero_point;
    }
    ok &= tm_quantize_ratio(q0_15, c->scale, c->scale, 1.0f, &p->fc_mult, &shift);
    p->fc_shift = shift;
    ok &= tm_quantize_ratio(q0_15, q0_15, c->scale, 1.0f, &p->ig_mult, &shift);
    p->ig_shift = shift;
    ok &= tm_quantize_ratio(q0_15, q0_15, h->scale, 1.0f, &p->hid_mult, &shift);
    p->hid_shift = shift;
    if (!ok) {
        return tm_fail(m, "a scale of the input, weights or states is zero or out of range");
    }
    // tanh(c): TFLM scales the cell (2^power) to its tanh's Q3.12 input with a left shift of 15 + power - 3.
    // Beyond 14 the int16 cell times 3 << shift overflows int32 (in TFLM too); below -31 the shift is undefined.
    const int32_t left_shift = 15 + log2_rounded(c->scale) - 3;
    if (left_shift > 14 || left_shift < -31) {
        return tm_fail(m, "cell state scale 2^%d is out of range for TFLM's int16 tanh", left_shift - 12);
    }
    tanh_scaling(left_shift, &p->cell_tanh_mult, &p->cell_tanh_shift);
    // TFLM: (int16)clamp((double)clip / scale, -32768, 32767); exact in float for the power-of-two cell scale
    // its integer tanh assumes.
    const float clip = tm_opt_f32(m, n, OPT_CELL_CLIP, 0.0f);
    if (clip > 0.0f) {
        const float q = clip / c->scale;
        p->cell_clip_q = (int16_t)(q >= 32767.0f ? 32767 : (int32_t)q);
    }
    return TM_OK;
}

static void reset(tm_model_t *m, tm_node_t *n) {
    lstm_params_t *p = tm_persistent(m, n);
    uint8_t *state = (uint8_t *)p + p->state_offset;
    const uint32_t cells = (uint32_t)(p->batches * p->units);
    if (p->is_float) {
        memset(state, 0, cells * 8u);               // 0.0f
    } else {
        memset(state, (uint8_t)p->h_zp, cells);     // int8 hidden state: its zero point, as TFLM
        memset(state + cells, 0, cells * 2u);       // int16 cell state: 0
    }
}

// One gate of one batch row in int16: FC(x) + FC(h) saturated, then the activation.
static void gate_int8(const lstm_params_t *p, const gate_params_t *gp, const int8_t *x, const int8_t *wx,
                      const int32_t *bias, const int8_t *h, const int8_t *wh, int activation, int16_t *out) {
    const int32_t F = p->features, U = p->units;
    for (int32_t u = 0; u < U; u++) {
        int32_t acc = 0;
        for (int32_t d = 0; d < F; d++) {
            acc += (wx[u * F + d] - gp->wx_zp) * (x[d] - p->x_zp);
        }
        acc += bias[u];
        const int32_t from_x = tm_clamp(tm_mbqm(acc, gp->x_mult, gp->x_shift), -32768, 32767);
        acc = 0;
        for (int32_t d = 0; d < U; d++) {
            acc += (wh[u * U + d] - gp->wh_zp) * (h[d] - p->h_zp);
        }
        const int32_t from_h = tm_clamp(tm_mbqm(acc, gp->h_mult, gp->h_shift), -32768, 32767);
        const int16_t sum = sat16(from_x + from_h);
        // Q3.12 in: sigmoid scales by 3 (TFLM's "power of two case" with shift 0), tanh likewise.
        out[u] = activation == ACT_SIGMOID ? sigmoid16(sum, 3, 0) : tanh16(sum, 3, 0);
    }
}

static void eval_int8_row(tm_model_t *m, tm_node_t *n, const lstm_params_t *p, const int8_t *x, int8_t *h,
                          int16_t *c, int16_t *buf) {
    const int32_t U = p->units;
    int16_t *gate_f = buf, *gate_i = buf + U, *gate_g = buf + 2 * U, *gate_o = buf + 3 * U;
#define W(i) ((const int8_t *)tm_in(m, n, (i))->data)
#define B(i) ((const int32_t *)tm_in(m, n, (i))->data)
    gate_int8(p, &p->gate[GATE_FORGET], x, W(IN_W_X + GATE_FORGET), B(IN_BIAS + GATE_FORGET), h,
              W(IN_W_H + GATE_FORGET), ACT_SIGMOID, gate_f);
    gate_int8(p, &p->gate[GATE_INPUT], x, W(IN_W_X + GATE_INPUT), B(IN_BIAS + GATE_INPUT), h,
              W(IN_W_H + GATE_INPUT), ACT_SIGMOID, gate_i);
    gate_int8(p, &p->gate[GATE_CELL], x, W(IN_W_X + GATE_CELL), B(IN_BIAS + GATE_CELL), h,
              W(IN_W_H + GATE_CELL), p->cell_act, gate_g);
    for (int32_t u = 0; u < U; u++) {
        // int16 MULs, each clamped to int16, then a saturating add (TFLM's UpdateLstmCell).
        const int16_t fc = sat16(tm_mbqm(gate_f[u] * c[u], p->fc_mult, p->fc_shift));
        const int16_t ig = sat16(tm_mbqm(gate_i[u] * gate_g[u], p->ig_mult, p->ig_shift));
        int16_t cell = sat16(fc + ig);
        if (p->cell_clip_q > 0) {
            cell = (int16_t)tm_clamp(cell, -p->cell_clip_q, p->cell_clip_q);
        }
        c[u] = cell;
    }
    // The output gate still reads the previous hidden state: h is written only below.
    gate_int8(p, &p->gate[GATE_OUTPUT], x, W(IN_W_X + GATE_OUTPUT), B(IN_BIAS + GATE_OUTPUT), h,
              W(IN_W_H + GATE_OUTPUT), ACT_SIGMOID, gate_o);
#undef W
#undef B
    for (int32_t u = 0; u < U; u++) {
        const int32_t t = tanh16(c[u], p->cell_tanh_mult, p->cell_tanh_shift);
        h[u] = (int8_t)tm_clamp(p->h_zp + tm_mbqm(t * gate_o[u], p->hid_mult, p->hid_shift), -128, 127);
    }
}

// float32: TFLM's reference FC (products summed in order, then the bias), logistic and tanh of tm_math.
static void gate_f32(const lstm_params_t *p, const float *x, const float *wx, const float *bias, const float *h,
                     const float *wh, int activation, float *out) {
    const int32_t F = p->features, U = p->units;
    for (int32_t u = 0; u < U; u++) {
        float from_x = 0.0f, from_h = 0.0f;
        for (int32_t d = 0; d < F; d++) {
            from_x += x[d] * wx[u * F + d];
        }
        from_x += bias[u];
        for (int32_t d = 0; d < U; d++) {
            from_h += h[d] * wh[u * U + d];
        }
        const float sum = from_x + from_h;
        out[u] = activation == ACT_SIGMOID ? tm_logisticf(sum) : tm_tanhf(sum);
    }
}

static void eval_f32_row(tm_model_t *m, tm_node_t *n, const lstm_params_t *p, const float *x, float *h, float *c,
                         float *buf) {
    const int32_t U = p->units;
    float *gate_f = buf, *gate_i = buf + U, *gate_g = buf + 2 * U, *gate_o = buf + 3 * U;
#define W(i) ((const float *)tm_in(m, n, (i))->data)
    gate_f32(p, x, W(IN_W_X + GATE_FORGET), W(IN_BIAS + GATE_FORGET), h, W(IN_W_H + GATE_FORGET), ACT_SIGMOID, gate_f);
    gate_f32(p, x, W(IN_W_X + GATE_INPUT), W(IN_BIAS + GATE_INPUT), h, W(IN_W_H + GATE_INPUT), ACT_SIGMOID, gate_i);
    gate_f32(p, x, W(IN_W_X + GATE_CELL), W(IN_BIAS + GATE_CELL), h, W(IN_W_H + GATE_CELL), p->cell_act, gate_g);
    for (int32_t u = 0; u < U; u++) {
        float cell = gate_f[u] * c[u];
        cell = cell + gate_i[u] * gate_g[u];
        if (p->cell_clip > 0.0f) {
            cell = cell > p->cell_clip ? p->cell_clip : (cell < -p->cell_clip ? -p->cell_clip : cell);
        }
        c[u] = cell;
    }
    gate_f32(p, x, W(IN_W_X + GATE_OUTPUT), W(IN_BIAS + GATE_OUTPUT), h, W(IN_W_H + GATE_OUTPUT), ACT_SIGMOID, gate_o);
#undef W
    for (int32_t u = 0; u < U; u++) {
        h[u] = tm_tanhf(c[u]) * gate_o[u];
    }
}

static tm_status_t eval(tm_model_t *m, tm_node_t *n) {
    const lstm_params_t *p = tm_persistent(m, n);
    uint8_t *state = (uint8_t *)p + p->state_offset;
    const int32_t B = p->batches, T = p->steps, F = p->features, U = p->units, cells = B * U;
    const uint8_t *x = tm_in(m, n, IN_X)->data;
    uint8_t *y = tm_out(m, n, 0)->data;
    const uint32_t esize = p->is_float ? 4u : 1u;
    for (int32_t b = 0; b < B; b++) {
        for (int32_t t = 0; t < T; t++) {
            // Row of [B, T, *] (batch major) or [T, B, *] (time major) in the input and output.
            const int32_t row = p->time_major ? t * B + b : b * T + t;
            const uint8_t *xr = x + (uint32_t)(row * F) * esize;
            uint8_t *yr = y + (uint32_t)(row * U) * esize;
            if (TM_FLOAT_KERNELS && p->is_float) {     // (a build without float kernels drops this path)
                float *h = (float *)state + b * U, *c = (float *)state + cells + b * U;
                eval_f32_row(m, n, p, (const float *)xr, h, c, tm_scratch(m, n));
                memcpy(yr, h, (uint32_t)U * 4u);
            } else {
                int8_t *h = (int8_t *)state + b * U;
                int16_t *c = (int16_t *)(state + cells) + b * U;
                eval_int8_row(m, n, p, (const int8_t *)xr, h, c, tm_scratch(m, n));
                memcpy(yr, h, (uint32_t)U);
            }
        }
    }
    return TM_OK;
}

int tm_kernel_unidirectional_sequence_lstm(tm_kernel_t *k) {
    k->name = "UNIDIRECTIONAL_SEQUENCE_LSTM";
    k->init = init;
    k->prepare = prepare;
    k->eval = eval;
    k->reshapes = 0;
    k->reset = reset;
    return 1;
}
