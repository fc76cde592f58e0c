# Windowed statistics of a signal, in MicroPython: mean, RMS, peak and crest factor. Kept in this one small
# module so that the native DSP features (CMSIS-DSP in native_modules/, issue 8) can replace it: same names, same
# output order.
#
#   out = array("f", bytes(4 * N_STATS))
#   window_stats(window, out)               # window: any sequence of numbers (a Ring window, an array)
#   # out = [mean, rms, peak, crest]: rms and peak of the signal minus its mean (the AC part), crest = peak/rms
#
# Cost: one pass, a float per sample on ports that box floats (esp32: no FPU for doubles, single-precision
# floats are boxed objects): fine at hundreds of samples a wake, not at audio rates.
N_STATS = 4
NAMES = ("mean", "rms", "peak", "crest")


def window_stats(x, out, scale=1.0):
    """Statistics of x (times `scale`, e.g. volts per ADC count) into out[0:4]; returns out."""
    n = len(x)
    s = 0
    for v in x:
        s += v
    mean = s / n
    acc = 0.0
    peak = 0.0
    for v in x:
        d = v - mean
        if d < 0:
            d = -d
        if d > peak:
            peak = d
        acc += d * d
    rms = (acc / n) ** 0.5
    out[0] = mean * scale
    out[1] = rms * scale
    out[2] = peak * scale
    out[3] = peak / rms if rms > 0 else 0.0
    return out
