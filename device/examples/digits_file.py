# The digits job's device side: there is no 8x8 handwriting sensor, so the images come from a file. The script
# classifies every image of digits.bin (64 bytes an image, row by row, values 0..16 as in scikit-learn's digits:
# ink per 4x4 block of a 32x32 scan) with model.tflite from `tinyml train digits --out DIR`, prints each answer
# and the accuracy when labels.bin (one byte per image) is there, and writes the answers to digits.log (class
# int32, probability float32 per image) for the host to compare with its own engine (tests/test_train_visual.py).
# On a board the same loop would take its 64 values from whatever makes them: a camera's thumbnail, a touch grid.
#
# Input: pixel / 16 as float, exactly what training used (host/tinyml/jobs/digits.py `features`).
#
#   tinyml run --board unix-sim device/examples/digits_file.py -f DIR/model.tflite -f digits.bin [-f labels.bin]
import os
import struct
from array import array

from tinyml_device.duty import Phases, load_model, check_input, argmax

phases = Phases()
model = load_model("model.tflite", phases)
check_input(model, 64, "image")
with open("digits.bin", "rb") as f:
    images = f.read()
labels = None
if "labels.bin" in os.listdir():
    with open("labels.bin", "rb") as f:
        labels = f.read()
x = array("f", bytes(4 * 64))
probs = array("f", bytes(4 * 10))
right = 0
n = len(images) // 64
with open("digits.log", "wb") as log:
    for k in range(n):
        for i in range(64):
            x[i] = images[64 * k + i] / 16
        with phases("infer"):
            model.predict(x, out=probs)
        best = argmax(probs)
        log.write(struct.pack("<if", best, probs[best]))
        ok = labels is not None and labels[k] == best
        right += ok
        print("image %d: %d (p=%.2f)%s" % (k, best, probs[best], "" if labels is None else
                                             (" right" if ok else " WRONG, it is a %d" % labels[k])))
if labels is not None:
    print("accuracy %d/%d" % (right, n))
print(phases.report())
