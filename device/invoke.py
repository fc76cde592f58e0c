# One inference of model.tflite on the device: inputs from in<i>.bin, outputs to out<i>.bin.
# `tinyml invoke` copies this script, the engine module and the files, then runs it.
import tinyml

model = tinyml.Model(open("model.tflite", "rb").read())
for i in range(len(model.inputs)):
    model.set_input(i, open("in%d.bin" % i, "rb").read())
model.invoke()
for i in range(len(model.outputs)):
    open("out%d.bin" % i, "wb").write(bytes(model.output(i)))
print("invoked", model)
