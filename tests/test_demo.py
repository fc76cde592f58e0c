"""`make demo`'s job end to end: train, convert, build, run in MicroPython, compare with TFLM."""

import re
import subprocess
import sys

from conftest import REPO


def test_demo_runs_and_matches_tflm():
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "demo"], capture_output=True, text=True,
                          cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    for step in range(1, 7):
        assert f"[{step}/6]" in out
    m = re.search(r"outputs identical to TFLM: (\d+)/(\d+) windows", out)
    assert m and m.group(1) == m.group(2) == "200"
    acc = re.search(r"accuracy: engine ([\d.]+)%, TFLM ([\d.]+)%", out)
    assert acc.group(1) == acc.group(2) and float(acc.group(1)) > 80
    assert "loaded <Model: " in out   # the device script printed from inside MicroPython
