"""The wake-on-motion gesture example (device/examples/gesture_wake.py) end to end on the simulated board,
through the CLI: `tinyml run --board unix-sim ... --boots 3`. The model is the gesture demo's (host/tinyml/jobs/
gesture.py), trained small and cached; the IMU data is idle stillness with one gesture after another."""

import re
import subprocess
import sys

import numpy as np

from conftest import REPO
from opcheck import cached_model


def _gesture_model():
    from tinyml.jobs import gesture
    from tinyml.convert import to_int8_tflite
    from tinyml.quiet import quiet
    x, y = gesture.make_dataset(2000, seed=1)
    with quiet():
        model = gesture.train(x, y, epochs=12)
    return to_int8_tflite(model, x[:100])


def _gesture_data(path, order=("shake", "wave", "circle")):
    """1 s still, then each gesture for 1 s followed by 3 s still, at 50 Hz (in g, gravity on z)."""
    from tinyml.jobs import gesture
    rng = np.random.default_rng(5)

    def still(n):
        return (np.array([0, 0, 1.0]) + rng.normal(0, 0.005, (n, 3))).astype(np.float32)
    segs = [still(50)]
    for label in order:
        segs += [gesture.make_window(label, rng), still(150)]
    np.save(path, np.concatenate(segs))


def test_gesture_wake_example_three_boots(tmp_path):
    model = cached_model("device/examples/gesture_wake.py: gesture MLP, 2000 windows, 12 epochs", _gesture_model)
    _gesture_data(tmp_path / "gestures.npy")
    proc = subprocess.run(
        [sys.executable, "-m", "tinyml.cli", "run", "--board", "unix-sim", "device/examples/gesture_wake.py",
         "--data", str(tmp_path / "gestures.npy"), "--file", f"{model}:gesture.tflite", "--boots", "3",
         "--clock", "virtual"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    boots = re.findall(r"\[unix-sim\] boot (\d): reset cause (\w+), wake reason ([^,]+),", out)
    assert boots == [("1", "power_on", "none"), ("2", "deepsleep", "ext0 (pin)"), ("3", "deepsleep", "ext0 (pin)")]
    assert "boot 1 on unix-sim: woke by power_on, state absent" in out
    assert "boot 2 on unix-sim: woke by pin, state ok" in out
    # Each wake samples the gesture that woke it and classifies it
    assert re.findall(r"gesture: (\w+)", out) == ["shake", "wave"]
    # The counts survive deep sleep in RTC memory
    assert "seen so far: idle 0, shake 1, wave 1, circle 0" in out
    # Per-phase timings: importing the engine and loading the model happen again after every wake
    phases = re.findall(r"phases: boot (\d+) ms, import [\d.]+ ms, load [\d.]+ ms, sample ([\d.]+) ms, infer", out)
    assert len(phases) == 2 and all(int(b) == 70 and float(s) >= 1000 for b, s in phases)
    # Woken 1 s in (the shake), then at 5 s (the wave), each within a motion-detection cycle (50 ms)
    t = [float(v) for v in re.findall(r"wake reason [^,]+, t=([\d.]+) s", out)]
    assert 1.0 <= t[1] < 1.1 and 5.0 <= t[2] < 5.1
    assert out.rstrip().endswith("3 boot(s); the last ended in deepsleep")


def test_run_refuses_what_it_cannot_do(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print('hi')\n")
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "run", "--board", "esp32", str(script)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 1 and "only unix-sim is simulated" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "run", str(script), "--no-engine"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0 and "hi" in proc.stdout and "ended in exit" in proc.stdout
