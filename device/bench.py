# Cost of running model.tflite on the device. Prints "BENCH key=value ..." and one "OP name cost bytes" line
# per operator. Costs are in executed instructions on the emulated Cortex-M boards (board.instructions()
# counts them exactly), in microseconds elsewhere.
import os
import time

try:
    import board
    clock = board.instructions
    unit = "instructions"
except ImportError:
    clock = time.ticks_us
    unit = "us"

RUNS = 10  # replaced by the host


def read_file(name):
    # f.read() without a size grows its buffer 256 bytes at a time (quadratic on a big model); ask for it all.
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])


t0 = clock()
import tinyml  # loading the native module: reading it and relocating its code

t_import = clock() - t0
data = read_file("model.tflite")
t0 = clock()
model = tinyml.Model(data)  # verify, plan, prepare
t_load = clock() - t0
for i in range(len(model.inputs)):
    model.set_input(i, read_file("in%d.bin" % i))
model.invoke()  # warm up
t0 = time.ticks_us()
i0 = clock()
for _ in range(RUNS):
    model.invoke()
i1 = clock()
dt = time.ticks_diff(time.ticks_us(), t0)
per_invoke = (i1 - i0) // RUNS
# Per op: each measured interval also holds about one read of the clock; subtract what a read costs.
c0 = clock()
read_cost = clock() - c0
ops = [(name, max(cost - read_cost, 0), nbytes) for name, cost, nbytes in model.profile(clock)]
print("BENCH unit=%s engine_us=%d per_invoke=%d import=%d load=%d call_overhead=%d arena_bytes=%d" % (
    unit, dt // RUNS, per_invoke, t_import, t_load, per_invoke - sum(op[1] for op in ops), model.arena_bytes))
for name, cost, nbytes in ops:
    print("OP %s %d %d" % (name, cost, nbytes))
