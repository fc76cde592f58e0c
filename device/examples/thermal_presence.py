# The presence job's device app: is someone in view of an AMG8833 8x8 thermal camera? Wake on a timer, look,
# report only when the answer changes, sleep.
#
# Wiring: an AMG8833 breakout (VIN 3.3 V, GND, SCL and SDA to the board's I2C(0) pins from `tinyml boards`;
# address 0x69, AD_SELECT high, the breakouts' default). On the board's filesystem: model.tflite and job.json
# from `tinyml train presence --out DIR`, the engine tinyml.mpy (`tinyml deploy DIR` copies them), the
# tinyml_device package in /lib.
#
# Each wake (a timer, every job.json "period_ms", 5 s): wake the camera, read "frames_per_look" consecutive
# frames at 10 fps (one 128-byte I2C read each), and classify each one. The model's input per pixel is
# (t - frame mean) / 4 and (t - 24) / 8, exactly what training computed (host/tinyml/jobs/presence.py; exact in
# any float on the sensor's 0.25 degC grid). Smoothing: the look's probability is the mean over its frames, and
# the answer changes with hysteresis: "present" needs the mean at or above "arrive_p", "empty" below "leave_p".
# Action on a change: print a REPORT line, the LED (board.current().led_pin()) on while someone is here, and the
# counts kept in RTC memory across deep sleep. Then the camera sleeps (about 4.5 mA -> 0.2 mA) and so does the
# board.
#
# If a file named log.on exists, every frame is appended to frames.log (64 pixels in degC and the probability,
# float32) with the look's answer (int32): the host replays them through its engine (tests/test_train_visual.py).
#
#   tinyml run --board unix-sim device/examples/thermal_presence.py --data thermal=frames.npy \
#       -f DIR/model.tflite -f DIR/job.json --boots 7 --clock virtual
import json
import os
import struct
import time
from array import array

from machine import I2C, Pin
from tinyml_device import board, power
from tinyml_device.duty import Phases, load_model, check_input
from tinyml_device.state import State

LOOKS, PRESENT, ARRIVALS, REPORTS = range(4)

phases = Phases()
with open("job.json") as f:
    job = json.load(f)
CLASSES = job["classes"]
FRAMES = job["frames_per_look"]
b = board.current()
state = State(words=4, version=2)
st = state.values
st[LOOKS] += 1
print("thermal presence on %s: look %d, woke by %s, state %s" % (b.id, st[LOOKS], power.wake_reason(),
                                                                 state.status))

from tinyml_device.drivers.amg8833 import AMG8833      # noqa: E402
scl, sda = b.i2c_pins(0)
cam = AMG8833(I2C(0, scl=Pin(scl), sda=Pin(sda)), fps=10, pins=(scl, sda))
model = load_model("model.tflite", phases)
check_input(model, 128)

raw = bytearray(128)
pixels = array("f", bytes(4 * 64))
x = array("f", bytes(4 * 128))
probs = array("f", bytes(4 * len(CLASSES)))
seen = []
logging = "log.on" in os.listdir()
log = bytearray()
with phases("sample"):
    cam.wake()
for k in range(FRAMES):
    with phases("sample"):
        if k:
            time.sleep_ms(cam.frame_ms)     # the next frame (the camera makes one every 100 ms)
        cam.read_frame(raw)
        hot = cam.to_celsius(raw, pixels)
    with phases("infer"):
        mean = sum(pixels) / 64
        for i in range(64):
            x[2 * i] = (pixels[i] - mean) / 4
            x[2 * i + 1] = (pixels[i] - 24) / 8
        model.predict(x, out=probs)
    seen.append(probs[1])
    if logging:
        log += bytes(pixels) + struct.pack("<f", probs[1])
p = sum(seen) / len(seen)
was = st[PRESENT]
present = (1 if p >= job["arrive_p"] else 0) if not was else (0 if p < job["leave_p"] else 1)

with phases("act"):
    led, on = b.led_pin()
    if led is not None:
        led.value(on if present else 1 - on)
    if present != was or st[LOOKS] == 1:
        st[REPORTS] += 1
        st[ARRIVALS] += present and not was
        print("REPORT look %d: %s (p=%.2f over %d frames, hottest %.2f degC, mean %.2f degC)" % (
            st[LOOKS], "someone is here" if present else "nobody", p, FRAMES, hot, mean))
    else:
        print("look %d: unchanged (%s, p=%.2f)" % (st[LOOKS], "present" if present else "empty", p))
    st[PRESENT] = present
if logging:
    with open("frames.log", "ab") as f:
        f.write(log)
        f.write(struct.pack("<i", present))
cam.sleep()
state.save()
print("%d looks, %d arrivals, %d reports" % (st[LOOKS], st[ARRIVALS], st[REPORTS]))
print(phases.report())
power.deepsleep(job["period_ms"])
