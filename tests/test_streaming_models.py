"""Stateful streaming models: ESPHome's microWakeWord models from the `pymicro-wakeword` wheel, and small
hand-built ones. Two subgraphs, CALL_ONCE, resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE)
that keep ring buffers of past activations across invokes: every invoke of a long stream must give TFLM's
bytes, on the host build, in the MicroPython unix port and on the emulated Cortex-M4.

The wake-word models' own output (a uint8 probability) is 0 for most inputs, so the streams run "probe"
copies of the models whose extra outputs are every READ_VARIABLE output (the state as the previous invokes
left it) and the FULLY_CONNECTED logits: a wrong byte of state shows up at the next invoke."""

import math
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from m4diff.tflite_writer import INT8, INT32, ModelBuilder
from micropython_run import READ_FILE
from tinyml import TinymlError
from tinyml.hostlib import HostEngine
from tinyml.model_info import op_names, read_model, schema

import pymicro_wakeword as pmw  # noqa: E402 (in requirements.txt: `make setup` installs it)
from tflite_micro.python.tflite_micro import runtime  # noqa: E402

MWW = Path(pmw.__file__).parent / "models"
NAMES = ["alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"]
RESOURCE = 13


# ---- models ----------------------------------------------------------------------------------------------

def _pack(model) -> bytes:
    b = flatbuffers.Builder(1 << 16)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def probe(name) -> bytes:
    """The model with extra outputs: each READ_VARIABLE's output and the FULLY_CONNECTED output."""
    data = (MWW / f"{name}.tflite").read_bytes()
    model = schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    names = op_names()
    g = model.subgraphs[0]
    extra = []
    for op in g.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if names[max(code.builtinCode, code.deprecatedBuiltinCode)] in ("READ_VARIABLE", "FULLY_CONNECTED"):
            extra.append(int(op.outputs[0]))
    g.outputs = np.array(list(g.outputs) + extra, dtype=np.int32)
    return _pack(model)


def tflm(model_bytes):
    return runtime.Interpreter.from_bytes(model_bytes)


def tflm_stream(model_bytes, frames, interp=None):
    """TFLM's outputs (all of them, concatenated bytes) for each frame, one interpreter for the stream."""
    interp = interp or tflm(model_bytes)
    n_out = len(schema().ModelT.InitFromPackedBuf(bytearray(model_bytes), 0).subgraphs[0].outputs)
    steps = []
    for x in frames:
        interp.set_input(x, 0)
        interp.invoke()
        steps.append(b"".join(interp.get_output(i).tobytes() for i in range(n_out)))
    return steps


def engine_stream(engine, frames):
    return [b"".join(engine.invoke([x])) for x in frames]


# ---- inputs ----------------------------------------------------------------------------------------------

def random_frames(shape, n, seed):
    """Random int8 feature slices: full-range noise and the narrow, low range real features have."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        lo, hi = (-128, 128) if i % 3 == 0 else (-128, -40)
        frames.append(rng.integers(lo, hi, size=shape).astype(np.int8))
    return frames


def audio(seconds=2.0, seed=0):
    """16 kHz int16 speech-like audio: voiced bursts (harmonics of a gliding pitch) between quiet noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    f0 = 120 + 60 * np.sin(2 * math.pi * 1.3 * t)
    phase = 2 * math.pi * np.cumsum(f0) / 16000
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * math.pi * 2.1 * t), 0, None) ** 2
    x = 6000 * envelope * voiced + 300 * rng.standard_normal(t.size)
    return np.clip(x, -32768, 32767).astype(np.int16)


def feature_frames(shape, seconds=2.0):
    """Inputs as ESPHome builds them: microWakeWord features (pymicro-features, TFLM's audio frontend) of
    the audio, quantized as the model's input (scale 26/255, zero point -128) and clamped, `stride` 10 ms
    slices per invoke."""
    from pymicro_wakeword.microwakeword import MicroWakeWordFeatures
    feats = np.concatenate(list(MicroWakeWordFeatures().process_streaming(audio(seconds).tobytes())), axis=1)
    q = np.clip(np.round(feats / 0.10196079 - 128), -128, 127).astype(np.int8)
    stride = shape[1]
    return [q[:, i:i + stride, :].reshape(shape) for i in range(0, q.shape[1] - stride + 1, stride)]


def frames_for(shape, seed):
    return random_frames(shape, 40, seed) + feature_frames(shape)


# ---- the microWakeWord models on the host build ------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_microwakeword_stream_bitexact(name):
    data = probe(name)
    info = read_model(MWW / f"{name}.tflite")
    shape = info.inputs[0].shape
    frames = frames_for(shape, seed=len(name))
    assert len(frames) >= 90
    engine = HostEngine(data, ops=info.op_names)
    want = tflm_stream(data, frames)
    got = engine_stream(engine, frames)
    for step, (w, g) in enumerate(zip(want, got)):
        assert w == g, f"{name}: invoke {step} differs from TFLM"
    # Not vacuous: the logits (last output) and the state change along the stream.
    assert len(set(want)) > len(frames) // 2
    # reset(): the state of a fresh model; the stream again gives the same bytes.
    engine.reset()
    assert engine_stream(engine, frames[:12]) == want[:12]


@pytest.mark.parametrize("name", NAMES)
def test_microwakeword_arena_below_tflm(name):
    """Arena plus descriptors, resource variables included, against TFLM's arena: the wheel's interpreter
    allocates the resource variables in its one arena too (ESPHome gives them a separate one)."""
    from tinyml import oracle
    path = MWW / f"{name}.tflite"
    info = read_model(path)
    engine = HostEngine(path.read_bytes(), ops=info.op_names)
    state = sum(b for _, b in info.variables)
    tflm_arena = oracle.arena_used_bytes(path)
    print(f"{name}: engine {engine.arena_bytes} bytes (state {engine.state_bytes}), TFLM {tflm_arena}")
    assert engine.state_bytes == state
    assert engine.arena_bytes <= tflm_arena


def test_microwakeword_check_reports_state(capsys):
    from tinyml.check import check
    assert check(MWW / "okay_nabu.tflite")
    out = capsys.readouterr().out
    assert "UNSUPPORTED" not in out
    assert "6 resource variables, 3408 bytes" in out
    assert "variable stream_10/states: 896 bytes" in out


# ---- MicroPython: unix port and the emulated Cortex-M4 ----------------------------------------------------

STREAM_SCRIPT = READ_FILE + """for k in range(NMODELS):
    model = tinyml.Model(read_file('m%d.tflite' % k))
    frames = read_file('in%d.bin' % k)
    size = len(model.input(0))
    out = bytearray()
    for r in range(2):
        for i in range(len(frames) // size):
            if r == 1 and i == RESET_STEPS:
                break
            model.set_input(0, frames[i * size:(i + 1) * size])
            model.invoke()
            for j in range(len(model.outputs)):
                out += bytes(model.output(j))
        model.reset()
    open('out%d.bin' % k, 'wb').write(out)
    print('streamed', k, model.state_bytes)
"""


def _device_stream(target, names, n_frames, reset_steps=5):
    from tinyml.build import build_module, model_module
    from tinyml.targets import get_target
    files, expected = {}, []
    for k, name in enumerate(names):
        data = probe(name)
        shape = read_model(MWW / f"{name}.tflite").inputs[0].shape
        frames = frames_for(shape, seed=k)[-n_frames:]
        want = tflm_stream(data, frames)
        expected.append(b"".join(want + want[:reset_steps]))
        files[f"m{k}.tflite"] = data
        files[f"in{k}.bin"] = b"".join(f.tobytes() for f in frames)
    tgt = get_target(target)
    ops = sorted({op for n in names for op in read_model(MWW / f"{n}.tflite").op_names})
    files["tinyml.mpy"] = (build_module("x64", ops) if target == "unix" else
                           model_module(tgt.arch, read_model(MWW / f"{names[0]}.tflite"))).read_bytes()
    script = STREAM_SCRIPT.replace("NMODELS", str(len(names))).replace("RESET_STEPS", str(reset_steps))
    result = tgt.run(script, files, [f"out{k}.bin" for k in range(len(names))])
    for k, name in enumerate(names):
        got = result.files[f"out{k}.bin"]
        step = len(expected[k]) // (n_frames + reset_steps)
        for i in range(n_frames + reset_steps):
            assert got[i * step:(i + 1) * step] == expected[k][i * step:(i + 1) * step], \
                f"{name} on {target}: invoke {i} differs from TFLM"
    return result


def test_microwakeword_stream_unix_port():
    result = _device_stream("unix", NAMES, n_frames=60)
    assert "streamed 3 3408" in result.stdout


def test_microwakeword_stream_qemu_m4():
    _device_stream("qemu-m4", ["okay_nabu"], n_frames=50)


# ---- hand-built models: each op and the edge cases ---------------------------------------------------------

class Builder(ModelBuilder):
    """ModelBuilder with several subgraphs: build subgraph 0 first, `end_subgraph`, then the next."""

    def __init__(self):
        super().__init__()
        self.graphs = []

    def end_subgraph(self, inputs, outputs):
        g = self.s.SubGraphT()
        g.tensors, g.operators = self.tensors, self.ops
        g.inputs = np.array(inputs, dtype=np.int32)
        g.outputs = np.array(outputs, dtype=np.int32)
        self.graphs.append(g)
        self.tensors, self.ops = [], []

    def var_handle(self, name):
        h = self.tensor([], dtype=RESOURCE)
        self.op("VAR_HANDLE", [], [h], "VarHandleOptions", self.options("VarHandleOptions", sharedName=name.encode()))
        return h

    def read(self, handle, shape, **q):
        t = self.tensor(shape, **q)
        self.op("READ_VARIABLE", [handle], [t], "ReadVariableOptions", self.options("ReadVariableOptions"))
        return t

    def assign(self, handle, value):
        self.op("ASSIGN_VARIABLE", [handle, value], [], "AssignVariableOptions",
                self.options("AssignVariableOptions"))

    def call_once(self, index):
        self.op("CALL_ONCE", [], [], "CallOnceOptions", self.options("CallOnceOptions", initSubgraphIndex=index))

    def build(self):
        m = self.s.ModelT()
        m.version = 3
        m.operatorCodes = self.codes
        m.subgraphs = self.graphs
        m.buffers = self.buffers
        return _pack(m)


Q = dict(scale=0.05, zero_point=3)


def ring_model(init=True, two=True, read_first=True, init_values=(7, -5), callee=1, n_frames=2):
    """A ring buffer model: state (1, 4, 8) int8; each invoke concatenates the state with the input frame
    (1, n_frames, 8) along axis 1, outputs the concatenation, and keeps the last 4 rows. A second variable
    (two=True) counts invokes with ADD. Subgraph 1 (CALL_ONCE) sets the initial values."""
    b = Builder()
    x = b.tensor([1, n_frames, 8], **Q)
    if init:
        b.call_once(callee)
    h = b.var_handle("ring")
    cat = b.tensor([1, 4 + n_frames, 8], **Q)
    if read_first:
        st = b.read(h, [1, 4, 8], **Q)
    keep = b.tensor([1, 4, 8], **Q)
    begin = b.tensor([3], INT32, data=np.array([0, n_frames, 0], np.int32))
    end = b.tensor([3], INT32, data=np.array([1, 4 + n_frames, 8], np.int32))
    strides = b.tensor([3], INT32, data=np.array([1, 1, 1], np.int32))
    if not read_first:  # the variable is assigned first (from the input), read after: a read-after-write
        pre = b.tensor([1, 4, 8], **Q)
        b.op("CONCATENATION", [x, x], [pre], "ConcatenationOptions", b.options("ConcatenationOptions", axis=1))
        b.assign(h, pre)
        st = b.read(h, [1, 4, 8], **Q)
    b.op("CONCATENATION", [st, x], [cat], "ConcatenationOptions", b.options("ConcatenationOptions", axis=1))
    b.op("STRIDED_SLICE", [cat, begin, end, strides], [keep], "StridedSliceOptions",
         b.options("StridedSliceOptions"))
    if read_first:
        b.assign(h, keep)
    outputs = [cat]
    if two:
        h2 = b.var_handle("count")
        c = b.read(h2, [1, 1, 8], **Q)
        one = b.tensor([1, 1, 8], data=np.full(8, 23, np.int8), **Q)  # +1.0 per invoke
        c2 = b.tensor([1, 1, 8], **Q)
        b.op("ADD", [c, one], [c2], "AddOptions", b.options("AddOptions"))
        b.assign(h2, c2)
        outputs.append(c2)
    b.end_subgraph([x], outputs)
    if init:
        h = b.var_handle("ring")
        b.assign(h, b.tensor([1, 4, 8], data=np.full(32, init_values[0], np.int8), **Q))
        if two:
            h2 = b.var_handle("count")
            b.assign(h2, b.tensor([1, 1, 8], data=np.full(8, init_values[1], np.int8), **Q))
        b.end_subgraph([], [])
    return b.build()


def check_stream(data, n=12, seed=0):
    """Engine and TFLM over n invokes of one model instance, then a reset and 4 invokes of the same frames
    (our reset() gives the state of a fresh model: compared with a fresh TFLM interpreter)."""
    shape = read_model_bytes(data).inputs[0].shape
    rng = np.random.default_rng(seed)
    frames = [rng.integers(-128, 128, size=shape).astype(np.int8) for _ in range(n)]
    engine = HostEngine(data)
    want = tflm_stream(data, frames)
    assert engine_stream(engine, frames) == want
    engine.reset()
    assert engine_stream(engine, frames[:4]) == want[:4]
    return engine, want


def read_model_bytes(data):
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(data)
        f.flush()
        return read_model(f.name)


def test_ring_buffer_two_variables():
    engine, want = check_stream(ring_model())
    assert engine.state_bytes == 32 + 8
    # The first invoke reads the initial values CALL_ONCE assigned; the state then moves.
    assert want[0][:32] == bytes([7]) * 32 and want[1] != want[0]
    # TFLM's own reset() refills the variables with zero points and does not run CALL_ONCE again, so its
    # state differs from a fresh model's; ours (compared with a fresh interpreter above) gives a fresh model's.
    # For the microWakeWord models both agree: their initial values are the zero points.
    data = ring_model()
    interp = tflm(data)
    frames = [np.zeros((1, 2, 8), np.int8)] * 2
    tflm_stream(data, frames, interp)
    interp.reset()
    assert tflm_stream(data, frames[:1], interp)[0][:32] == bytes([3]) * 32


def test_without_call_once_variables_start_at_zero_point():
    """No CALL_ONCE: TFLM fills a variable with the zero point of the first tensor assigned to it, at
    prepare; a read before any assignment sees that."""
    _, want = check_stream(ring_model(init=False))
    assert want[0][:32] == bytes([3]) * 32


def test_assign_then_read_in_one_invoke():
    check_stream(ring_model(read_first=False, two=False))


def test_variable_never_assigned_is_refused():
    b = Builder()
    x = b.tensor([1, 8], **Q)
    h = b.var_handle("v")
    st = b.read(h, [1, 8], **Q)
    y = b.tensor([1, 8], **Q)
    b.op("ADD", [x, st], [y], "AddOptions", b.options("AddOptions"))
    b.end_subgraph([x], [y])
    with pytest.raises(TinymlError, match="never assigned"):
        HostEngine(b.build())


@pytest.mark.parametrize("callee", [0, 2, -1, 7])
def test_bad_call_once_subgraph_index(callee):
    with pytest.raises(TinymlError, match="CALL_ONCE.*calls subgraph"):
        HostEngine(ring_model(callee=callee))


def test_assign_size_mismatch_is_refused():
    b = Builder()
    x = b.tensor([1, 8], **Q)
    h = b.var_handle("v")
    b.assign(h, x)
    h2 = b.var_handle("v")
    b.assign(h2, b.tensor([1, 4], data=np.zeros(4, np.int8), **Q))
    y = b.read(h, [1, 8], **Q)
    b.end_subgraph([x], [y])
    with pytest.raises(TinymlError, match="assigns 4 bytes to a variable of 8"):
        HostEngine(b.build())


def test_resource_tensor_only_for_variable_ops():
    b = Builder()
    x = b.tensor([1, 8], **Q)
    h = b.var_handle("v")
    y = b.tensor([], dtype=RESOURCE)
    b.op("RESHAPE", [h], [y], "ReshapeOptions", b.options("ReshapeOptions"))
    b.end_subgraph([x], [x])
    with pytest.raises(TinymlError, match="resource variable handle"):
        HostEngine(b.build())


@pytest.mark.parametrize("in_dtype,out_dtype,zp_in,zp_out,scale_out", [
    (INT8, 3, -128, 0, 0.00390625),     # microWakeWord's final op: a shift by 128
    (INT8, 3, 5, 128, 0.013),
    (3, INT8, 128, -3, 0.021),
    (INT8, INT8, 1, -7, 0.3),
])
def test_quantize_int8_uint8(in_dtype, out_dtype, zp_in, zp_out, scale_out):
    b = Builder()
    x = b.tensor([2, 64], in_dtype, scale=0.00390625 if zp_in == -128 else 0.017, zero_point=zp_in)
    y = b.tensor([2, 64], out_dtype, scale=scale_out, zero_point=zp_out)
    b.op("QUANTIZE", [x], [y], "QuantizeOptions", b.options("QuantizeOptions"))
    b.end_subgraph([x], [y])
    data = b.build()
    engine = HostEngine(data)
    dt = np.int8 if in_dtype == INT8 else np.uint8
    interp = tflm(data)
    for seed in range(3):
        x = np.random.default_rng(seed).integers(np.iinfo(dt).min, np.iinfo(dt).max + 1, size=(2, 64)).astype(dt)
        interp.set_input(x, 0)
        interp.invoke()
        assert engine.invoke([x])[0] == interp.get_output(0).tobytes()


@pytest.mark.parametrize("op,axis,sizes", [
    ("SPLIT_V", 1, [2, 5, 1]), ("SPLIT_V", -1, [3, -1]), ("SPLIT_V", 0, [1, 1]), ("SPLIT", 2, 2),
    ("SPLIT", -2, 4), ("SPLIT", 0, 1),
])
def test_split(op, axis, sizes):
    b = Builder()
    shape = [2, 8, 6]
    x = b.tensor(shape, **Q)
    ax = b.tensor([], INT32, data=np.array(axis, np.int32))
    n = len(sizes) if op == "SPLIT_V" else sizes
    dim = shape[axis]
    parts = ([s if s >= 0 else dim - sum(v for v in sizes if v >= 0) for s in sizes] if op == "SPLIT_V"
             else [dim // n] * n)
    outs = []
    for p in parts:
        s = list(shape)
        s[axis] = p
        outs.append(b.tensor(s, **Q))
    if op == "SPLIT_V":
        sz = b.tensor([len(sizes)], INT32, data=np.array(sizes, np.int32))
        b.op("SPLIT_V", [x, sz, ax], outs, "SplitVOptions", b.options("SplitVOptions", numSplits=n))
    else:
        b.op("SPLIT", [ax, x], outs, "SplitOptions", b.options("SplitOptions", numSplits=n))
    b.end_subgraph([x], outs)
    data = b.build()
    engine = HostEngine(data)
    x = np.random.default_rng(0).integers(-128, 128, size=shape).astype(np.int8)
    interp = tflm(data)
    interp.set_input(x, 0)
    interp.invoke()
    assert engine.invoke([x]) == [interp.get_output(i).tobytes() for i in range(len(outs))]
