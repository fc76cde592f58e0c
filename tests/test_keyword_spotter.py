"""The always-listening keyword spotter (device/examples/keyword_spotter.py) end to end on unix-sim: espeak-ng
says "okay nabu" twice (two voices) and a sentence that is not the wake word; the recording plays through the
simulated INMP441 (machine.I2S at 16 kHz, virtual time) into the example, which runs ESPHome's okay_nabu model
from `pymicro-wakeword`, packed for the x64 unix port with its audio frontend by `tinyml pack --features audio`.

Two oracles on the same PCM:
- the wheel's own detector (pymicro_wakeword.MicroWakeWord over MicroWakeWordFeatures, i.e. pymicro-features
  and TFLite): the device must report the same detections (count, and the same invoke, so the same 30 ms
  frame-aligned time). The wheel quantizes features as round(f / 25.6 / input_scale) - 128 and scales the
  output by 1/256, ESPHome (and the device) use round(v * 256 / 666) - 128 and 1/255, so probabilities may
  differ by a step; the detections here do not;
- TFLM (the tflite-micro wheel) fed the pymicro-features frames converted as ESPHome does: every invoke's
  uint8 output must equal the device's, bit for bit (the example's trace of the first invokes).
The loop must allocate nothing (gc.mem_free() in the example's per-second stats)."""

import json
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from speech import RATE, say

import pymicro_wakeword as pmw  # noqa: E402 (in requirements.txt: `make setup` installs it)
from tflite_micro.python.tflite_micro import runtime  # noqa: E402

MODELS = Path(pmw.__file__).parent / "models"
SECONDS = 7


def speech(path):
    """0.5 s quiet, "okay nabu" (en-us+m1), 0.75 s, "turn on the kitchen light" (en+m3), 0.75 s, "okay nabu"
    (en+m3), 0.75 s; room noise (sigma 40) throughout. 16-bit mono .wav; returns the samples."""
    rng = np.random.default_rng(5)
    gap = np.zeros(int(0.75 * RATE))
    x = np.concatenate([np.zeros(RATE // 2), say("okay nabu", "en-us+m1"), gap,
                        say("turn on the kitchen light", "en+m3"), gap, say("okay nabu", "en+m3"), gap])
    pcm = np.clip(np.round(x + rng.normal(0, 40, len(x))), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return pcm


def to_int8(frames):
    """ESPHome's micro_wake_word conversion of frontend values (uint16) to the model's int8."""
    return np.minimum((frames.astype(np.int32) * 256 + 333) // 666 - 128, 127).astype(np.int8)


def edges(flags):
    return [j for j, f in enumerate(flags) if f and (j == 0 or not flags[j - 1])]


def wheel_detections(pcm):
    """Invokes at which the wheel's detector turns on (MicroWakeWord.process_streaming is True on every invoke
    above the cutoff; a detection is the first of a run)."""
    mww = pmw.MicroWakeWord.from_builtin(pmw.Model.OKAY_NABU)
    feats = pmw.MicroWakeWordFeatures()
    flags = []
    for frame in feats.process_streaming(pcm.tobytes()):
        result = mww.process_streaming(frame)
        if not mww._features:          # the stride's frames were consumed: this frame ran an invoke
            flags.append(bool(result))
    return edges(flags), len(flags)


def tflm_outputs(pcm):
    """TFLM's uint8 output per invoke: pymicro-features frames -> ESPHome's int8 -> 3 frames per invoke."""
    from tinyml.features import wheel_frames
    x = to_int8(wheel_frames(pcm))
    interp = runtime.Interpreter.from_bytes((MODELS / "okay_nabu.tflite").read_bytes())
    outs = []
    for j in range(len(x) // 3):
        interp.set_input(x[3 * j:3 * j + 3][None], 0)
        interp.invoke()
        outs.append(int(interp.get_output(0)[0, 0]))
    return outs


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    out = tmp_path_factory.mktemp("kws") / "okay_nabu.mpy"
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "pack", str(MODELS / "okay_nabu.tflite"), "--arch",
                           "x64", "--features", "audio", "-o", str(out)], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def run_example(tmp_path, packed, wav, settings):
    (tmp_path / "kws.json").write_text(json.dumps(settings))
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "run", "--board", "unix-sim",
                           "device/examples/keyword_spotter.py", "--data", f"mic={wav}", "--file", str(packed),
                           "--file", str(MODELS / "okay_nabu.json"), "--file", str(tmp_path / "kws.json"),
                           "--no-engine", "--clock", "virtual"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_keyword_spotter_detects_what_the_wheel_detects(tmp_path, packed):
    pcm = speech(tmp_path / "speech.wav")[:SECONDS * RATE]
    out = run_example(tmp_path, packed, tmp_path / "speech.wav", {"seconds": SECONDS, "trace": 1000})
    assert "'Okay Nabu' from okay_nabu.mpy (packed), 3 frames (30 ms) per invoke" in out, out
    assert "mean of the last 5 outputs / 255 > 0.85" in out          # from okay_nabu.json

    # Same detections as the wheel: same invokes, so the same frame-aligned times
    want, n_invokes = wheel_detections(pcm)
    assert len(want) == 2, f"the recording should hold two detections for the wheel, got {want}"
    got = [(float(t), int(j)) for t, j in re.findall(r"DETECTED 'Okay Nabu' at ([\d.]+) s \(invoke (\d+)", out)]
    assert [j for _, j in got] == want, out
    for t, j in got:        # invoke j ends with frame 3j + 2, which ends at sample 480 + 160 (3j + 2)
        assert t == round((480 + 160 * (3 * j + 2)) / RATE, 2), (t, j)
    assert f"listened {SECONDS}.00 s: {SECONDS * 100 - 2} frames, {n_invokes} invokes, 2 detections" in out

    # Every invoke's probability, bit for bit with TFLM on the same features
    probs = [int(v) for v in re.search(r"PROBS ([\d ]+)", out).group(1).split()]
    oracle = tflm_outputs(pcm)
    assert len(probs) == n_invokes == len(oracle)
    diff = [j for j in range(n_invokes) if probs[j] != oracle[j]]
    assert not diff, f"{len(diff)} invokes differ from TFLM, first {diff[0]}: {probs[diff[0]]} != {oracle[diff[0]]}"
    assert max(probs) > 240 and edges([sum(probs[max(0, j - 4):j + 1]) > 0.85 * 255 * 5 and j >= 4
                                       for j in range(n_invokes)]) == want

    # Stats every second; the loop allocates nothing
    stats = re.findall(r"second (\d+): (\d+) frames, (\d+) invokes, .* alloc (-?\d+) B", out)
    assert [int(s[0]) for s in stats] == list(range(1, SECONDS + 1)), out
    assert [int(s[1]) for s in stats] == [98] + [100] * (SECONDS - 1)
    assert sum(int(s[2]) for s in stats) == n_invokes
    assert all(s[3] == "0" for s in stats), out


# ESPHome's other pretrained models on the same device pipeline, with the cutoff and sliding window of their own
# manifests. espeak-ng's voices that the models take for their wake word (and the wheel agrees): "alexa" and
# "hey mycroft" are heard; no espeak-ng voice reaches hey_jarvis's 0.97 cutoff, so it must hear nothing there,
# as the wheel does. Every invoke's output is compared with TFLM's either way.
OTHER_MODELS = {"alexa": ("alexa", "en-us+m1", "ALEXA"), "hey_mycroft": ("hey mycroft", "en+m3", "HEY_MYCROFT"),
                "hey_jarvis": ("hey jarvis", "en-us+m3", "HEY_JARVIS")}


@pytest.mark.parametrize("name", sorted(OTHER_MODELS))
def test_other_microwakeword_models_on_the_same_pipeline(tmp_path, name):
    from tinyml.model_info import read_model
    text, voice, builtin = OTHER_MODELS[name]
    manifest = json.loads((MODELS / f"{name}.json").read_text())["micro"]
    tflite = MODELS / f"{name}.tflite"
    packed = tmp_path / f"{name}.mpy"
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "pack", str(tflite), "--arch", "x64", "--features",
                           "audio", "-o", str(packed)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rng = np.random.default_rng(5)
    x = np.concatenate([np.zeros(RATE // 2), say(text, voice), np.zeros(RATE), say("turn on the light", "en+m2"),
                        np.zeros(RATE)])
    seconds = len(x) // RATE
    pcm = np.clip(np.round(x + rng.normal(0, 40, len(x))), -32768, 32767).astype("<i2")[:seconds * RATE]
    with wave.open(str(tmp_path / "speech.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    (tmp_path / "kws.json").write_text(json.dumps({"model": name, "seconds": seconds, "trace": 1000,
                                                  "stats": False}))
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "run", "--board", "unix-sim",
                           "device/examples/keyword_spotter.py", "--data", f"mic={tmp_path / 'speech.wav'}",
                           "--file", str(packed), "--file", str(MODELS / f"{name}.json"), "--file",
                           str(tmp_path / "kws.json"), "--no-engine", "--clock", "virtual"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    stride = read_model(tflite).inputs[0].shape[1]
    word = json.loads((MODELS / f"{name}.json").read_text())["wake_word"]
    assert f"'{word}' from {name}.mpy (packed), {stride} frames ({stride * 10} ms) per invoke" in out, out
    assert (f"mean of the last {manifest['sliding_window_size']} outputs / 255 > "
            f"{manifest['probability_cutoff']:.2f}") in out, out

    # the wheel's detector on the same PCM
    mww = pmw.MicroWakeWord.from_builtin(getattr(pmw.Model, builtin))
    flags = []
    for frame in pmw.MicroWakeWordFeatures().process_streaming(pcm.tobytes()):
        result = mww.process_streaming(frame)
        if not mww._features:
            flags.append(bool(result))
    want = edges(flags)
    got = [int(j) for j in re.findall(rf"DETECTED '{word}' at [\d.]+ s \(invoke (\d+)", out)]
    assert got == want, (got, want, out)
    assert (len(want) >= 1) == (name != "hey_jarvis"), want

    # every invoke's output, bit for bit with TFLM on the same features
    from tinyml.features import wheel_frames
    feats = to_int8(wheel_frames(pcm))
    interp = runtime.Interpreter.from_bytes(tflite.read_bytes())
    oracle = []
    for j in range(len(feats) // stride):
        interp.set_input(feats[stride * j:stride * (j + 1)][None], 0)
        interp.invoke()
        oracle.append(int(interp.get_output(0)[0, 0]))
    probs = [int(v) for v in re.search(r"PROBS ([\d ]+)", out).group(1).split()]
    assert probs == oracle[:len(probs)] and len(probs) == len(flags) == len(oracle)
