# Wake on motion, classify the gesture, sleep.
#
# Wiring: an MPU6050 on the board's I2C(0) pins, its INT pin to GPIO 4 (an RTC pin on the ESP32, so it can
# wake the chip from deep sleep). Files on the board: gesture.tflite (from `tinyml demo`: 50 samples x 3 axes
# at 50 Hz, in g) and the engine module tinyml.mpy; the tinyml_device package in /lib.
#
# Each boot: read the reason for waking. On motion: import the engine and load the model, sample one window
# from the IMU's FIFO, predict, print the gesture, count it in the state kept across deep sleep. Then arm the
# IMU's wake-on-motion interrupt and deep-sleep until it fires (or an hour passes).
#
#   tinyml run --board unix-sim device/examples/gesture_wake.py --data gestures.npy --file gesture.tflite --boots 3
from array import array
import time

from machine import I2C, Pin
from tinyml_device import board, power
from tinyml_device.duty import Phases, load_model, check_input, argmax
from tinyml_device.state import State
from tinyml_device.drivers.mpu6050 import MPU6050

CLASSES = ("idle", "shake", "wave", "circle")
RATE_HZ = 50
WINDOW = 50                 # samples per window: 1 s
INT_PIN = 4                 # MPU6050 INT -> this pin
MOTION_MG = 100             # wake when an axis moves by more than this
SLEEP_MS = 3600 * 1000      # and at least once an hour

phases = Phases()
b = board.current()
wake = power.wake_reason()
state = State(words=1 + len(CLASSES), version=1)    # [boots, count per class]
state.values[0] += 1
print("boot %d on %s: woke by %s, state %s" % (state.values[0], b.id, wake, state.status))

scl, sda = b.i2c_pins(0)
imu = MPU6050(I2C(0, scl=Pin(scl), sda=Pin(sda)), rate_hz=RATE_HZ, pins=(scl, sda))

if wake == "pin":
    model = load_model("gesture.tflite", phases)
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
        with phases("act"):
            best = argmax(probs)
            state.values[1 + best] += 1
            print("gesture: %s (p=%.2f)" % (CLASSES[best], probs[best]))

print("seen so far: " + ", ".join("%s %d" % (CLASSES[i], state.values[1 + i]) for i in range(len(CLASSES))))
state.save()
imu.wake_on_motion(threshold_mg=MOTION_MG)
power.wake_on_pin(INT_PIN, level=1)
print(phases.report())
print("sleeping until motion on pin %d (or %d s)" % (INT_PIN, SLEEP_MS // 1000))
power.deepsleep(SLEEP_MS)
