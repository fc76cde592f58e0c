# Vibration anomaly monitor: wake on a timer, sample an analog vibration sensor, compute windowed statistics
# (mean, RMS, peak, crest factor), score them against a baseline learnt over the first wakes, report only
# anomalies, sleep. The baseline and the counts live in RTC memory across deep sleep.
#
# Wiring: the sensor's analog output (a piezo/vibration module, biased at mid-supply) on ADC pin 34.
# Nothing else: no model file. The features come from tinyml_device.features (MicroPython today; the native
# DSP features will replace that one module).
#
# Score: the largest z-score of RMS and crest factor against the baseline (mean and spread of the first
# BASELINE wakes). Above LIMIT: an anomaly, reported. Bearing damage shows as impacts: crest factor up.
#
#   tinyml run --board unix-sim device/examples/vibration_anomaly.py --data adc=vibration.npy@1000 --boots 12
from tinyml_device import board, power
from tinyml_device.duty import Phases
from tinyml_device.state import State
from tinyml_device.ring import Ring
from tinyml_device.sampler import Sampler
from tinyml_device.features import window_stats, N_STATS
from tinyml_device.drivers.analog import AnalogSensor
from array import array

ADC_PIN = 34
RATE_HZ = 1000
WINDOW = 256                # samples a wake: 0.256 s
PERIOD_MS = 10000           # wake every 10 s
BASELINE = 5                # wakes that learn what normal looks like
LIMIT = 6.0                 # z-score that counts as an anomaly
# State, int32 words: wakes, baseline n, sum and sum of squares of RMS (uV, uV^2/1000) and of crest (x1000,
# x1000^2/1000), anomalies reported
WAKES, N, S_RMS, Q_RMS, S_CREST, Q_CREST, ANOMALIES = range(7)

phases = Phases()
b = board.current()
state = State(words=7, version=1)
st = state.values
st[WAKES] += 1
print("vibration monitor on %s: wake %d (%s), state %s" % (b.id, st[WAKES], power.wake_reason(), state.status))

src = AnalogSensor(ADC_PIN)
ring = Ring(WINDOW, 1, "H")
sampler = Sampler(src.read_into, ring, RATE_HZ)
stats = array("f", bytes(4 * N_STATS))
with phases("sample"):
    sampler.run(WINDOW)
with phases("features"):
    window_stats(ring.view(0, WINDOW), stats, scale=src.vref / 65535)   # a view made once per wake
mean, rms, peak, crest = stats[0], stats[1], stats[2], stats[3]
print("  %s; mean %.3f V, rms %.4f V, peak %.4f V, crest %.2f" % (sampler.report(), mean, rms, peak, crest))


def z(x, s, q, n):
    m = s / n
    var = q / n - m * m
    sd = var ** 0.5 if var > 0 else 0.0
    sd = max(sd, 0.05 * abs(m), 1e-6)        # a floor: a perfectly steady baseline is not infinitely strict
    return abs(x - m) / sd


with phases("score"):
    r_u, c_k = int(rms * 1e6), int(crest * 1000)
    if st[N] < BASELINE:
        st[N] += 1
        st[S_RMS] += r_u
        st[Q_RMS] += r_u * r_u // 1000
        st[S_CREST] += c_k
        st[Q_CREST] += c_k * c_k // 1000
        print("  learning the baseline: %d of %d wakes" % (st[N], BASELINE))
    else:
        n = st[N]
        score = max(z(r_u, st[S_RMS], st[Q_RMS] * 1000, n), z(c_k, st[S_CREST], st[Q_CREST] * 1000, n))
        if score > LIMIT:
            st[ANOMALIES] += 1
            print("REPORT anomaly %d at wake %d: score %.1f (rms %.4f V, crest %.2f; baseline rms %.4f V, "
                  "crest %.2f)" % (st[ANOMALIES], st[WAKES], score, rms, crest, st[S_RMS] / n / 1e6,
                                   st[S_CREST] / n / 1000))
        else:
            print("  normal: score %.1f (nothing reported)" % score)
state.save()
print(phases.report())
power.deepsleep(PERIOD_MS)
