# Gesture recognition on the device: classify accelerometer windows with the tinyml engine.
# Files: model.tflite (from `tinyml train gesture`), samples.bin (int16 accelerometer counts at +-2 g, 16384 per g,
# as an MPU6050 gives them: half the bytes of float32 over a serial link), and the engine module tinyml.mpy.
# For each window: model.predict() quantizes the floats (in g), runs the model and writes the class probabilities
# into `probs`, an array('f') made once (out=): the loop allocates nothing for them.
# Writes the raw int8 outputs to outputs.bin so the host can compare them with TFLM byte for byte.
from array import array
import time
import os
import tinyml


def read_file(name):
    # f.read() without a size grows its buffer 256 bytes at a time (quadratic on a big model); ask for it all.
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])


CLASSES = ("idle", "circle", "wing", "slope", "shake")     # host/tinyml/jobs/gesture.py

model = tinyml.Model(read_file("model.tflite"))
print("loaded", model)
WINDOW_VALUES = 1
for d in model.inputs[0]["shape"]:
    WINDOW_VALUES *= d
COUNTS_PER_G = 16384
samples = array("h", read_file("samples.bin"))
n = len(samples) // WINDOW_VALUES
raw = bytearray()
probs = array("f", bytes(4 * len(CLASSES)))
window = array("f", bytes(4 * WINDOW_VALUES))      # one window in g, refilled in place
t0 = time.ticks_us()
for i in range(n):
    base = i * WINDOW_VALUES
    for k in range(WINDOW_VALUES):                  # counts -> g, as the driver's to_g() does (exact in float32)
        window[k] = samples[base + k] / COUNTS_PER_G
    model.predict(window, out=probs)
    raw.extend(bytes(model.output(0)))
    best = max(range(len(probs)), key=lambda k: probs[k])
    if i < 8 or i % 50 == 0:
        print("window %3d: %-6s (p=%.2f)" % (i, CLASSES[best], probs[best]))
dt = time.ticks_diff(time.ticks_us(), t0)
open("outputs.bin", "wb").write(raw)
print("classified %d windows in %d ms (%d us each)" % (n, dt // 1000, dt // n))
