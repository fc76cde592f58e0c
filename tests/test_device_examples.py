"""The examples of the device runtime (device/examples/) end to end on the simulated board, through the CLI
(`tinyml run --board unix-sim ... --boots N --clock virtual`), fed by generated recordings: thermal presence
(AMG8833 frames and a tiny Keras model, trained small and cached), the vibration anomaly monitor (an ADC trace
with a fault in the middle) and wake-on-sound (a comparator on a wake pin and the I2S microphone)."""

import re
import subprocess
import sys
import wave

import numpy as np

from conftest import REPO
from opcheck import cached_model


def tinyml_run(script, *args, boots):
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "run", "--board", "unix-sim", script, *args,
                           "--boots", str(boots), "--clock", "virtual"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _presence_model():
    from tinyml.jobs import thermal
    from tinyml.convert import to_int8_tflite
    from tinyml.quiet import quiet
    x, y = thermal.make_dataset(3000, seed=1)
    with quiet():
        model = thermal.train(x, y, epochs=10)
    return to_int8_tflite(model, thermal.features(x[:200]))


def _presence_frames(path, schedule):
    """Frames at 10 fps: `schedule` is a list of (seconds, present) segments."""
    from tinyml.jobs import thermal
    rng = np.random.default_rng(7)
    frames = []
    for secs, present in schedule:
        # one scene per segment (the person stands still), new sensor noise every frame
        base = thermal.make_frame(present, rng) - rng.normal(0, 0.25, (8, 8))
        for _ in range(int(secs * 10)):
            frames.append(base + rng.normal(0, 0.25, (8, 8)))
    np.save(path, np.array(frames, np.float32))


def test_thermal_presence_reports_arrivals_and_departures(tmp_path):
    model = cached_model("device/examples/thermal_presence.py: thermal MLP 64-16-2, 3000 frames, 10 epochs",
                         _presence_model)
    _presence_frames(tmp_path / "frames.npy", [(12, False), (10, True), (13, False)])
    out = tinyml_run("device/examples/thermal_presence.py", "--data", f"thermal={tmp_path / 'frames.npy'}",
                     "--file", f"{model}:presence.tflite", boots=7)
    # Looks at about 0, 5, 10, 15, 20, 25, 30 s: empty until 12 s, someone until 22 s, empty again
    reports = re.findall(r"REPORT look (\d+): (someone is here|nobody)", out)
    assert reports == [("1", "nobody"), ("4", "someone is here"), ("6", "nobody")], out
    assert out.count("unchanged") == 4
    assert "7 looks, 1 arrivals, 3 reports" in out
    assert "threshold baseline" not in out


def test_thermal_presence_without_a_model_says_it_is_a_baseline(tmp_path):
    _presence_frames(tmp_path / "frames.npy", [(3, False), (5, True)])
    out = tinyml_run("device/examples/thermal_presence.py", "--data", f"thermal={tmp_path / 'frames.npy'}",
                     "--no-engine", boots=2)
    assert "using the threshold baseline" in out and "TODO" in out
    assert re.findall(r"REPORT look (\d+): (someone is here|nobody)", out) == [("1", "nobody"),
                                                                              ("2", "someone is here")]


def _vibration(path, seconds=125, fault=(78, 100)):
    """1 kHz ADC trace in volts: a 1.65 V bias, a 50 Hz hum of 0.2 V and noise; during `fault`, impacts every
    37 ms (a damaged bearing): the RMS barely moves, the crest factor does."""
    rng = np.random.default_rng(3)
    t = np.arange(seconds * 1000) / 1000
    v = 1.65 + 0.2 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 0.01, len(t))
    a, b = fault[0] * 1000, fault[1] * 1000
    for k in range(a, b, 37):
        v[k:k + 3] += np.array([0.9, -0.6, 0.3])
    np.save(path, v.astype(np.float32))


def test_vibration_anomaly_reports_only_the_fault(tmp_path):
    _vibration(tmp_path / "vib.npy")
    out = tinyml_run("device/examples/vibration_anomaly.py", "--data", f"adc={tmp_path / 'vib.npy'}@1000",
                     "--no-engine", boots=12)
    assert out.count("learning the baseline") == 5
    # Wakes at about 0, 10, ..., 110 s (plus the time awake): the fault spans 78-100 s: wakes 9 and 10
    assert re.findall(r"REPORT anomaly (\d+) at wake (\d+)", out) == [("1", "9"), ("2", "10")], out
    assert out.count("normal: score") == 5
    rates = [float(r) for r in re.findall(r"sampled 256 at ([\d.]+) Hz", out)]
    assert len(rates) == 12 and all(abs(r - 1000) < 5 for r in rates)
    assert "overruns 0" in out and "samples were missed" not in out


def _sounds(path, events=((1.5, 0.6), (4.0, 0.8)), seconds=7.0, rate=16000):
    """Quiet room noise with bursts of a 1 kHz tone (amplitude 0.5 of full scale) at `events` (start, length)."""
    rng = np.random.default_rng(11)
    x = rng.normal(0, 60, int(seconds * rate))
    t = np.arange(len(x)) / rate
    for start, length in events:
        on = (t >= start) & (t < start + length)
        x[on] += 16384 * np.sin(2 * np.pi * 1000 * t[on])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())


def test_wake_on_sound_records_each_burst(tmp_path):
    _sounds(tmp_path / "sounds.wav")
    out = tinyml_run("device/examples/wake_on_sound.py", "--data", f"mic={tmp_path / 'sounds.wav'}",
                     "--no-engine", boots=4)
    boots = re.findall(r"\[unix-sim\] boot (\d): reset cause (\w+), wake reason ([^,]+), t=([\d.]+) s", out)
    assert [b[2] for b in boots] == ["none", "ext0 (pin)", "ext0 (pin)"], out
    # Woken at the start of each burst (to a 5 ms envelope window)
    assert abs(float(boots[1][3]) - 1.5) < 0.01 and abs(float(boots[2][3]) - 4.0) < 0.01
    clips = re.findall(r"REPORT clip (\d): 500 ms at 16000 Hz, peak (-?[\d.]+) dBFS, rms (-?[\d.]+) dBFS", out)
    assert [c[0] for c in clips] == ["1", "2"]
    for _, peak, rms in clips:
        # a 0.5-of-full-scale sine: peak -6 dBFS, rms -9 dBFS (the clip starts 70 ms into a burst of >= 600 ms)
        assert abs(float(peak) + 6.0) < 0.3 and abs(float(rms) + 9.0) < 0.3
    # After the last burst nothing wakes it
    assert "deep sleep with no wake source that will fire" in out
