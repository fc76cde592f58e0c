# Time per invoke of model.tflite on the device; prints one line "BENCH key=value ...".
# On the emulated Cortex-M boards, `board.instructions()` counts executed instructions exactly.
import time
import tinyml

try:
    import board
    count = board.instructions
except ImportError:
    count = None

RUNS = 10  # replaced by the host

model = tinyml.Model(open("model.tflite", "rb").read())
for i in range(len(model.inputs)):
    model.set_input(i, open("in%d.bin" % i, "rb").read())
model.invoke()  # warm up
i0 = count() if count else 0
t0 = time.ticks_us()
for _ in range(RUNS):
    model.invoke()
dt = time.ticks_diff(time.ticks_us(), t0)
i1 = count() if count else 0
print("BENCH engine_us=%d arena_bytes=%d instructions=%d" % (dt // RUNS, model.arena_bytes, (i1 - i0) // RUNS))
