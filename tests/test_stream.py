"""`tinyml stream`: a sequence of inputs through one model instance inside MicroPython, compared step by step
with TFLM running the same stream on one interpreter (which keeps the resource variables across invokes).

The models are ESPHome's microWakeWord models (pymicro-wakeword wheel), as "probe" copies whose extra outputs
are the state each invoke reads and the logits (test_streaming_models.probe): their own uint8 output is 0 for
most inputs, so a wrong byte of state would otherwise go unseen."""

import numpy as np
import pytest

from test_streaming_models import MWW, NAMES, probe, random_frames
from tinyml import TinymlError
from tinyml.cli import main
from tinyml.model_info import read_model
from tinyml.stream import stream
from tflite_micro.python.tflite_micro import runtime


def tflm_outputs(model_bytes, frames):
    """TFLM's outputs per step, stacked as `tinyml stream` stacks them: one (steps, *shape) array per output."""
    interp = runtime.Interpreter.from_bytes(model_bytes)
    n_out = len(read_model_of(model_bytes).outputs)
    steps = []
    for x in frames:
        interp.set_input(x, 0)
        interp.invoke()
        steps.append([interp.get_output(j).copy() for j in range(n_out)])
    return [np.stack([s[j] for s in steps]) for j in range(n_out)]


_infos = {}


def read_model_of(model_bytes):
    import tempfile
    if model_bytes not in _infos:
        with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
            f.write(model_bytes)
            f.flush()
            _infos[model_bytes] = read_model(f.name)
    return _infos[model_bytes]


def assert_steps_equal(got, want, what):
    assert len(got) == len(want)
    for j, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: output {j} is {g.shape} {g.dtype}"
        for step in range(w.shape[0]):
            assert g[step].tobytes() == w[step].tobytes(), f"{what}: output {j} differs from TFLM at step {step}"


@pytest.mark.parametrize("name", NAMES)
def test_microwakeword_stream_unix(name, tmp_path):
    path = tmp_path / f"{name}_probe.tflite"
    path.write_bytes(probe(name))
    shape = read_model(path).inputs[0].shape
    frames = np.stack(random_frames(shape, 30, seed=len(name) + 100))
    want = tflm_outputs(path.read_bytes(), frames)
    got = stream(path, [frames], target="unix")
    assert_steps_equal(got, want, f"{name} on unix")
    # Not vacuous: the state (the probe's extra outputs) moves along the stream.
    assert len({w.tobytes() for w in want[1]}) > 20


def test_stream_cli_real_model(tmp_path, capsys):
    """The unmodified model through the command line: .npy in, .npy out, (steps, 1, 1) uint8."""
    path = MWW / "hey_jarvis.tflite"
    shape = read_model(path).inputs[0].shape
    frames = np.stack(random_frames(shape, 25, seed=7))
    np.save(tmp_path / "frames.npy", frames)
    main(["stream", str(path), "--input", str(tmp_path / "frames.npy"), "--output", str(tmp_path / "outs.npy")])
    assert "streamed 25 steps" in capsys.readouterr().out
    got = np.load(tmp_path / "outs.npy")
    assert_steps_equal([got], tflm_outputs(path.read_bytes(), frames), "hey_jarvis via the CLI")


def test_microwakeword_stream_qemu_m4(tmp_path):
    path = tmp_path / "okay_nabu_probe.tflite"
    path.write_bytes(probe("okay_nabu"))
    shape = read_model(path).inputs[0].shape
    frames = np.stack(random_frames(shape, 8, seed=3))
    got = stream(path, [frames], target="qemu-m4")
    assert_steps_equal(got, tflm_outputs(path.read_bytes(), frames), "okay_nabu on qemu-m4")


@pytest.mark.parametrize("frames,message", [
    (np.zeros((1, 3, 40), np.int8), r"input 0 is \(1, 3, 40\) int8: a stream for this model is \(steps, 1, 3, 40\)"),
    (np.zeros((4, 1, 3, 40), np.float32), r"is \(4, 1, 3, 40\) float32: .* int8"),
    (np.zeros((0, 1, 3, 40), np.int8), "the stream has no steps"),
])
def test_stream_bad_input(frames, message, tmp_path, capsys):
    with pytest.raises(TinymlError, match=message):
        stream(MWW / "alexa.tflite", [frames])
    np.save(tmp_path / "f.npy", frames)
    with pytest.raises(SystemExit):
        main(["stream", str(MWW / "alexa.tflite"), "--input", str(tmp_path / "f.npy"), "--output",
              str(tmp_path / "o.npy")])
    err = capsys.readouterr().err
    assert err.startswith("tinyml: error: ") and len(err.strip().splitlines()) == 1
