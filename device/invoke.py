# One inference of model.tflite on the device: inputs from in<i>.bin, outputs to out<i>.bin.
# `tinyml invoke` copies this script, the engine module and the files, then runs it.
import os
import tinyml


def read_file(name):
    # f.read() without a size grows its buffer 256 bytes at a time (quadratic on a big model); ask for it all.
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])


model = tinyml.Model(read_file("model.tflite"))
for i in range(len(model.inputs)):
    model.set_input(i, read_file("in%d.bin" % i))
model.invoke()
for i in range(len(model.outputs)):
    open("out%d.bin" % i, "wb").write(bytes(model.output(i)))
print("invoked", model)
