# The gesture job's device app: wake on motion, classify the gesture, act, deep-sleep.
#
# Wiring: an MPU6050 on the board's I2C(0) pins (`tinyml boards`, boards/*.json "i2c"), its INT pin to GPIO 4
# (an RTC pin on the ESP32, so it can wake the chip from deep sleep). On the board's filesystem: job.json from
# `tinyml train gesture --out DIR`, the model as the pack gesture.mpy (what `tinyml deploy DIR` installs) or as
# model.tflite next to the engine module tinyml.mpy, and the tinyml_device package in /lib.
#
# Each boot: read why the board woke. On motion: import the engine and load the model, sample one window from
# the IMU's FIFO, predict. A gesture counts only when the model is sure of it (probability >= SURE): unsure
# windows and "idle" are not acted on. The action: blink the LED once per class number (when the board has an
# LED), print it, and count it in the state kept across deep sleep (RTC memory). Then arm the IMU's
# wake-on-motion interrupt and deep-sleep until it fires (or an hour passes).
#
# If a file named `log.on` exists, each classified window is appended to windows.log (the raw window in g as
# float32, then the class index and the probability): the host replays them through its own engine to check that
# the board decided the same (tests/test_train_gesture.py, `make demo`).
#
#   tinyml run --board unix-sim device/examples/gesture_wake.py --data stream.npy -f DIR/model.tflite -f DIR/job.json --boots 4
from array import array
import json
import os
import struct
import time

from machine import I2C, Pin
from tinyml_device import board, power
from tinyml_device.duty import Phases, load_job_model, check_input, argmax
from tinyml_device.state import State
from tinyml_device.drivers.mpu6050 import MPU6050

INT_PIN = 4                 # MPU6050 INT -> this pin
MOTION_MG = 100             # wake when an axis moves by more than this
SLEEP_MS = 3600 * 1000      # and at least once an hour
SURE = 0.6                  # act on a gesture only at this probability or more
MAX_CLASSES = 8             # state words kept per class

phases = Phases()
with open("job.json") as f:
    job = json.load(f)
CLASSES = job["classes"]
RATE_HZ = job["rate_hz"]
WINDOW = job["window"]
b = board.current()
wake = power.wake_reason()
state = State(words=1 + MAX_CLASSES, version=2)    # [boots, count per class]
state.values[0] += 1
print("boot %d on %s: woke by %s, state %s" % (state.values[0], b.id, wake, state.status))

scl, sda = b.i2c_pins(0)
imu = MPU6050(I2C(0, scl=Pin(scl), sda=Pin(sda)), rate_hz=RATE_HZ, pins=(scl, sda))


def blink(times):
    led, on = b.led_pin()
    if led is None:
        return
    for _ in range(times):
        led.value(on)
        time.sleep_ms(120)
        led.value(1 - on)
        time.sleep_ms(120)


if wake == "pin":
    model = load_job_model(job, phases)
    raw = bytearray(6 * WINDOW)
    window = array("f", bytes(4 * 3 * WINDOW))
    probs = array("f", bytes(4 * len(CLASSES)))
    check_input(model, len(window))
    with phases("sample"):
        imu.fifo_start()
        time.sleep_ms(WINDOW * 1000 // RATE_HZ + 20)
        frames = imu.fifo_read(raw, WINDOW)
        imu.fifo_stop()
    if frames < WINDOW:
        print("only %d of %d samples (FIFO overflows: %d): no gesture this time" % (frames, WINDOW, imu.fifo_overflows))
    else:
        imu.to_g(raw, frames, window)
        with phases("infer"):
            model.predict(window, out=probs)
        best = argmax(probs)
        with phases("act"):
            if probs[best] < SURE:
                print("gesture: unsure (%s p=%.2f)" % (CLASSES[best], probs[best]))
            elif CLASSES[best] == "idle":
                print("gesture: none (idle p=%.2f)" % probs[best])
            else:
                state.values[1 + best] += 1
                print("gesture: %s (p=%.2f)" % (CLASSES[best], probs[best]))
                blink(best)
        if "log.on" in os.listdir():
            with open("windows.log", "ab") as f:
                f.write(window)
                f.write(struct.pack("<if", best, probs[best]))

print("seen so far: " + ", ".join("%s %d" % (CLASSES[i], state.values[1 + i]) for i in range(1, len(CLASSES))))
state.save()
imu.wake_on_motion(threshold_mg=MOTION_MG)
power.wake_on_pin(INT_PIN, level=1)
print(phases.report())
print("sleeping until motion on pin %d (or %d s)" % (INT_PIN, SLEEP_MS // 1000))
power.deepsleep(SLEEP_MS)
