"""Stateful streaming models built by the TF Lite converter: microVAD, ESPHome's voice-activity model, from the
float weights the pymicro-vad sdist ships (tests/microvad.py builds it: tf.Variable ring buffers, CALL_ONCE,
full int8 with an int8 -> uint8 output). Every invoke of long streams (random frames, then the features of
espeak-ng sentences between pauses) gives TFLM's bytes on the host build, through `tinyml stream` in the
MicroPython unix port and on the emulated Cortex-M4; `model.reset()` starts the stream over.

The streams run a "probe" copy of the model whose extra outputs are each READ_VARIABLE's output (the rings as
the previous invokes left them) and the FULLY_CONNECTED logit: the uint8 probability alone saturates at 0 and
255, where a wrong byte of state could go unseen."""

import flatbuffers
import numpy as np
import pytest

import microvad
from micropython_run import READ_FILE
from tinyml.hostlib import HostEngine
from tinyml.model_info import op_names, read_model, schema

from tflite_micro.python.tflite_micro import runtime  # noqa: E402 (in requirements.txt: `make setup`)

# ESPHome's microVAD .tflite (esphome/micro-wake-word-models, models/v2/vad.tflite), read once: its op types and
# counts, 13760 MACs, four int8 rings of 1120 bytes. The converter-built model must have the same form.
MICROVAD_OPS = {"ASSIGN_VARIABLE": 8, "CALL_ONCE": 1, "CONCATENATION": 4, "CONV_2D": 4, "DEPTHWISE_CONV_2D": 3,
                "FULLY_CONNECTED": 1, "LOGISTIC": 1, "QUANTIZE": 1, "READ_VARIABLE": 4, "RESHAPE": 1,
                "STRIDED_SLICE": 4, "VAR_HANDLE": 8}
MICROVAD_STATE = [80, 128, 336, 576]


@pytest.fixture(scope="module")
def vad(tmp_path_factory):
    """(the model's path, its probe's path, int8 steps: 30 random then the speech's, per-step speech labels)."""
    path = microvad.microvad_tflite()
    info = read_model(path)
    probe_path = tmp_path_factory.mktemp("vad") / "microvad_probe.tflite"
    probe_path.write_bytes(with_probes(path.read_bytes()))
    pcm, speaking = microvad.speech_with_pauses(seed=0)
    speech = microvad.quantize_input(microvad.feature_steps(pcm), info)
    rng = np.random.default_rng(3)
    noise = np.stack([rng.integers(-128, 128 if i % 3 == 0 else -60, size=(1, 3, 40)) for i in range(30)])
    step_samples = 3 * 160
    labels = np.array([speaking[i * step_samples:(i + 1) * step_samples].mean() > 0.5 for i in range(len(speech))])
    return path, probe_path, np.concatenate([noise.astype(np.int8), speech]), labels


def with_probes(data: bytes) -> bytes:
    """The model with extra outputs: each READ_VARIABLE's output and the FULLY_CONNECTED output."""
    model = schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    names = op_names()
    g = model.subgraphs[0]
    extra = [int(op.outputs[0]) for op in g.operators
             if names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                          model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)]
             in ("READ_VARIABLE", "FULLY_CONNECTED")]
    g.outputs = np.array(list(g.outputs) + extra, dtype=np.int32)
    b = flatbuffers.Builder(1 << 16)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def tflm_steps(model_bytes, steps):
    """TFLM's outputs over the stream, one interpreter: a (steps, *shape) array per output."""
    interp = runtime.Interpreter.from_bytes(model_bytes)
    n_out = len(schema().ModelT.InitFromPackedBuf(bytearray(model_bytes), 0).subgraphs[0].outputs)
    outs = []
    for x in steps:
        interp.set_input(x, 0)
        interp.invoke()
        outs.append([interp.get_output(j).copy() for j in range(n_out)])
    return [np.stack([o[j] for o in outs]) for j in range(n_out)]


def assert_steps_equal(got, want, what):
    assert len(got) == len(want), f"{what}: {len(got)} outputs, TFLM has {len(want)}"
    for j, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: output {j} is {g.shape} {g.dtype}"
        for step in range(w.shape[0]):
            assert g[step].tobytes() == w[step].tobytes(), f"{what}: output {j} differs from TFLM at step {step}"


def test_converter_gives_microvads_form(vad, capsys):
    """What TF 2.21 emits for the tf.Module with the converter settings of tests/microvad.py: microVAD's op
    types and counts, two subgraphs, int8 in, uint8 out, four int8 rings of ESPHome's sizes."""
    from tinyml.check import check
    path = vad[0]
    info = read_model(path)
    model = schema().ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0)
    names = op_names()
    counts = {}
    for g in model.subgraphs:
        for op in g.operators:
            code = model.operatorCodes[op.opcodeIndex]
            name = names[max(code.builtinCode, code.deprecatedBuiltinCode)]
            counts[name] = counts.get(name, 0) + 1
    assert counts == MICROVAD_OPS
    assert len(model.subgraphs) == 2 and np.size(model.subgraphs[1].inputs) == 0
    assert [np.dtype(t.dtype).name for t in info.inputs + info.outputs] == ["int8", "uint8"]
    assert info.inputs[0].shape == (1, 3, 40) and info.outputs[0].shape == (1, 1)
    assert sorted(b for _, b in info.variables) == MICROVAD_STATE
    assert check(path)
    out = capsys.readouterr().out
    assert "4 resource variables, 1120 bytes" in out and "13760 MACs" in out and "UNSUPPORTED" not in out


def test_host_stream_bitexact_reset_and_voice_activity(vad):
    path, probe_path, steps, speaking = vad
    data = probe_path.read_bytes()
    want = tflm_steps(data, steps)
    engine = HostEngine(data, ops=read_model(path).op_names)
    got = [engine.invoke([x]) for x in steps]
    got = [np.stack([np.frombuffer(s[j], w.dtype).reshape(w.shape[1:]) for s in got]) for j, w in enumerate(want)]
    assert_steps_equal(got, want, "microVAD on the host build")
    assert engine.state_bytes == sum(MICROVAD_STATE)
    # Not vacuous: every ring and the logit move along the stream.
    for j, w in enumerate(want[1:], 1):
        assert len({s.tobytes() for s in w}) > len(steps) // 3, f"output {j} hardly changes"
    # reset(): the state of a freshly loaded model; the stream starts over.
    engine.reset()
    assert [b"".join(engine.invoke([x])) for x in steps[:20]] == \
        [b"".join(w[i].tobytes() for w in want) for i in range(20)]
    # It is microVAD: the speech probability is high while espeak-ng speaks and low in the pauses.
    prob = want[0][30:, 0, 0].astype(int)
    assert prob[speaking].mean() > 200 and prob[~speaking].mean() < 80, (prob[speaking].mean(), prob[~speaking].mean())


# One run per target: the stream, a reset, and the stream's first steps again, with tinyml.Model in MicroPython.
RESET_STEPS = 16
STREAM_AND_RESET = READ_FILE + """model = tinyml.Model(read_file('m.tflite'))
frames = read_file('in.bin')
size = len(model.input(0))
out = bytearray()
for n in (len(frames) // size, RESET_STEPS):
    for i in range(n):
        model.set_input(0, frames[i * size:(i + 1) * size])
        model.invoke()
        for j in range(len(model.outputs)):
            out += bytes(model.output(j))
    model.reset()
open('out.bin', 'wb').write(out)
print('streamed', model.state_bytes)
"""


def device_stream_and_reset(target, probe_path, steps):
    from tinyml.build import model_module
    from tinyml.targets import get_target
    tgt = get_target(target)
    data = probe_path.read_bytes()
    files = {"m.tflite": data, "in.bin": steps.tobytes(),
             "tinyml.mpy": model_module(tgt.arch, read_model(probe_path)).read_bytes()}
    result = tgt.run(STREAM_AND_RESET.replace("RESET_STEPS", str(RESET_STEPS)), files, ["out.bin"])
    assert f"streamed {sum(MICROVAD_STATE)}" in result.stdout, result.stdout[-500:]
    want = tflm_steps(data, steps)
    per_step = [b"".join(w[i].tobytes() for w in want) for i in range(len(steps))]
    expected = per_step + per_step[:RESET_STEPS]
    got, size = result.files["out.bin"], len(per_step[0])
    assert len(got) == size * len(expected), f"{target}: {len(got)} bytes of outputs"
    for i, e in enumerate(expected):
        what = f"step {i}" if i < len(steps) else f"step {i - len(steps)} after reset()"
        assert got[i * size:(i + 1) * size] == e, f"microVAD on {target}: {what} differs from TFLM"


def test_stream_unix(vad, tmp_path, capsys):
    """`tinyml stream` (the command line) with the unmodified model, then tinyml.Model with reset() on the
    probe copy, in the unix port."""
    from tinyml.cli import main
    path, probe_path, steps, _ = vad
    np.save(tmp_path / "steps.npy", steps)
    main(["stream", str(path), "--input", str(tmp_path / "steps.npy"), "--output", str(tmp_path / "outs.npy")])
    assert f"streamed {len(steps)} steps" in capsys.readouterr().out
    assert_steps_equal([np.load(tmp_path / "outs.npy")], tflm_steps(path.read_bytes(), steps)[:1], "tinyml stream")
    device_stream_and_reset("unix", probe_path, steps)


def test_stream_qemu_m4(vad):
    """The probe copy on the emulated Cortex-M4 through tinyml.stream, then through tinyml.Model with reset()."""
    from tinyml.stream import stream
    _, probe_path, steps, _ = vad
    steps = steps[:110]
    assert_steps_equal(stream(probe_path, [steps], target="qemu-m4"), tflm_steps(probe_path.read_bytes(), steps),
                       "tinyml stream on qemu-m4")
    device_stream_and_reset("qemu-m4", probe_path, steps)
