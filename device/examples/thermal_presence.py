# Thermal presence: is someone in view of an AMG8833 8x8 thermal camera? Wake every few seconds, take one
# frame, classify it with a tiny model, report only when the answer changes, sleep.
#
# Wiring: an AMG8833 breakout on the board's I2C(0) pins (address 0x69). Files on the board: presence.tflite
# (host/tinyml/jobs/thermal.py trains it: 64 pixels -> empty/present; tests/test_device_examples.py shows how)
# and the engine tinyml.mpy; the tinyml_device package in /lib. Without presence.tflite it falls back to a
# threshold baseline (the hottest pixel 2.5 degC above the frame's mean), and says so.
#
# Each boot: wake the camera, wait for a valid frame, read it (one 128-byte I2C read), subtract the frame's
# mean (the model was trained on that), predict, compare with the last answer kept in RTC memory, print a
# report if it changed, put the camera to sleep (about 0.8 mA -> 0.2 mA) and deep-sleep.
#
#   tinyml run --board unix-sim device/examples/thermal_presence.py --data thermal=frames.npy \
#       --file presence.tflite --boots 6
import os
from array import array

from machine import I2C, Pin
from tinyml_device import board, power
from tinyml_device.duty import Phases, load_model, check_input
from tinyml_device.state import State
from tinyml_device.drivers.amg8833 import AMG8833

PERIOD_MS = 5000            # one look every 5 s
MODEL = "presence.tflite"
THRESHOLD_C = 2.5           # the baseline's rule, when there is no model

phases = Phases()
b = board.current()
state = State(words=4, version=1)       # [looks, present now (0/1), arrivals, reports]
st = state.values
print("thermal presence on %s: look %d, woke by %s, state %s" % (b.id, st[0] + 1, power.wake_reason(),
                                                                 state.status))
scl, sda = b.i2c_pins(0)
cam = AMG8833(I2C(0, scl=Pin(scl), sda=Pin(sda)), fps=10, pins=(scl, sda))

raw = bytearray(128)
pixels = array("f", bytes(4 * 64))
probs = array("f", bytes(8))
model = None
try:
    os.stat(MODEL)
    model = load_model(MODEL, phases)       # the engine is imported only when there is a model
    check_input(model, 64)
except OSError:
    print("no %s: using the threshold baseline (hottest pixel %.1f degC above the mean) TODO: train the model"
          % (MODEL, THRESHOLD_C))

with phases("sample"):
    cam.wake()
    cam.read_frame(raw)
    hot = cam.to_celsius(raw, pixels)
mean = sum(pixels) / 64
with phases("infer"):
    if model is not None:
        for i in range(64):
            pixels[i] = (pixels[i] - mean) / 4
        model.predict(pixels, out=probs)
        p = probs[1]
    else:
        p = 1.0 if hot - mean >= THRESHOLD_C else 0.0
present = 1 if p >= 0.5 else 0

with phases("act"):
    st[0] += 1
    if present != st[1] or st[0] == 1:
        st[3] += 1
        if present:
            st[2] += 1
        print("REPORT look %d: %s (p=%.2f, hottest %.1f degC, room %.1f degC)" % (
            st[0], "someone is here" if present else "nobody", p, hot, mean))
    else:
        print("look %d: unchanged (%s, p=%.2f)" % (st[0], "present" if present else "empty", p))
    st[1] = present
cam.sleep()
state.save()
print("%d looks, %d arrivals, %d reports" % (st[0], st[2], st[3]))
print(phases.report())
power.deepsleep(PERIOD_MS)
