# A stream through one model instance: step after step, inputs from in<i>.bin (the steps' bytes one after
# the other), each step's outputs appended to out<j>.bin. `tinyml stream` copies this script, the engine
# module and the files, then runs it. One Model for the whole stream, so a stateful (streaming) model keeps
# its state from one step to the next, as on the device in a real application.
import os
import tinyml


def read_file(name):
    # f.read() without a size grows its buffer 256 bytes at a time (quadratic on a big model); ask for it all.
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])


model = tinyml.Model(read_file("model.tflite"))
n_in, n_out = len(model.inputs), len(model.outputs)
# Steps are read one at a time into one buffer per input: the whole stream need not fit in RAM.
bufs = [bytearray(len(model.input(i))) for i in range(n_in)]
ins = [open("in%d.bin" % i, "rb") for i in range(n_in)]
outs = [open("out%d.bin" % j, "wb") for j in range(n_out)]
steps = os.stat("in0.bin")[6] // len(bufs[0])
for _ in range(steps):
    for i in range(n_in):
        if ins[i].readinto(bufs[i]) != len(bufs[i]):
            raise ValueError("in%d.bin ended before step %d" % (i, _))
        model.set_input(i, bufs[i])
    model.invoke()
    for j in range(n_out):
        outs[j].write(bytes(model.output(j)))
for f in ins + outs:
    f.close()
print("streamed", steps, "steps, state", model.state_bytes, "bytes")
