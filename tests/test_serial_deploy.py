"""The real-board path (`--port`, `make demo PORT=...`) with the real mpremote client, against the emulated
Cortex-M4 board's REPL on a pseudo-terminal: deploy the module and model, run, copy results back."""

import os
import subprocess
import sys

import numpy as np

from conftest import MODELS, REPO
from tinyml import oracle
from tinyml.runner import invoke
from tinyml.targets.qemu import QemuTarget
from tinyml.targets.serial_board import SerialBoard


def test_board_arch_is_asked_from_the_board(tmp_path):
    with QemuTarget("qemu-m4").serve_pty(tmp_path) as pty:
        assert SerialBoard(pty).arch == "armv7emsp"


def test_invoke_on_a_board_over_serial(tmp_path):
    # a small model: mpremote copies files over the emulated UART at a few KB/s (ad01's 277 KB took 100 s)
    model = MODELS / "micro_speech.tflite"
    x = np.random.default_rng(2).integers(-128, 128, size=(1, 1960)).astype(np.int8)
    with QemuTarget("qemu-m4").serve_pty(tmp_path) as pty:
        got = invoke(model, [x], port=pty)[0]
    assert got.tobytes() == oracle.invoke(model, [x])[0].tobytes()


def test_demo_on_a_board_over_serial(tmp_path):
    with QemuTarget("qemu-m4").serve_pty(tmp_path) as pty:
        env = {**os.environ, "TINYML_DEMO_SIZE": "quick", "TINYML_DEMO_OUT": str(tmp_path / "gesture")}
        proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "demo", "--port", pty], capture_output=True,
                              text=True, cwd=REPO, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "native .mpy for armv7emsp" in proc.stdout
    assert "outputs identical to TFLM: 200/200 windows" in proc.stdout
