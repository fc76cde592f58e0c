"""`tinyml train gesture --data DIR`: the user's own recordings in the documented layout (DIR/<class>/*.csv),
trained end to end, held out by whole recordings; the errors a wrong folder gets; and that every synthetic gesture
window carries the hand's acceleration, that fast strokes round their corners and that "idle" holds what falsely
wakes a board. (The synthetic path, the report and the device app run in
tests/test_demo.py, which is `make demo` at the tests' size.)"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from tinyml import TinymlError
from tinyml.jobs.gesture import CLASSES, JOB, WINDOW, _corner_overlap, _strokes


def _write_recordings(root, per_class=6, seed=3):
    rng = np.random.default_rng(seed)
    for label in CLASSES:
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            rec = JOB.window(label, rng, n=WINDOW + 16)
            with open(root / label / f"{i:03d}.csv", "w") as f:
                f.write("ax,ay,az\n")
                for row in rec:
                    f.write(",".join(f"{v:.5f}" for v in row) + "\n")


def test_train_on_the_users_recordings(tmp_path):
    _write_recordings(tmp_path / "mydata")
    ds = JOB.load(tmp_path / "mydata")
    # each 80-row recording gives one 64-row window (windows start every 32 rows)
    assert ds.x.shape == (len(CLASSES) * 6, WINDOW, 3) and not ds.synthetic
    assert len(np.unique(ds.groups)) == len(CLASSES) * 6
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "train", "gesture", "--data", str(tmp_path / "mydata"),
                           "--out", str(tmp_path / "run"), "--quick", "--no-latency"],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SYNTHETIC" not in proc.stdout and "held out (whole recordings)" in proc.stdout
    # Progress (stdout is a pipe: tinyml.progress's plain lines): a line per epoch with its metrics, the
    # calibration and the evaluation passes counted to their ends.
    epochs = JOB.quick.epochs
    assert re.search(rf"^Training: {epochs - 1}/{epochs} [\d.]+s loss [\d.]+, accuracy", proc.stdout, re.M)
    assert re.search(rf"^Training: done {epochs}/{epochs} ", proc.stdout, re.M)
    assert re.search(r"^Converting to int8 \(calibration inputs\): done (\d+)/\1 ", proc.stdout, re.M)
    assert re.search(r"^Evaluating int8 \(TF Lite, engine, TFLM\): done 6/6 ", proc.stdout, re.M)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["synthetic"] is False and report["data"] == str(tmp_path / "mydata")
    assert report["held_out"] == 6          # 20 % of 30 recordings, one window each
    assert report["engine"] == report["int8"] and report["engine_identical_to_tflm"] == report["held_out"]
    assert "The data are synthetic" not in (tmp_path / "run" / "report.md").read_text()


def test_every_synthetic_gesture_moves_the_sensor():
    """A gesture's acceleration is the second difference of one path at t - h, t, t + h. When each of the three
    drew its own random start, the start moved with t and the acceleration shrank by (1 - u)^2 for a gesture
    starting u of the way along its range: a late one read as a still hand, whatever its label. With a level,
    noise-free sensor, |a| - 1 g is the hand's own acceleration (a wrist turn only rotates gravity): every
    gesture window must show at least 0.1 g of it (the smallest: a gentle shake, ~0.17 g)."""
    level = {"roll": 0.0, "pitch": 0.0, "gain": np.ones(3), "bias": np.zeros(3), "noise": 0.0}
    rng = np.random.default_rng(5)
    for label in CLASSES[1:]:
        peaks = [np.abs(np.linalg.norm(JOB.window(label, rng, person=level), axis=1) - 1).max() for _ in range(200)]
        assert min(peaks) > 0.1, f"{label}: a window with {min(peaks):.3f} g of motion"


def test_fast_hands_round_the_corners_of_a_w():
    """A careful hand stops at each corner of the W; a fast one starts the next stroke before the last ends
    (overlapping minimum-jerk strokes), so it never stops but still ends where the W does."""
    w = [(0, 1), (0.25, 0), (0.5, 0.6), (0.75, 0), (1, 1)]
    u = np.linspace(0, 1, 2001)
    for overlap, stops in ((0.0, True), (_corner_overlap(2.0, np.random.default_rng(0)), False)):
        xy = _strokes(w, u, overlap=overlap)
        assert np.allclose(xy[-1], w[-1]) and np.allclose(xy[0], w[0])
        speed = np.linalg.norm(np.diff(xy, axis=0), axis=1)
        inner = speed[200:-200]           # away from the start and the end, where every hand is at rest
        assert (inner.min() < 0.01 * speed.mean()) == stops, (overlap, inner.min() / speed.mean())
    rng = np.random.default_rng(0)
    assert _corner_overlap(0.6, rng) <= 0.1 and _corner_overlap(1.6, rng) >= 0.5


def test_idle_holds_what_falsely_wakes_a_board():
    """"idle" is not only a still hand: walking with the board, picking it up, putting it down and bumps move it
    far past the app's wake threshold (100 mg on an axis, device/examples/gesture_wake.py), and the model must
    learn them as idle. With a level, noise-free sensor, a still hand's tremor rarely moves an axis by over 0.4 g
    (3 % of the idle windows before these cases were added); more than half of the idle windows now do."""
    level = {"roll": 0.0, "pitch": 0.0, "gain": np.ones(3), "bias": np.zeros(3), "noise": 0.0}
    rng = np.random.default_rng(7)
    big = [np.ptp(JOB.window("idle", rng, person=level), axis=0).max() > 0.4 for _ in range(300)]
    assert 0.45 < np.mean(big) < 0.8, np.mean(big)     # walking, pick-ups and bumps are 65 % of idle


def test_a_wrong_folder_is_named(tmp_path):
    with pytest.raises(TinymlError, match="no such folder"):
        JOB.load(tmp_path / "nothing")
    (tmp_path / "d" / "circle").mkdir(parents=True)
    (tmp_path / "d" / "square").mkdir()
    with pytest.raises(TinymlError, match="folder 'square' is not a class of this job"):
        JOB.load(tmp_path / "d")
    (tmp_path / "d" / "square").rmdir()
    (tmp_path / "d" / "circle" / "a.csv").write_text("1,2\n3,4\n")
    with pytest.raises(TinymlError, match="no recordings for idle, wing, slope, shake"):
        JOB.load(tmp_path / "d")
    for c in CLASSES[:1] + CLASSES[2:]:
        (tmp_path / "d" / c).mkdir(exist_ok=True)
        (tmp_path / "d" / c / "a.csv").write_text("0,0,1\n")
    with pytest.raises(TinymlError, match=r"a.csv: expected rows of 3 values"):
        JOB.load(tmp_path / "d")
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "train", "juggling", "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1 and "unknown job 'juggling'" in proc.stderr
