# Runs many models on the device in one boot: cases.bin holds records
#   u32 model length, u16 input sets, u16 inputs per set, the model, then per set per input: u32 length, bytes
# and results.bin gets per record one write: status 0 + every set's outputs, or status 1/2 (load/invoke
# error) + u16 length + the message. A record that crashes the firmware writes nothing (the host sees where).
import gc
import tinyml


def u32(b, o):
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)


def error(out, status, e):
    msg = str(e).encode()[:1000]
    out.write(bytes([status, len(msg) & 255, len(msg) >> 8]) + msg)


f = open("cases.bin", "rb")
out = open("results.bin", "wb")
done = 0
while True:
    h = f.read(8)
    if len(h) < 8:
        break
    mlen, nsets, nin = u32(h, 0), h[4] | (h[5] << 8), h[6] | (h[7] << 8)
    buf = f.read(mlen)
    sets = []
    for s in range(nsets):
        ins = []
        for i in range(nin):
            ins.append(f.read(u32(f.read(4), 0)))
        sets.append(ins)
    try:
        m = tinyml.Model(buf)
    except Exception as e:
        error(out, 1, e)
        continue
    res = [b"\x00"]
    try:
        for ins in sets:
            for i in range(nin):
                m.set_input(i, ins[i])
            m.invoke()
            for j in range(len(m.outputs)):
                res.append(bytes(m.output(j)))
    except Exception as e:
        error(out, 2, e)
        continue
    out.write(b"".join(res))
    m = None
    res = None
    done += 1
    if done % 16 == 0:
        gc.collect()
out.close()
print("BATCH DONE", done)
