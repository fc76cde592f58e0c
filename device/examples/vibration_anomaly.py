# The anomaly job's device app: a motor's vibration monitor that learns this motor's own "normal".
#
# Wiring: an ADXL335 analog accelerometer on the motor housing (VCC 3.3 V, GND, its X output on ADC pin 34 of
# an ESP32; `tinyml boards` lists each board's ADC pins). On the board's filesystem: model.tflite and job.json
# from `tinyml train anomaly --out DIR`, the engine tinyml.mpy with the motion features (`tinyml deploy DIR`
# copies all of them), the tinyml_device package in /lib.
#
# Each wake (a timer, every job.json "period_ms", default 10 s): sample WINDOWS windows of 512 ADC readings at
# 1 kHz, compute tinyml.MotionFeatures' 21 band energies (the same C as training) and their logs, and let the
# autoencoder score each window (0 = like normal, towards 1 = unlike anything normal). The wake's score is the
# mean of its windows' scores (smoothing: one knock on the housing is not a fault).
#
# Calibration: the first job.json "calibration_wakes" wakes (18 x 10 s = 3 minutes) only learn the distribution
# of the score on THIS motor; then threshold = max(mean + k_sigma x sd, the highest score seen + 0.02), with sd at
# least 0.005. From then on a wake above the threshold is an anomaly: the LED goes on (board.current().led_pin())
# and "REPORT anomaly" is printed; back below it, the LED goes off.
#   - The calibration lives in RTC memory (State) across deep sleep, and in the file anomaly_calib.bin: after a
#     power loss RTC memory is empty and the calibration comes back from flash (the file is written only when a
#     calibration completes: flash wears out).
#   - Re-calibrating (the motor was serviced, moved, re-balanced) is one call, from the REPL or a script:
#         import vibration_anomaly; vibration_anomaly.recalibrate()
#     (or delete anomaly_calib.bin and reset). The next wakes calibrate again.
#
# If a file named log.on exists, each wake appends a record to windows.log: its windows as int16 ADC counts
# (read_u16 - 32768), their scores and the wake's score (float32), the threshold (int32 millionths) and the
# decision (int32: -1 calibrating, 0 normal, 1 anomaly), for the host to replay through its own features and
# engine (tests/test_train_anomaly.py).
#
#   tinyml run --board unix-sim device/examples/vibration_anomaly.py --data adc=vibration.npy@1000 \
#       -f DIR/model.tflite -f DIR/job.json --boots 24 --clock virtual
import json
import math
import os
import struct
import time
from array import array

from tinyml_device import board, power
from tinyml_device.duty import Phases, load_model, check_input
from tinyml_device.state import State, File
from tinyml_device.ring import Ring
from tinyml_device.sampler import Sampler
from tinyml_device.drivers.analog import AnalogSensor

CALIB_FILE = "anomaly_calib.bin"
WINDOWS = 2                 # windows per wake, their scores averaged
MICRO = 1000000             # scores are kept as integers in millionths
SD_FLOOR = 0.005
MARGIN = 0.02
# RTC state words: wakes, anomalies reported, anomalous now (0/1), then the calibration (also in the file):
WAKES, ANOMALIES, ALERT = 0, 1, 2
N, SUM, SUMSQ, MAX, THRESHOLD = 3, 4, 5, 6, 7
CALIB = (N, SUM, SUMSQ, MAX, THRESHOLD)


def calibration_file():
    return State(words=len(CALIB), version=1, store=File(CALIB_FILE))


def recalibrate():
    """Forget this motor's calibration, in RTC memory and on flash: the next wakes learn it again."""
    rtc = State(words=8, version=1)
    for i in CALIB:
        rtc.values[i] = 0
    rtc.values[ALERT] = 0
    rtc.save()
    try:
        os.remove(CALIB_FILE)
    except OSError:
        pass
    print("calibration cleared: the next wakes learn this motor's normal again")


def threshold_from(n, s, q, mx, k_sigma):
    """The threshold (millionths) from the calibration sums: max(mean + k sd, max + MARGIN), sd >= SD_FLOOR."""
    mean = s / n
    var = q / n - mean * mean
    sd = max(math.sqrt(var) if var > 0 else 0.0, SD_FLOOR * MICRO)
    return int(max(mean + k_sigma * sd, mx + MARGIN * MICRO))


def main():
    phases = Phases()
    with open("job.json") as f:
        job = json.load(f)
    rate, n = job["rate_hz"], job["window"]
    bins = tuple(tuple(b) for b in job["bins"])
    eps, vref = job["eps"], job["vref"]
    calib_wakes, k_sigma = job["calibration_wakes"], job["k_sigma"]
    period_ms = job.get("period_ms", 10000)
    b = board.current()

    st = State(words=8, version=1)
    v = st.values
    note = ""
    if st.status != "ok":
        saved = calibration_file()
        if saved.status == "ok" and saved.values[0] >= calib_wakes:
            for i, w in enumerate(CALIB):
                v[w] = saved.values[i]
            note = "; calibration restored from %s" % CALIB_FILE
    v[WAKES] += 1
    print("vibration monitor on %s: wake %d (%s), state %s%s" % (b.id, v[WAKES], power.wake_reason(), st.status,
                                                                 note))

    import tinyml
    model = load_model("model.tflite", phases)
    check_input(model, len(bins))
    mf = tinyml.MotionFeatures(n=n, channels=1, bins=bins, scale=vref / 65535)
    src = AnalogSensor(job.get("adc_pin", 34))
    ring = Ring(n, 1, "H")
    sampler = Sampler(src.read_into, ring, rate)
    counts = array("h", bytes(2 * n))
    feats = array("f", bytes(4 * mf.size))
    x = array("f", bytes(4 * len(bins)))
    out = array("f", bytes(4))
    logging = "log.on" in os.listdir()
    scores = []
    raw = []
    for _ in range(WINDOWS):
        with phases("sample"):
            sampler.run(n)
        with phases("features"):
            w = ring.view(0, n)
            for i in range(n):
                counts[i] = w[i] - 32768
            mf.compute(counts, feats)
            for i in range(len(bins)):
                x[i] = math.log(feats[4 + i] + eps)
        with phases("infer"):
            model.predict(x, out=out)
        scores.append(out[0])
        if logging:
            raw.append(bytes(counts))
    score = sum(scores) / len(scores)
    s_u = int(score * MICRO)
    print("  %s; window scores %s, wake score %.4f" % (sampler.report(), ", ".join("%.4f" % s for s in scores),
                                                       score))

    led, on = b.led_pin()
    decision = -1                       # -1: calibrating, 0: normal, 1: anomaly
    with phases("act"):
        if v[N] < calib_wakes:
            v[N] += 1
            v[SUM] += s_u
            v[SUMSQ] += s_u * s_u // MICRO
            v[MAX] = max(v[MAX], s_u)
            if v[N] == calib_wakes:
                v[THRESHOLD] = threshold_from(v[N], v[SUM], v[SUMSQ] * MICRO, v[MAX], k_sigma)
                saved = calibration_file()
                for i, w in enumerate(CALIB):
                    saved.values[i] = v[w]
                saved.save()
                print("CALIBRATED on %d wakes: mean score %.4f, max %.4f -> threshold %.4f (saved to %s)" % (
                    v[N], v[SUM] / v[N] / MICRO, v[MAX] / MICRO, v[THRESHOLD] / MICRO, CALIB_FILE))
            else:
                print("  calibrating: %d of %d wakes" % (v[N], calib_wakes))
        else:
            decision = 1 if s_u > v[THRESHOLD] else 0
            if decision:
                v[ANOMALIES] += 1
                print("REPORT anomaly %d at wake %d: score %.4f above the threshold %.4f" % (
                    v[ANOMALIES], v[WAKES], score, v[THRESHOLD] / MICRO))
            else:
                print("  normal: score %.4f (threshold %.4f)" % (score, v[THRESHOLD] / MICRO))
            v[ALERT] = decision
            if led is not None:
                led.value(on if decision else 1 - on)
    if logging:
        with open("windows.log", "ab") as f:
            for r in raw:
                f.write(r)
            f.write(struct.pack("<%dff" % WINDOWS, *(scores + [score])))
            f.write(struct.pack("<ii", v[THRESHOLD], decision))
    st.save()
    print(phases.report())
    time.sleep_ms(0)
    power.deepsleep(period_ms)


if __name__ == "__main__":
    main()
