"""Instructions per MAC of every reference model on the emulated Xtensa core (QEMU's de233_fpu, which has the
ESP32's MAC16 option), through the portable xtensawin module and the one with kernels/xtensa/ (MAC16), each
checked bit-exact against TFLM on the same random input (`make bench-xtensa-mac16`; docs/benchmarks.md).

One QEMU run per model and module: the module and the model are imported and loaded by MicroPython
(ports/qemu_xtensa), the model is invoked once to warm up, then once between two board.instructions() reads
(each emulated MULSH/MULUH counted as one instruction, as the ESP32 executes them). Prints a Markdown table.

`--per-op` instead profiles the MAC16 module layer by layer (model.profile with board.instructions, as
device/bench.py does): instructions, MACs and instructions/MAC of every operator, with the filter and output
shapes, to find the layers above the 3.0 goal.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tests"))

from refmodels import MODELS  # noqa: E402
from tinyml import oracle, runner  # noqa: E402
from tinyml.build import model_module, module_sizes  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.targets import get_target  # noqa: E402

ORDER = ["hello_world", "micro_speech", "ad01_int8", "kws_ref_model", "str_ww_ref_model", "vww_96_int8",
         "person_detection", "pretrainedResnet_quant"]

# The inputs are set again before the counted invoke: invoke() may reuse an input's storage (as TFLM does).
SCRIPT = """
import os, board, tinyml
def read(n):
    with open(n, "rb") as f:
        return f.read(os.stat(n)[6])
model = tinyml.Model(read("m.tflite"))
for run in range(2):
    for i in range(len(model.inputs)):
        model.set_input(i, read("in%d" % i))
    t0 = board.instructions()
    model.invoke()
    n = board.instructions() - t0
print("instructions", n)
for i in range(len(model.outputs)):
    with open("out%d" % i, "wb") as f:
        f.write(bytes(model.output(i)))
"""


# One warm-up invoke, then per-operator costs. Each interval also holds one call of board.instructions from the
# engine (a few hundred instructions): it matters only for the small operators.
PROFILE_SCRIPT = """
import os, board, tinyml
def read(n):
    with open(n, "rb") as f:
        return f.read(os.stat(n)[6])
model = tinyml.Model(read("m.tflite"))
for i in range(len(model.inputs)):
    model.set_input(i, read("in%d" % i))
model.invoke()
for name, cost, nbytes in model.profile(board.instructions):
    print("OP", name, cost)
"""


def layer_shapes(path):
    """(filter shape, output shape) of each operator of subgraph 0, as the flatbuffer states them."""
    from tinyml.model_info import schema
    model = schema().ModelT.InitFromPackedBuf(bytearray(Path(path).read_bytes()), 0)
    g = model.subgraphs[0]
    shape = lambda i: tuple(int(d) for d in g.tensors[i].shape) if i >= 0 else ()
    return [(shape(op.inputs[1]) if len(op.inputs) > 1 else (), shape(op.outputs[0])) for op in g.operators]


def per_op(target, name):
    """Prints one Markdown row per operator of the MAC16 module's profile of `name`."""
    path = MODELS / f"{name}.tflite"
    info = read_model(path)
    inputs = runner.random_inputs(info, seed=7)
    files = {"tinyml.mpy": model_module("xtensawin", info, xtensa_mac16=True).read_bytes(),
             "m.tflite": path.read_bytes()}
    for i, x in enumerate(inputs):
        files[f"in{i}"] = np.ascontiguousarray(x).tobytes()
    stdout = target.run(PROFILE_SCRIPT, files, [], timeout=900).stdout
    costs = [(l.split()[1], int(l.split()[2])) for l in stdout.splitlines() if l.startswith("OP ")]
    print(f"\n{name}: {sum(c for _, c in costs):,} instructions in the operators, {info.macs:,} MACs\n")
    print("| # | op | filter | output | MACs | instructions | instr/MAC |")
    print("|---:|---|---|---|---:|---:|---:|")
    for i, ((op, cost), macs, (w, out)) in enumerate(zip(costs, info.op_macs, layer_shapes(path))):
        ratio = f"{cost / macs:.2f}" if macs else "-"
        print(f"| {i} | {op} | {'x'.join(map(str, w))} | {'x'.join(map(str, out))} | {macs:,} | {cost:,} | {ratio} |")


def measure(target, path, info, inputs, mac16):
    """(instructions of one invoke, bit-exact with TFLM, module text bytes) for one module kind."""
    module = model_module("xtensawin", info, xtensa_mac16=mac16)
    files = {"tinyml.mpy": module.read_bytes(), "m.tflite": path.read_bytes()}
    for i, x in enumerate(inputs):
        files[f"in{i}"] = np.ascontiguousarray(x).tobytes()
    result = target.run(SCRIPT, files, [f"out{i}" for i in range(len(info.outputs))], timeout=900)
    count = int(next(l for l in result.stdout.splitlines() if l.startswith("instructions")).split()[1])
    want = oracle.invoke(path, inputs)
    exact = all(np.array_equal(np.frombuffer(result.files[f"out{i}"], dtype=t.dtype).ravel(),
                               np.asarray(want[i]).ravel()) for i, t in enumerate(info.outputs))
    return count, exact, module_sizes(module)["text"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=ORDER)
    ap.add_argument("--per-op", action="store_true", help="profile the MAC16 module operator by operator")
    args = ap.parse_args()
    target = get_target("qemu-xtensa")
    if args.per_op:
        for name in args.models:
            per_op(target, name)
        return 0
    print("| model | MACs | portable instr/MAC | MAC16 instr/MAC | speed-up | bit-exact | text bytes (portable, MAC16) |")
    print("|---|---:|---:|---:|---:|---|---:|")
    failed = False
    for name in args.models:
        path = MODELS / f"{name}.tflite"
        info = read_model(path)
        inputs = runner.random_inputs(info, seed=7)
        (p, p_ok, p_text), (m, m_ok, m_text) = (measure(target, path, info, inputs, mac16) for mac16 in (False, True))
        failed |= not (p_ok and m_ok)
        print(f"| {name} | {info.macs:,} | {p / info.macs:.2f} | {m / info.macs:.2f} | {p / m:.2f}x | "
              f"{'yes' if p_ok and m_ok else 'NO'} | {p_text:,}, {m_text:,} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
