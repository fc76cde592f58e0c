"""`make demo` end to end (at the tests' size, TINYML_DEMO_SIZE=quick: the same steps on less data): the gesture
job trained with a report, the engine bit-exact with TFLM inside MicroPython, and the device app on the simulated
board through deep-sleep wakes, its decisions replayed through the host's engine."""

import json
import os
import re
import subprocess
import sys

from conftest import REPO


def test_demo_trains_runs_in_micropython_and_on_the_simulated_board(tmp_path):
    env = {**os.environ, "TINYML_DEMO_SIZE": "quick", "TINYML_DEMO_OUT": str(tmp_path / "gesture")}
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "demo"], capture_output=True, text=True,
                          cwd=REPO, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    for part in ("=== A.", "=== B.", "=== C."):
        assert part in out
    for step in range(1, 9):
        assert f"[{step}/8]" in out
    # B: the engine inside the unix port equals TFLM on every window
    assert re.search(r"outputs identical to TFLM: 200/200 windows", out)
    assert "loaded <Model: " in out   # printed from inside MicroPython
    # C: three gestures, three wakes from deep sleep, every decision equal to the host's replay
    assert len(re.findall(r"woke by pin", out)) == 3, out[-4000:]
    m = re.search(r"the board's decisions equal the host's on (\d+)/(\d+) windows", out)
    assert m and m.group(1) == m.group(2) == "3", out[-3000:]
    report = json.loads((tmp_path / "gesture" / "report.json").read_text())
    assert report["job"] == "gesture" and report["synthetic"] is True
    assert report["engine"] == report["int8"] and report["engine_identical_to_tflm"] == report["held_out"]
    assert report["latency"]["instructions"]["qemu-m4"] > report["macs"]
    for name in ("model.tflite", "job.json", "report.md", "training.png", "confusion.png"):
        assert (tmp_path / "gesture" / name).stat().st_size > 0
    assert "The data are synthetic" in (tmp_path / "gesture" / "report.md").read_text()
