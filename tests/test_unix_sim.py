"""The wake-on-motion gesture example (device/examples/gesture_wake.py) end to end on the simulated board,
through the CLI: `tinyml run --board unix-sim ... --boots 3`. The model is the gesture demo's (host/tinyml/jobs/
gesture.py), trained small and cached; the IMU data is idle stillness with one gesture after another."""

import hashlib
import re
import subprocess
import sys

import numpy as np

from conftest import REPO
from opcheck import cached_model


def _gesture_model():
    import tensorflow as tf
    from tinyml.jobs.gesture import JOB
    from tinyml.convert import to_int8_tflite
    from tinyml.quiet import quiet
    d = JOB.synthesize(2000, seed=1)
    tf.keras.utils.set_random_seed(0)
    with quiet():
        model = JOB.build_model(d.x.shape[1:], len(d.classes), None)
        JOB.fit(model, d.x, d.y, d.x[:200], d.y[:200], 10, [])
        inp = tf.keras.Input(shape=d.x.shape[1:], batch_size=1)
        return to_int8_tflite(tf.keras.Model(inp, model(inp)), d.x[:200])


def _gesture_files(tmp_path, order=("shake", "circle", "wing")):
    """The IMU's recording (1 s still, then each gesture at the start of a 4 s segment, at 50 Hz, in g) and the
    job.json `tinyml train gesture` writes."""
    import json
    from tinyml.jobs.gesture import JOB, CLASSES, RATE_HZ, WINDOW
    np.save(tmp_path / "gestures.npy", JOB.recording(order, seed=5))
    (tmp_path / "job.json").write_text(json.dumps({"job": "gesture", "classes": CLASSES, "rate_hz": RATE_HZ,
                                                   "window": WINDOW}))


def test_gesture_wake_example_three_boots(tmp_path):
    # The recipe names the generator's source too: a change to the gesture data makes a new model.
    generator = hashlib.sha256((REPO / "host" / "tinyml" / "jobs" / "gesture.py").read_bytes()).hexdigest()[:16]
    model = cached_model(f"device/examples/gesture_wake.py: gesture CNN, 2000 windows, 10 epochs, data {generator}",
                         _gesture_model)
    _gesture_files(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tinyml.cli", "run", "--board", "unix-sim", "device/examples/gesture_wake.py",
         "--data", str(tmp_path / "gestures.npy"), "--file", f"{model}:model.tflite", "--file", str(tmp_path / "job.json"), "--boots", "3",
         "--clock", "virtual"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    boots = re.findall(r"\[unix-sim\] boot (\d): reset cause (\w+), wake reason ([^,]+),", out)
    assert boots == [("1", "power_on", "none"), ("2", "deepsleep", "ext0 (pin)"), ("3", "deepsleep", "ext0 (pin)")]
    assert "boot 1 on unix-sim: woke by power_on, state absent" in out
    assert "boot 2 on unix-sim: woke by pin, state ok" in out
    # Each wake samples the gesture that woke it and classifies it (a small model: which class is not asserted
    # here; tests/test_demo.py replays the board's windows through the host's engine)
    seen = re.findall(r"gesture: (\w+)", out)
    assert len(seen) == 2, out
    # The counts survive deep sleep in RTC memory: the last boot's tally counts every gesture acted on
    acted = [g for g in seen if g in ("circle", "wing", "slope", "shake")]
    tally = dict(re.findall(r"(\w+) (\d+)", re.findall(r"seen so far: (.*)", out)[-1]))
    assert sum(int(v) for v in tally.values()) == len(acted) and all(int(tally[g]) >= 1 for g in acted), out
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
