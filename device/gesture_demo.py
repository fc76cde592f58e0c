# Gesture recognition on the device: classify accelerometer windows with the tinyml engine.
# Files: model.tflite, samples.bin (float32 windows, in g), and the engine module tinyml.mpy.
# For each window: model.predict() quantizes the floats, runs the model and returns class probabilities.
# Writes the raw int8 outputs to outputs.bin so the host can compare them with TFLM byte for byte.
from array import array
import time
import tinyml

CLASSES = ("idle", "shake", "wave", "circle")
WINDOW_VALUES = 50 * 3

model = tinyml.Model(open("model.tflite", "rb").read())
print("loaded", model)
samples = array("f", open("samples.bin", "rb").read())
n = len(samples) // WINDOW_VALUES
raw = bytearray()
t0 = time.ticks_us()
for i in range(n):
    window = memoryview(samples)[i * WINDOW_VALUES:(i + 1) * WINDOW_VALUES]
    probs = model.predict(window)
    raw.extend(bytes(model.output(0)))
    best = max(range(len(probs)), key=lambda k: probs[k])
    if i < 8 or i % 50 == 0:
        print("window %3d: %-6s (p=%.2f)" % (i, CLASSES[best], probs[best]))
dt = time.ticks_diff(time.ticks_us(), t0)
open("outputs.bin", "wb").write(raw)
print("classified %d windows in %d ms (%d us each)" % (n, dt // 1000, dt // n))
