"""The `tinyml` command line as a user runs it: invoke, bench, check, pack, and its errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, REPO
from tinyml import oracle
from tinyml.targets import get_target

TINYML = [sys.executable, "-m", "tinyml.cli"]
AD01 = MODELS / "ad01_int8.tflite"


def tinyml(*args, cwd=None):
    return subprocess.run([*TINYML, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={"PYTHONPATH": str(REPO / "host"), "PATH": "/usr/bin:/bin",
                               "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": str(Path.home())})


@pytest.mark.parametrize("model", ["ad01_int8.tflite", "hello_world.tflite"])
def test_invoke_equals_tflm(tmp_path, model):
    from tinyml.model_info import read_model
    info = read_model(MODELS / model)
    t = info.inputs[0]
    x = np.random.default_rng(1).integers(-128, 128, size=t.shape).astype(t.dtype)
    np.save(tmp_path / "in.npy", x)
    res = tinyml("invoke", MODELS / model, "--input", tmp_path / "in.npy", "--output", tmp_path / "out.npy")
    assert res.returncode == 0, res.stderr
    got = np.load(tmp_path / "out.npy")
    want = oracle.invoke(MODELS / model, [x])[0]
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


def test_invoke_npz_inputs_and_outputs(tmp_path):
    x = np.zeros((1, 640), np.int8)
    np.savez(tmp_path / "in.npz", input_0=x)
    res = tinyml("invoke", AD01, "--input", tmp_path / "in.npz", "--output", tmp_path / "out.npz")
    assert res.returncode == 0, res.stderr
    assert np.load(tmp_path / "out.npz")["output_0"].shape == (1, 640)


def _bad_files(tmp_path):
    data = AD01.read_bytes()
    (tmp_path / "trunc.tflite").write_bytes(data[:5000])
    (tmp_path / "text.tflite").write_bytes(b"this is not a model at all")
    np.save(tmp_path / "in.npy", np.zeros((1, 640), np.int8))
    np.save(tmp_path / "shape.npy", np.zeros((1, 64), np.int8))
    np.save(tmp_path / "dtype.npy", np.zeros((1, 640), np.float32))
    (tmp_path / "garbage.npy").write_bytes(b"garbage")


@pytest.mark.parametrize("model,inp,message", [
    ("missing.tflite", "in.npy", "model file not found"),
    ("trunc.tflite", "in.npy", "is truncated or corrupt"),
    ("text.tflite", "in.npy", "is not a TensorFlow Lite model"),
    (AD01, "shape.npy", "input 0 is (1, 64) int8, but the model takes (1, 640) int8"),
    (AD01, "dtype.npy", "input 0 is (1, 640) float32, but the model takes (1, 640) int8"),
    (AD01, "garbage.npy", "cannot read"),
    (AD01, "nothere.npy", "input file not found"),
])
def test_invoke_errors_are_one_line(tmp_path, model, inp, message):
    _bad_files(tmp_path)
    res = tinyml("invoke", model, "--input", inp, "--output", "out.npy", cwd=tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinyml: error: ") and message in lines[0], res.stderr


def test_unknown_target_is_refused(tmp_path):
    np.save(tmp_path / "in.npy", np.zeros((1, 640), np.int8))
    res = tinyml("invoke", AD01, "--input", tmp_path / "in.npy", "--output", tmp_path / "o.npy", "--target", "avr")
    assert res.returncode == 1 and "unknown target 'avr'" in res.stderr


def test_bench_json():
    res = tinyml("bench", AD01, "--json", "--runs", "5")
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["engine_us"] > 0 and result["tflm_us"] > 0
    assert abs(result["ratio"] - result["engine_us"] / result["tflm_us"]) < 0.01


def test_check_ok_and_not_ok():
    ok = tinyml("check", AD01, "--board", "unix")
    assert ok.returncode == 0 and "verdict: ok" in ok.stdout
    too_big = tinyml("check", AD01, "--board", "esp32", "--arch", "x64")
    assert too_big.returncode == 1 and "needs" in too_big.stdout and "RAM" in too_big.stdout


def test_pack_small_and_the_check_that_suggests_it(tmp_path):
    kws = MODELS / "kws_ref_model.tflite"
    res = tinyml("check", kws, "--board", "nano33ble")
    assert res.returncode == 1 and "`tinyml pack --small` makes the engine code" in res.stdout, res.stdout
    fast, small = tmp_path / "kws_fast.mpy", tmp_path / "kws_small.mpy"
    assert tinyml("pack", kws, "--arch", "armv7emsp", "-o", fast).returncode == 0
    assert tinyml("pack", kws, "--arch", "armv7emsp", "-o", small, "--small").returncode == 0
    assert small.stat().st_size < fast.stat().st_size - 30000


def test_check_counts_native_code_where_the_board_loads_it():
    """Arm ports load native code into the heap, so it counts with the arena and the model; the ESP32's
    goes to IRAM, a budget of its own."""
    import re
    pico = tinyml("check", MODELS / "micro_speech.tflite", "--board", "pico")
    code = int(re.search(r"engine code for armv6m with this model's kernels: (\d+) bytes", pico.stdout)[1])
    arena = int(re.search(r"arena (\d+) bytes", pico.stdout)[1])
    ram = int(re.search(r"RAM: (\d+) bytes", pico.stdout)[1])
    assert pico.returncode == 0 and ram == arena + (MODELS / "micro_speech.tflite").stat().st_size + code
    esp = tinyml("check", MODELS / "micro_speech.tflite", "--board", "esp32")
    assert esp.returncode == 0 and "engine code" not in re.search(r"RAM: .*", esp.stdout)[0], esp.stdout


def test_check_names_unsupported_ops():
    # A model using an op the engine does not have, made with the real converter.
    from opcheck import cached_model, int8_keras_model
    import tensorflow as tf

    def build(x):
        return tf.keras.layers.UpSampling2D()(x)
    path = cached_model("upsampling check", lambda: int8_keras_model(build, [(4, 4, 2)], seed=0))
    res = tinyml("check", path)
    assert res.returncode == 1
    assert "TILE" in res.stdout and "UNSUPPORTED" in res.stdout  # Keras 3 upsamples with TILE
    assert "verdict: will NOT run" in res.stdout


def test_pack_makes_one_importable_module(tmp_path):
    res = tinyml("pack", AD01, "--arch", "x64", "-o", tmp_path / "anomaly.mpy")
    assert res.returncode == 0, res.stderr
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 640)).astype(np.int8)
    run = get_target("unix").run("""
import anomaly
print(anomaly.model)
anomaly.model.set_input(0, open('x.bin', 'rb').read())
anomaly.model.invoke()
open('y.bin', 'wb').write(bytes(anomaly.model.output(0)))
print(anomaly.ops())
""", {"anomaly.mpy": (tmp_path / "anomaly.mpy").read_bytes(), "x.bin": x.tobytes()}, ["y.bin"])
    assert run.stdout.startswith("<Model: 10 ops")
    assert "['FULLY_CONNECTED']" in run.stdout   # only this model's kernels
    assert run.files["y.bin"] == oracle.invoke(AD01, [x])[0].tobytes()


def test_pack_rejects_bad_names(tmp_path):
    res = tinyml("pack", AD01, "--arch", "x64", "-o", tmp_path / "my-model.mpy")
    assert res.returncode == 1 and "cannot be a Python module name" in res.stderr


def test_missing_toolchain_is_named_with_the_fix(tmp_path):
    env = {"PYTHONPATH": str(REPO / "host"), "PATH": str(tmp_path), "HOME": str(Path.home()),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run([*TINYML, "build", "--arch", "armv7emsp", "-o", str(tmp_path / "t.mpy")],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 1
    assert res.stderr.strip() == ("tinyml: error: 'arm-none-eabi-gcc' is not installed: run `make setup` "
                                  "(or apt-get install gcc-arm-none-eabi)")
