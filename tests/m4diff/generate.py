"""Random int8 models aimed at each Cortex-M4 fast path of the engine (kernels/conv_2d.c, depthwise_conv_2d.c,
fully_connected.c, add.c, arm_dsp.h), with the inputs to run them on.

Every case is a flatbuffer written directly (tflite_writer.py), so scales, zero points, biases and hence
TFLM's per-channel (multiplier, shift) are chosen, not whatever a converter picks. The shapes and parameters
are drawn at and around each path's thresholds as the kernels state them:

- CONV_2D: rows (KH*KW*Cin_f) a multiple of 4 or not, odd channel and pixel counts, groups, strides, SAME/
  VALID, dilation; the short requantization (M >= 2^30, right shift 1..16) and just outside it (shift 0,
  left shifts, 17+, M = 0); constant channels (zero or tiny filters, saturating biases) next to live ones,
  every channel constant, none; channel counts around LIVE_MAX_C = 512; first layers (Cin 1..3).
- DEPTHWISE_CONV_2D: 3x3 planes (multiplier 1 with Cin % 4 == 0, or one input channel, any multiplier;
  stride 1/2; the doubled-filter SMMLAR for shifts 1..24 and |bias| near 2^30), K x 1 / 1 x K lines
  (K <= 64, stride 1/2, outputs < 4 and >= 4, chunks of 32), the one-input-channel path (KW % 4 == 0,
  multiplier % 4 == 0), and the generic blocks (dilation, multiplier 2, odd channels, clamped 3x3).
- FULLY_CONNECTED: the four-unit path (per-tensor weights, |sums| < 2^30, shift 1..22, full range) with
  depths and unit counts of every remainder, and the general path (per-channel, clamps, large biases).
- ADD / SUB: same shapes (which input has the larger scale, equal scales, output shifts around 22/23),
  clamped activations, broadcasting.
- Two-op chains of the above.

Inputs: all -128, all 127, alternating, the zero point, random.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .tflite_writer import INT32, ModelBuilder

ACTS = {0: "none", 1: "relu", 2: "relu_n1_to_1", 3: "relu6"}


@dataclass
class Case:
    path: str                       # the fast path aimed at
    params: dict                    # what was drawn (JSON-serializable)
    model: bytes
    input_shapes: list              # per model input
    output_shapes: list             # per model output
    inputs: list = field(default_factory=list)   # input sets: lists of int8 arrays, one per model input


# ---------------------------------------------------------------- quantization helpers

def f32(v):
    return float(np.float32(v))


def quantize_multiplier(d):
    """TFLM's QuantizeMultiplier (double precision, round half away from zero)."""
    if d == 0:
        return 0, 0
    q, e = math.frexp(d)
    qf = int(math.floor(abs(q) * 2 ** 31 + 0.5)) * (1 if q > 0 else -1)
    if qf == 2 ** 31:
        qf //= 2
        e += 1
    if e < -31:
        return 0, 0
    return qf, e


def effective(in_scale, w_scale, out_scale):
    return quantize_multiplier(float(np.float32(in_scale)) * float(np.float32(w_scale)) / float(np.float32(out_scale)))


def rand_scale(rng, lo=-9, hi=0):
    return f32(rng.uniform(0.5, 1.0) * 2.0 ** int(rng.integers(lo, hi + 1)))


def mantissa(rng):
    """The multiplier's fraction in [0.5, 1): uniform, exactly 1/2 (M = 2^30), or just below 1 (M near 2^31)."""
    r = rng.random()
    if r < 0.12:
        return 0.5
    if r < 0.24:
        return 1.0 - float(rng.integers(1, 64)) * 2.0 ** -24
    return float(rng.uniform(0.5, 1.0))


def w_scale_for(rng, in_scale, out_scale, shift):
    """A float32 filter scale giving TFLM's shift `shift` (the fraction random, near its ends often)."""
    target = mantissa(rng) * 2.0 ** shift
    ws = np.float32(target * out_scale / in_scale)
    if not np.isfinite(ws) or ws <= 0:
        ws = np.float32(1e-30)
    return float(ws)


def natural_shift(typical_acc, rng):
    """The shift that maps sums of about typical_acc to outputs of tens."""
    return int(-round(math.log2(max(typical_acc, 1.0) / float(rng.uniform(16, 96)))))


EXTREME_SHIFTS = [1, 0, -1, -2, -15, -16, -17, -18, -21, -22, -23, -24, -25, -30, -31, -32, -34]


def pick_shift(rng, typical_acc, extreme_p=0.3):
    if rng.random() < extreme_p:
        return int(rng.choice(EXTREME_SHIFTS))
    return natural_shift(typical_acc, rng)


def pick_zp(rng):
    r = rng.random()
    if r < 0.15:
        return -128
    if r < 0.25:
        return 127
    if r < 0.35:
        return 0
    return int(rng.integers(-128, 128))


def pick_act(rng):
    """(activation code, output scale, output zero point) clamped or not inside int8."""
    act = int(rng.choice([0, 0, 1, 1, 2, 3, 3]))
    mode = rng.random()
    if act == 1 and mode < 0.4:
        return act, rand_scale(rng, -8, 0), -128                       # ReLU over the whole int8 range
    if act == 3 and mode < 0.4:
        return act, f32(6.0 / 255.0 * rng.choice([1.0, 0.5, 0.25])), -128   # ReLU6 reaching 127 (or beyond)
    if act == 2 and mode < 0.3:
        return act, f32(2.0 / 255.0), 0                                  # relu_n1_to_1 over about all of it
    return act, rand_scale(rng, -8, 0), pick_zp(rng)


def pick_weights(rng, shape, kind=None):
    """int8 weights: full range, small, sparse, +-1, extremes."""
    kind = kind or rng.choice(["full", "full", "small", "sparse", "pm1", "extreme"])
    if kind == "full":
        return rng.integers(-127, 128, size=shape).astype(np.int8), 127
    if kind == "small":
        return rng.integers(-8, 9, size=shape).astype(np.int8), 8
    if kind == "sparse":
        w = rng.integers(-127, 128, size=shape)
        w[rng.random(shape) < 0.8] = 0
        return w.astype(np.int8), 127
    if kind == "pm1":
        return rng.integers(-1, 2, size=shape).astype(np.int8), 1
    return rng.choice(np.array([-128, 127, -127], np.int8), size=shape).astype(np.int8), 128


def pick_bias(rng, n, typical, kinds=None):
    out = np.zeros(n, np.int64)
    for i in range(n):
        k = rng.choice(kinds or ["normal"] * 8 + ["zero", "large", "huge"])
        if k == "normal":
            out[i] = int(rng.integers(-2 * typical - 1, 2 * typical + 2))
        elif k == "large":
            out[i] = int(rng.choice([-1, 1]) * rng.integers(2 ** 26, 2 ** 30))
        elif k == "huge":
            out[i] = int(rng.choice([2 ** 31 - 1, -2 ** 31, 2 ** 30, -2 ** 30, 2 ** 30 - 1, -(2 ** 30) + 1,
                                     int(rng.integers(-2 ** 31, 2 ** 31))]))
    return out.astype(np.int32)


def edge_bias(rng, real, zo, limit=2 ** 31 - 1):
    """A bias that puts the requantized output right at an int8 end (127 or -128, +-3), where a form that
    overflows near its limits gives the other end: bias = t / real with t the output before Z_out."""
    t = float(rng.choice([127 - zo, -128 - zo])) + float(rng.integers(-3, 4)) + float(rng.uniform(-0.5, 0.5))
    if real <= 0:
        return int(rng.integers(-limit, limit))
    return int(np.clip(round(t / real), -limit, limit))


def input_sets(rng, shapes, zps, count=3):
    """count input sets: the extremes first in rotation, then random ones."""
    patterns = ["min", "max", "alt", "zp", "rand", "rand", "rand"]
    first = int(rng.integers(0, 4))
    sets = []
    for k in range(count):
        # one extreme pattern, the others mostly random
        pat = patterns[first] if k == 0 else ("rand" if rng.random() < 0.8 else patterns[int(rng.integers(0, 4))])
        xs = []
        for shape, zp in zip(shapes, zps):
            n = int(np.prod(shape))
            if pat == "min":
                x = np.full(n, -128)
            elif pat == "max":
                x = np.full(n, 127)
            elif pat == "alt":
                x = np.where(np.arange(n) % 2 == 0, -128, 127)
            elif pat == "zp":
                x = np.clip(zp + rng.integers(-2, 3, size=n), -128, 127)
            else:
                x = rng.integers(-128, 128, size=n)
            xs.append(x.astype(np.int8).reshape(shape))
        sets.append(xs)
    return sets


def conv_out(size, k, stride, dil, same):
    keff = (k - 1) * dil + 1
    return (size + stride - 1) // stride if same else (size - keff + stride) // stride


def qsummary(Ms):
    shifts = [s for _, s in Ms]
    return {"shift_min": min(shifts), "shift_max": max(shifts), "M_min": min(m for m, _ in Ms),
            "M_max": max(m for m, _ in Ms), "zero_M": sum(1 for m, _ in Ms if m == 0)}


# ---------------------------------------------------------------- layers

class Layer:
    """Adds one op to a ModelBuilder; returns (output tensor, output shape, output (scale, zp), params)."""


def add_conv(b, rng, x, xshape, xq, p):
    """CONV_2D with the drawn parameters p (dict, completed here)."""
    n, h, w, cin = xshape
    cout, groups = p["cout"], p.get("groups", 1)
    kh, kw = p["kh"], p["kw"]
    cin_f = cin // groups
    sh, sw, dh, dw = p["sh"], p["sw"], p.get("dh", 1), p.get("dw", 1)
    same = p["same"]
    oh, ow = conv_out(h, kh, sh, dh, same), conv_out(w, kw, sw, dw, same)
    act, out_scale, out_zp = p.get("act_q") or pick_act(rng)
    in_scale, in_zp = xq
    row = kh * kw * cin_f
    kinds = p.get("channel_kinds") or ["live"] * cout
    wt = np.zeros((cout, kh, kw, cin_f), np.int8)
    wscales, bias = [], np.zeros(cout, np.int32)
    border = []
    wkind = p.get("wkind")
    for c in range(cout):
        k = kinds[c]
        if k == "zero":
            wt[c] = 0
            wmax = 1
        elif k == "border":
            wt[c], wmax = pick_weights(rng, (kh, kw, cin_f), str(rng.choice(["pm1", "small"])))
        elif k == "tiny":
            wt[c], wmax = pick_weights(rng, (kh, kw, cin_f), "pm1")
        else:
            wt[c], wmax = pick_weights(rng, (kh, kw, cin_f), wkind)
        typical = max(1.0, 128.0 * wmax * math.sqrt(row) * 0.6)
        if k == "border":
            # almost constant: the whole range of sums moves the output by about one step
            wabs = max(1, int(np.abs(wt[c].astype(np.int64)).sum()))
            real = float(rng.uniform(0.3, 3.0)) / (255.0 * wabs)
            wscales.append(f32(real * out_scale / in_scale))
            real = in_scale * wscales[-1] / out_scale
            pos = int(wt[c][wt[c] > 0].astype(np.int64).sum())
            neg = int(wt[c][wt[c] < 0].astype(np.int64).sum())
            end = str(rng.choice(["lo", "hi"]))
            edge = pos * (-128 - in_zp) + neg * (127 - in_zp) if end == "lo" else \
                pos * (127 - in_zp) + neg * (-128 - in_zp)
            # the rounding step nearest the end of the range, just inside or just outside it
            step = math.floor(edge * real) + 0.5
            bias[c] = int(np.clip(round(step / real - edge) + int(rng.integers(-2, 3)), -2 ** 31, 2 ** 31 - 1))
            border.append((c, end))
            continue
        if k == "tiny":
            shift = int(rng.integers(-34, -20))
        elif k == "zero":
            shift = pick_shift(rng, typical, 0.5)
        elif k == "saturate":
            shift = natural_shift(typical, rng)
        else:
            shift = pick_shift(rng, typical, p.get("extreme_p", 0.3))
        wscales.append(w_scale_for(rng, in_scale, out_scale, shift))
        if k == "saturate":
            bias[c] = int(rng.choice([-1, 1]) * min(2 ** 31 - 1, int(typical * 2 ** 12)))
        elif k == "live" and rng.random() < p.get("edge_p", 0.1):
            bias[c] = edge_bias(rng, in_scale * wscales[-1] / out_scale, out_zp)
        elif k == "zero":
            bias[c] = pick_bias(rng, 1, int(typical), ["normal", "large", "huge", "zero"])[0]
        else:
            bias[c] = pick_bias(rng, 1, int(typical), p.get("bias_kinds"))[0]
    if p.get("per_tensor"):
        wscales = [wscales[0]] * cout
    Ms = [effective(in_scale, s_, out_scale) for s_ in wscales]
    wi = b.tensor([cout, kh, kw, cin_f], scale=wscales if not p.get("per_tensor") else wscales[0], zero_point=0,
                  data=wt, qdim=0)
    inputs = [x, wi]
    if not p.get("no_bias"):
        bi = b.tensor([cout], INT32, scale=[f32(in_scale * s_) for s_ in wscales], zero_point=0, data=bias)
        inputs.append(bi)
    yshape = [n, oh, ow, cout]
    y = b.tensor(yshape, scale=out_scale, zero_point=out_zp)
    b.op("CONV_2D", inputs, [y], "Conv2DOptions", b.options(
        "Conv2DOptions", padding=0 if same else 1, strideW=sw, strideH=sh, fusedActivationFunction=act,
        dilationWFactor=dw, dilationHFactor=dh))
    info = {"op": "CONV_2D", "in": list(xshape), "out": yshape, "k": [kh, kw], "stride": [sh, sw],
            "dil": [dh, dw], "same": same, "groups": groups, "row_len": row, "act": ACTS[act],
            "in_q": [in_scale, in_zp], "out_q": [out_scale, out_zp], "no_bias": bool(p.get("no_bias")),
            "per_tensor": bool(p.get("per_tensor")), "channel_kinds": kinds if "channel_kinds" in p else "live",
            "wkind": wkind, **qsummary(Ms),
            "bias_abs_max": int(np.abs(bias.astype(np.int64)).max())}
    if border:
        c, end = border[int(rng.integers(0, len(border)))]
        info["extreme_window"] = {"channel": c, "end": end}
        info["_extreme"] = (wt[c], end, (kh, kw, sh, sw, dh, dw, same), cin_f, (c // (cout // groups)) * cin_f)
    return y, yshape, (out_scale, out_zp), info


def extreme_window_input(rng, xshape, ext):
    """Random input with one output pixel's window at the end of a channel's range of sums: x = -128 where
    the filter is positive and 127 where negative (the other way round for the high end)."""
    w, end, (kh, kw, sh, sw, dh, dw, same), cin_f, c0 = ext
    n, h, wd, cin = xshape
    x = rng.integers(-128, 128, size=xshape)
    oh, ow = conv_out(h, kh, sh, dh, same), conv_out(wd, kw, sw, dw, same)
    pad_h = max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0) // 2 if same else 0
    pad_w = max((ow - 1) * sw + (kw - 1) * dw + 1 - wd, 0) // 2 if same else 0
    b, oy, ox = int(rng.integers(0, n)), int(rng.integers(0, oh)), int(rng.integers(0, ow))
    lo_v, hi_v = (-128, 127) if end == "lo" else (127, -128)
    for ky in range(kh):
        for kx in range(kw):
            iy, ix = oy * sh - pad_h + ky * dh, ox * sw - pad_w + kx * dw
            if 0 <= iy < h and 0 <= ix < wd:
                for ci in range(cin_f):
                    wv = int(w[ky, kx, ci])
                    if wv:
                        x[b, iy, ix, c0 + ci] = lo_v if wv > 0 else hi_v
    return x.astype(np.int8)


def add_dw(b, rng, x, xshape, xq, p):
    n, h, w, cin = xshape
    dm = p["dm"]
    cout = cin * dm
    kh, kw = p["kh"], p["kw"]
    sh, sw, dh, dw = p["sh"], p["sw"], p.get("dh", 1), p.get("dw", 1)
    same = p["same"]
    oh, ow = conv_out(h, kh, sh, dh, same), conv_out(w, kw, sw, dw, same)
    act, out_scale, out_zp = p.get("act_q") or pick_act(rng)
    in_scale, in_zp = xq
    wt, wmax = pick_weights(rng, (1, kh, kw, cout), p.get("wkind"))
    typical = max(1.0, 128.0 * wmax * math.sqrt(kh * kw) * 0.6)
    wscales = [w_scale_for(rng, in_scale, out_scale, pick_shift(rng, typical, p.get("extreme_p", 0.3)))
               for _ in range(cout)]
    if p.get("per_tensor"):
        wscales = [wscales[0]] * cout
    bias = pick_bias(rng, cout, int(typical), p.get("bias_kinds"))
    for c in range(cout):
        if rng.random() < p.get("edge_p", 0.1):
            bias[c] = edge_bias(rng, in_scale * wscales[c] / out_scale, out_zp, 2 ** 30 - 2 ** 21)
    Ms = [effective(in_scale, s_, out_scale) for s_ in wscales]
    wi = b.tensor([1, kh, kw, cout], scale=wscales if not p.get("per_tensor") else wscales[0], zero_point=0,
                  data=wt, qdim=3)
    inputs = [x, wi]
    if not p.get("no_bias"):
        inputs.append(b.tensor([cout], INT32, scale=[f32(in_scale * s_) for s_ in wscales], zero_point=0,
                               data=bias, qdim=0))
    yshape = [n, oh, ow, cout]
    y = b.tensor(yshape, scale=out_scale, zero_point=out_zp)
    b.op("DEPTHWISE_CONV_2D", inputs, [y], "DepthwiseConv2DOptions", b.options(
        "DepthwiseConv2DOptions", padding=0 if same else 1, strideW=sw, strideH=sh, depthMultiplier=dm,
        fusedActivationFunction=act, dilationWFactor=dw, dilationHFactor=dh))
    info = {"op": "DEPTHWISE_CONV_2D", "in": list(xshape), "out": yshape, "k": [kh, kw], "stride": [sh, sw],
            "dil": [dh, dw], "same": same, "dm": dm, "act": ACTS[act], "in_q": [in_scale, in_zp],
            "out_q": [out_scale, out_zp], "no_bias": bool(p.get("no_bias")), "per_tensor": bool(p.get("per_tensor")),
            **qsummary(Ms), "bias_abs_max": int(np.abs(bias.astype(np.int64)).max())}
    return y, yshape, (out_scale, out_zp), info


def add_fc(b, rng, x, xshape, xq, p):
    batches, depth = xshape
    units = p["units"]
    act, out_scale, out_zp = p.get("act_q") or pick_act(rng)
    in_scale, in_zp = xq
    wt, wmax = pick_weights(rng, (units, depth), p.get("wkind"))
    typical = max(1.0, 128.0 * wmax * math.sqrt(depth) * 0.6)
    per_channel = p.get("per_channel", False)
    shifts = p.get("shifts") or [pick_shift(rng, typical, p.get("extreme_p", 0.3))
                                 for _ in range(units if per_channel else 1)]
    wscales = [w_scale_for(rng, in_scale, out_scale, s_) for s_ in shifts]
    bias = pick_bias(rng, units, int(typical), p.get("bias_kinds"))
    for u in range(units):
        if rng.random() < p.get("edge_p", 0.1):
            # below 2^30 - depth * 255 * 128 when it can be: the four-unit path's condition
            room = max(2 ** 20, 2 ** 30 - depth * 255 * 128 - 1)
            bias[u] = edge_bias(rng, in_scale * wscales[u if per_channel else 0] / out_scale, out_zp, room)
    Ms = [effective(in_scale, s_, out_scale) for s_ in wscales]
    wi = b.tensor([units, depth], scale=wscales if per_channel else wscales[0], zero_point=0, data=wt, qdim=0)
    inputs = [x, wi]
    if not p.get("no_bias"):
        inputs.append(b.tensor([units], INT32, scale=[f32(in_scale * s_) for s_ in wscales] if per_channel
                               else f32(in_scale * wscales[0]), zero_point=0, data=bias))
    yshape = [batches, units]
    y = b.tensor(yshape, scale=out_scale, zero_point=out_zp)
    b.op("FULLY_CONNECTED", inputs, [y], "FullyConnectedOptions", b.options(
        "FullyConnectedOptions", fusedActivationFunction=act))
    sums = int(np.abs(bias.astype(np.int64)).max()) + depth * 255 * 128
    info = {"op": "FULLY_CONNECTED", "in": list(xshape), "units": units, "act": ACTS[act],
            "in_q": [in_scale, in_zp], "out_q": [out_scale, out_zp], "per_channel": per_channel,
            "no_bias": bool(p.get("no_bias")), **qsummary(Ms), "sums_small": sums < 2 ** 30}
    return y, yshape, (out_scale, out_zp), info


def add_addsub(b, rng, xa, xb, shape_a, shape_b, qa, qb, p):
    act, out_scale, out_zp = p.get("act_q") or pick_act(rng)
    yshape = list(np.broadcast_shapes(tuple(shape_a), tuple(shape_b)))
    y = b.tensor(yshape, scale=out_scale, zero_point=out_zp)
    name = "SUB" if p["sub"] else "ADD"
    b.op(name, [xa, xb], [y], "SubOptions" if p["sub"] else "AddOptions",
         b.options("SubOptions" if p["sub"] else "AddOptions", fusedActivationFunction=act))
    mx = max(qa[0], qb[0])
    mo = effective(2.0 * mx, 1.0, 1048576.0 * out_scale)
    info = {"op": name, "a": list(shape_a), "b": list(shape_b), "act": ACTS[act], "a_q": list(qa), "b_q": list(qb),
            "out_q": [out_scale, out_zp], "out_M": mo[0], "out_shift": mo[1]}
    return y, yshape, (out_scale, out_zp), info


# ---------------------------------------------------------------- per-path draws

def _in_q(rng):
    return rand_scale(rng, -8, 0), pick_zp(rng)


def _conv_geom(rng, cin, k_choices=(1, 2, 3, 4, 5), max_hw=10):
    kh, kw = int(rng.choice(k_choices)), int(rng.choice(k_choices))
    sh, sw = int(rng.choice([1, 1, 2, 3])), int(rng.choice([1, 1, 2, 3]))
    dh, dw = (int(rng.choice([1, 1, 1, 2, 3])), int(rng.choice([1, 1, 1, 2, 3]))) if rng.random() < 0.2 else (1, 1)
    same = bool(rng.random() < 0.5)
    for _ in range(50):
        h, w = int(rng.integers(1, max_hw + 1)), int(rng.integers(1, max_hw + 1))
        if conv_out(h, kh, sh, dh, same) >= 1 and conv_out(w, kw, sw, dw, same) >= 1:
            break
    else:
        h, w, same = max_hw, max_hw, True
    return dict(kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw, same=same), [1 if rng.random() < 0.9 else 2, h, w, cin]


def draw_conv(rng, path):
    """CONV_2D cases: 'conv_pairs' (passes_2x2 / channels_2x2), 'conv_live' (plan_live with some constant
    channels), 'conv_all_constant', 'conv_first_layer', 'conv_rq_edges', 'conv_wide' (near LIVE_MAX_C)."""
    p = {}
    if path == "conv_first_layer":
        cin = int(rng.choice([1, 2, 3]))
        geom, xshape = _conv_geom(rng, cin, (2, 3, 4, 5, 7), 14)
        p.update(geom, cout=int(rng.choice([1, 2, 3, 4, 7, 8, 9, 16])))
    elif path == "conv_wide":
        cin = int(rng.choice([4, 8, 3, 12]))
        geom, xshape = _conv_geom(rng, cin, (1, 1, 3), 3)
        p.update(geom, cout=int(rng.choice([255, 256, 257, 510, 511, 512, 513, 514, 520])))
        if rng.random() < 0.7:
            p["channel_kinds"] = _kinds(rng, p["cout"], rng.choice([0.0, 0.5, 0.9, 0.99, 1.0]))
    else:
        cin = int(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 24, 32]))
        geom, xshape = _conv_geom(rng, cin)
        p.update(geom, cout=int(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33])))
        if path in ("conv_pairs", "conv_rq_edges") and rng.random() < 0.2:
            g = int(rng.choice([2, 3, 4]))
            p["groups"] = g
            xshape[3] = max(1, xshape[3] // g) * g
            p["cout"] = max(1, p["cout"] // g) * g
    if path == "conv_live":
        # plan_live's conditions most of the time: whole-word rows, bias, one group, full range
        if rng.random() < 0.8:
            cin_choices = [c for c in (4, 8, 12, 16, 24, 32) if c]
            xshape[3] = int(rng.choice(cin_choices)) if rng.random() < 0.7 else xshape[3]
            p["act_q"] = _full_act(rng)
        p["channel_kinds"] = _kinds(rng, p["cout"], rng.uniform(0.1, 0.9))
    elif path == "conv_all_constant":
        if rng.random() < 0.8:
            xshape[3] = int(rng.choice([4, 8, 12, 16])) if p["kh"] * p["kw"] * xshape[3] % 4 else xshape[3]
            p["act_q"] = _full_act(rng)
        p["channel_kinds"] = _kinds(rng, p["cout"], 1.0)
    elif path == "conv_rq_edges":
        p["extreme_p"] = 0.9
        p["edge_p"] = 0.5
        if rng.random() < 0.5:
            p["act_q"] = _full_act(rng)
    elif path == "conv_pairs":
        if rng.random() < 0.5:
            p["act_q"] = _full_act(rng)
    if rng.random() < 0.08:
        p["no_bias"] = True
    if rng.random() < 0.1:
        p["per_tensor"] = True
    return p, xshape


def _full_act(rng):
    act = int(rng.choice([0, 0, 1]))
    return act, rand_scale(rng, -8, 0), -128 if act == 1 else pick_zp(rng)


def _kinds(rng, cout, frac_const):
    kinds = []
    for _ in range(cout):
        if rng.random() < frac_const:
            kinds.append(str(rng.choice(["zero", "zero", "tiny", "saturate", "border", "border"])))
        else:
            kinds.append("live")
    return kinds


def draw_dw(rng, path):
    """'dw3' (3x3 planes), 'dw_lines' (K x 1 / 1 x K), 'dw_cin1' (one input channel, KW % 4 == 0),
    'dw_generic' (the blocks and the per-pixel path: dilation, multipliers, odd channels, clamps)."""
    p = {}
    same = bool(rng.random() < 0.5)
    if path == "dw3":
        if rng.random() < 0.7:
            cin, dm = int(rng.choice([4, 8, 12, 16, 20, 32])), 1
        else:
            cin, dm = 1, int(rng.choice([1, 2, 3, 4, 5, 7, 8, 9, 12, 16]))
        p.update(kh=3, kw=3, sh=int(rng.choice([1, 2])), sw=int(rng.choice([1, 2])), dm=dm, same=same)
        if rng.random() < 0.15:
            p["sh"] = 3 if rng.random() < 0.5 else p["sh"]
        h, w = int(rng.integers(1, 26)), int(rng.integers(1, 26))
        if rng.random() < 0.3:      # long and narrow: the transposed sweep
            h, w = (int(rng.integers(12, 40)), int(rng.integers(1, 6))) if rng.random() < 0.5 else \
                   (int(rng.integers(1, 6)), int(rng.integers(12, 40)))
        if rng.random() < 0.7:
            p["act_q"] = _lo128_act(rng)
    elif path == "dw_lines":
        cin, dm = int(rng.choice([4, 8, 12, 16, 24])), 1
        k = int(rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64]))
        stride = int(rng.choice([1, 1, 2]))
        ln = int(rng.choice([k, k + 1, k + 2, k + 3, k + 5, k + 8, k + 31, k + 33, k + 40, k + 70]))
        ln = max(1, ln if rng.random() < 0.8 else int(rng.integers(1, k + 1)))
        other = int(rng.choice([1, 1, 2, 3]))
        ostride = int(rng.choice([1, 2]))
        if rng.random() < 0.5:      # K x 1
            p.update(kh=k, kw=1, sh=stride, sw=ostride, dm=dm, same=same)
            h, w = ln, other
        else:
            p.update(kh=1, kw=k, sh=ostride, sw=stride, dm=dm, same=same)
            h, w = other, ln
        if not same and ln < k:
            p["same"] = True
    elif path == "dw_cin1":
        cin = 1
        dm = int(rng.choice([4, 8, 12, 16]))
        kw = int(rng.choice([4, 8, 12]))
        kh = int(rng.choice([1, 2, 3, 5, 8, 10]))
        p.update(kh=kh, kw=kw, sh=int(rng.choice([1, 2, 3])), sw=int(rng.choice([1, 2, 3])), dm=dm, same=same)
        if rng.random() < 0.2:
            p["dh"] = 2
        h, w = int(rng.integers(1, 16)), int(rng.integers(1, 16))
    else:
        cin = int(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16]))
        dm = int(rng.choice([1, 1, 1, 2, 3, 4, 8]))
        p.update(kh=int(rng.choice([1, 2, 3, 4, 5])), kw=int(rng.choice([1, 2, 3, 4, 5])),
                 sh=int(rng.choice([1, 2, 3])), sw=int(rng.choice([1, 2, 3])), dm=dm, same=same)
        if rng.random() < 0.3:
            p["dh"], p["dw"] = int(rng.choice([1, 2, 3])), int(rng.choice([1, 2, 3]))
        h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    for _ in range(50):
        if conv_out(h, p["kh"], p["sh"], p.get("dh", 1), p["same"]) >= 1 and \
           conv_out(w, p["kw"], p["sw"], p.get("dw", 1), p["same"]) >= 1:
            break
        h, w = h + 1, w + 1
    if rng.random() < 0.05:
        p["no_bias"] = True
    if rng.random() < 0.1:
        p["per_tensor"] = True
    if rng.random() < 0.15:
        p["bias_kinds"] = ["large", "huge", "normal"]
    if rng.random() < 0.3:
        p["extreme_p"], p["edge_p"] = 0.7, 0.6
    return p, [1 if rng.random() < 0.9 else 2, h, w, cin]


def _lo128_act(rng):
    """An activation whose lower clamp is -128 (the 3x3 planes' condition): none, or ReLU with Z_out -128,
    or ReLU6 with Z_out -128 (its top clamp inside int8 or not)."""
    act = int(rng.choice([0, 0, 1, 3]))
    if act == 0:
        return 0, rand_scale(rng, -8, 0), pick_zp(rng)
    return act, f32(rng.choice([6.0 / 255.0, 6.0 / 100.0, 1.0 / 64.0, 0.5])) if act == 3 else rand_scale(rng, -8, 0), -128


def draw_fc(rng, path):
    depth = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 31, 32, 33, 48, 63, 64, 65, 100, 128, 250,
                            256, 1000]))
    units = int(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 33, 64]))
    p = {"units": units}
    if path == "fc_fast":
        p["act_q"] = _full_act(rng)
        if rng.random() < 0.3:
            p["extreme_p"] = 0.8
        if rng.random() < 0.3:
            # tm_rq2's limit (right shift 22) and beyond, Z_out near the ends, outputs at the ends
            p["shifts"] = [int(rng.choice([-20, -21, -22, -23, -24, -25]))]
            zo = int(rng.choice([127, 126, 100, 64, -128, -127, -100, -64]))
            p["act_q"] = (0, rand_scale(rng, -8, 0), zo)
            p["edge_p"] = 0.8
    else:
        p["per_channel"] = bool(rng.random() < 0.6)
        if rng.random() < 0.3:
            p["bias_kinds"] = ["large", "huge", "normal"]
        p["extreme_p"] = 0.5
    if rng.random() < 0.05:
        p["no_bias"] = True
    return p, [int(rng.choice([1, 1, 1, 2, 3])), depth]


def draw_add(rng):
    p = {"sub": bool(rng.random() < 0.4)}
    nd = int(rng.integers(1, 5))
    shape = [int(rng.integers(1, 9)) for _ in range(nd)]
    if rng.random() < 0.3:
        shape[-1] = int(rng.integers(1, 80))
    shape_b = list(shape)
    if rng.random() < 0.12:
        i = int(rng.integers(0, nd))
        shape_b[i] = 1
    sa = rand_scale(rng, -8, 0)
    r = rng.random()
    if r < 0.25:
        sb = sa                                    # equal scales: both rescale exactly
    elif r < 0.5:
        sb = f32(sa * rng.uniform(0.05, 1.0))       # a larger
    else:
        sb = f32(sa / rng.uniform(0.05, 1.0))       # b larger
    # output scale: right shifts around tm_rq2's 22 (out scale ratios around 4x the larger input's)
    mx = max(sa, sb)
    ratio = float(rng.choice([0.25, 0.5, 1.0, 1.9, 2.0, 2.1, 3.9, 4.0, 4.1, 8.0, 16.0, 0.01, 0.1]))
    ratio *= float(rng.uniform(0.9, 1.1)) if rng.random() < 0.5 else 1.0
    so = f32(mx * ratio)
    act = int(rng.choice([0, 0, 1, 2, 3]))
    zo = -128 if (act in (1, 3) and rng.random() < 0.5) else pick_zp(rng)
    p["act_q"] = (act, so, zo)
    return p, shape, shape_b, (sa, pick_zp(rng)), (sb, pick_zp(rng))


# ---------------------------------------------------------------- cases

PATHS = ["conv_pairs", "conv_live", "conv_all_constant", "conv_first_layer", "conv_rq_edges", "conv_wide",
         "dw3", "dw_lines", "dw_cin1", "dw_generic", "fc_fast", "fc_general", "add_sub", "two_op"]


def make_case(path, seed, n_inputs=3):
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    params = {"seed": seed}
    if path.startswith("conv") or path.startswith("dw"):
        p, xshape = draw_conv(rng, path) if path.startswith("conv") else draw_dw(rng, path)
        xq = _in_q(rng)
        x = b.tensor(xshape, scale=xq[0], zero_point=xq[1])
        fn = add_conv if path.startswith("conv") else add_dw
        y, yshape, _, info = fn(b, rng, x, xshape, xq, p)
        params["ops"] = [info]
        ins, in_shapes, zps = [x], [xshape], [xq[1]]
    elif path.startswith("fc"):
        p, xshape = draw_fc(rng, path)
        xq = _in_q(rng)
        x = b.tensor(xshape, scale=xq[0], zero_point=xq[1])
        y, yshape, _, info = add_fc(b, rng, x, xshape, xq, p)
        params["ops"] = [info]
        ins, in_shapes, zps = [x], [xshape], [xq[1]]
    elif path == "add_sub":
        p, sa, sb, qa, qb = draw_add(rng)
        xa = b.tensor(sa, scale=qa[0], zero_point=qa[1])
        if rng.random() < 0.08 and sa == sb:
            xb, sb, qb = xa, sa, qa          # x + x, x - x: one input used twice
            ins, in_shapes, zps = [xa], [sa], [qa[1]]
        else:
            xb = b.tensor(sb, scale=qb[0], zero_point=qb[1])
            ins, in_shapes, zps = [xa, xb], [sa, sb], [qa[1], qb[1]]
        y, yshape, _, info = add_addsub(b, rng, xa, xb, sa, sb, qa, qb, p)
        params["ops"] = [info]
    else:
        return make_two_op(rng, seed, n_inputs)
    model = b.finish(ins, [y])
    case = Case(path, params, model, in_shapes, [yshape])
    case.inputs = input_sets(rng, in_shapes, zps, n_inputs)
    ext = params["ops"][0].pop("_extreme", None)
    if ext is not None:
        case.inputs[-1] = [extreme_window_input(rng, in_shapes[0], ext)]
    return case


def make_two_op(rng, seed, n_inputs):
    """Two ops in a chain: conv/dw -> conv/dw, fc -> fc, conv -> add (of the conv and the input)."""
    b = ModelBuilder()
    kind = str(rng.choice(["conv_conv", "dw_conv", "conv_dw", "dw_dw", "fc_fc", "conv_add"]))
    params = {"seed": seed, "chain": kind}
    xq = _in_q(rng)
    if kind == "fc_fc":
        p1, xshape = draw_fc(rng, str(rng.choice(["fc_fast", "fc_general"])))
        x = b.tensor(xshape, scale=xq[0], zero_point=xq[1])
        t, tshape, tq, i1 = add_fc(b, rng, x, xshape, xq, p1)
        p2, _ = draw_fc(rng, str(rng.choice(["fc_fast", "fc_general"])))
        y, yshape, _, i2 = add_fc(b, rng, t, tshape, tq, p2)
    else:
        first = kind.split("_")[0]
        path1 = str(rng.choice(["conv_pairs", "conv_live", "conv_rq_edges"])) if first == "conv" else \
            str(rng.choice(["dw3", "dw_generic", "dw_lines"]))
        p1, xshape = draw_conv(rng, path1) if first == "conv" else draw_dw(rng, path1)
        x = b.tensor(xshape, scale=xq[0], zero_point=xq[1])
        t, tshape, tq, i1 = (add_conv if first == "conv" else add_dw)(b, rng, x, xshape, xq, p1)
        second = kind.split("_")[1]
        if second == "add":
            # a 1x1 same-shape conv then ADD with the first op's output: same shapes
            p2 = dict(kh=1, kw=1, sh=1, sw=1, same=True, cout=tshape[3])
            u, ushape, uq, i2a = add_conv(b, rng, t, tshape, tq, p2)
            pa = {"sub": bool(rng.random() < 0.5)}
            y, yshape, _, i2 = add_addsub(b, rng, t, u, tshape, ushape, tq, uq, pa)
            i2 = [i2a, i2]
        elif second == "conv":
            p2 = dict(kh=int(rng.choice([1, 1, 3])), kw=int(rng.choice([1, 1, 3])), sh=1, sw=1, same=True,
                      cout=int(rng.choice([1, 3, 4, 8, 9, 16])))
            if rng.random() < 0.3:
                p2["channel_kinds"] = _kinds(rng, p2["cout"], rng.uniform(0.2, 1.0))
                p2["act_q"] = _full_act(rng)
            y, yshape, _, i2 = add_conv(b, rng, t, tshape, tq, p2)
        else:
            p2 = dict(kh=3, kw=3, sh=1, sw=1, same=True, dm=1)
            if rng.random() < 0.5:
                p2["act_q"] = _lo128_act(rng)
            y, yshape, _, i2 = add_dw(b, rng, t, tshape, tq, p2)
    params["ops"] = [i1] + (i2 if isinstance(i2, list) else [i2])
    for info in params["ops"]:
        info.pop("_extreme", None)
    model = b.finish([x], [y])
    case = Case("two_op", params, model, [xshape], [yshape])
    case.inputs = input_sets(rng, [xshape], [xq[1]], n_inputs)
    return case


def case_seed(seed, index):
    """A case's own seed from the campaign's seed and its index (numpy's SeedSequence mixes the pair)."""
    return [int(seed), int(index)]
