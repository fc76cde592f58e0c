"""`tinyml deploy`: the firmware and memory rules on what boards report (their real `_mpy` values), and end to end
against the emulated Cortex-M4/M3 boards' pseudo-terminals with the real mpremote: refused before anything is
copied, or copied, imported and run, with the smoke inference's bytes equal to TFLM's."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import MODELS, REPO
from tinyml import TinymlError, oracle
from tinyml.board_compat import (BoardReport, choose_arch, decode_mpy, firmware_problem, loadable, match_board,
                                 memory_problem)
from tinyml.boards import load_boards
from tinyml.deploy import build_pack, deploy, model_from_pack, prepare_emulated_fs, resolve_source
from tinyml.device_package import files_for_script
from tinyml.model_info import read_model
from tinyml.paths import venv_tool
from tinyml.targets.qemu import QemuTarget

HELLO = MODELS / "hello_world.tflite"      # 2.5 KB, 1 kernel: the emulated UART moves a few KB/s
ESP32, PICO, ARMV7EMSP = 11014, 4870, 7942  # sys.implementation._mpy on those firmwares (mpyfiles.rst)
APP = """\
from tinyml_device.ring import Ring
import tinyml
r = Ring(4, 1, 'b')
f = r.new_frame()
f[0] = tinyml.model.outputs[0]['zero_point']
r.push(f)
print('APP', tinyml.model, r.written)
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """hello_world as tinyml.tflite: its pack is then `import tinyml`, and its engine build (named after the
    module) is the one tests/test_mip.py's dist uses: one build for both files."""
    path = tmp_path_factory.mktemp("model") / "tinyml.tflite"
    path.write_bytes(HELLO.read_bytes())
    return path


def report(mpy, version=(1, 24, 0), machine="", **kw):
    return BoardReport(mpy=mpy, version=version, machine=machine, **kw)


def test_mpy_values_decode_to_the_boards_archs():
    assert decode_mpy(ESP32) == (6, 3, "xtensawin")
    assert decode_mpy(PICO) == (6, 3, "armv6m")
    assert decode_mpy(ARMV7EMSP) == (6, 3, "armv7emsp")
    assert decode_mpy(6 | 2 << 8 | 7 << 10) == (6, 2, "armv7emsp")      # MicroPython 1.22: ABI 6.2
    assert decode_mpy(6) == (6, 0, None)                                  # a firmware without native code


def test_firmware_rule_per_arch():
    # ESP32 before 1.24: a module's BSS/rodata on the GC heap is not a root (code lives in IRAM): refused.
    msg = firmware_problem(report(ESP32, (1, 23, 0), "ESP32 module with ESP32"))
    assert "garbage collection" in msg and "1.24" in msg and "#15908" in msg
    assert firmware_problem(report(ESP32, (1, 24, 0))) is None
    # Arm ports have rooted their native code since 1.13; armv6m's 2 KB limit was 1.23's linker, which our
    # build patches: the 1.23 emulated boards and a 1.23 Pico deploy.
    assert firmware_problem(report(PICO, (1, 23, 0), "Raspberry Pi Pico with RP2040")) is None
    assert firmware_problem(report(ARMV7EMSP, (1, 23, 0), "QEMU mps2 with Cortex-M4F/M7")) is None
    # ABI 6.2 (MicroPython 1.22) cannot load a 6.3 native module on any arch.
    assert "ABI 6.2" in firmware_problem(report(6 | 2 << 8 | 4 << 10, (1, 22, 2)))
    assert "cannot load native modules" in firmware_problem(report(6 | 3 << 8, (1, 24, 0)))
    assert "does not build" in firmware_problem(report(6 | 3 << 8 | 11 << 10, (1, 25, 0)))     # rv32imc


def test_arch_choice_follows_firmware_and_board_description():
    boards = load_boards()
    pico2 = report(ARMV7EMSP, machine="Raspberry Pi Pico2 with RP2350")
    assert match_board(pico2, boards)["id"] == "pico2"
    assert choose_arch(pico2, match_board(pico2, boards))[0] == "armv7m"       # floats in core registers
    nano = report(ARMV7EMSP, machine="Arduino Nano 33 BLE Sense with NRF52840")
    assert choose_arch(nano, match_board(nano, boards))[0] == "armv7emsp"
    assert choose_arch(report(ESP32), None)[0] == "xtensawin"
    assert choose_arch(report(PICO), None)[0] == "armv6m"
    assert choose_arch(report(6 | 3 << 8 | 8 << 10), None)[0] == "armv7emsp"    # armv7emdp (M7): fastest we build
    assert choose_arch(report(6918), None)[0] == "armv7m"      # armv7em: what a Cortex-M3 without FPU reports
    assert loadable("armv6m", "armv7emsp") and not loadable("armv7emsp", "armv7m")
    assert not loadable("xtensawin", "armv7emsp") and not loadable("armv6m", "xtensawin")


def test_memory_refusal_names_the_numbers():
    pico = report(PICO, mem_free=20000)
    msg = memory_problem(pico, module_bytes=23366, arena_bytes=792, text_bytes=20332, code_in_exec_heap=False)
    assert "needs 32350 bytes of heap" in msg and "module 23366" in msg and "arena 792" in msg and "20000 free" in msg
    assert memory_problem(report(PICO, mem_free=180000), 23366, 792, 20332, False) is None
    # ESP32: the code goes to IRAM (one block), the rest to the heap.
    esp = report(ESP32, mem_free=100000, exec_largest=16000)
    msg = memory_problem(esp, 40000, 5000, 30000, True)
    assert "30000 bytes of executable memory" in msg and "16000" in msg
    assert memory_problem(report(ESP32, mem_free=100000, exec_largest=64000), 40000, 5000, 30000, True) is None


def test_app_gets_only_the_runtime_files_it_imports(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    assert [rel for _, rel in files_for_script(app)] == ["tinyml_device/__init__.py", "tinyml_device/ring.py"]
    wake = [rel for _, rel in files_for_script(REPO / "device/examples/gesture_wake.py", "esp32")]
    assert "tinyml_device/drivers/mpu6050.py" in wake and "tinyml_device/boards/esp32.py" in wake
    assert "tinyml_device/boards/__init__.py" in wake and "tinyml_device/drivers/__init__.py" in wake
    assert "tinyml_device/boards/pico.py" not in wake and "tinyml_device/drivers/lsm6ds.py" not in wake


def test_job_dir_and_bad_sources(tmp_path):
    job = tmp_path / "run1"
    job.mkdir()
    (job / "model.tflite").write_bytes(HELLO.read_bytes())
    (job / "report.json").write_text(json.dumps({"job": "gesture-v2", "board": "pico"}))
    src = resolve_source(job)
    assert (src.name, src.board_id, src.app, src.job_json) == ("gesture_v2", "pico", None, None)
    (job / "job.json").write_text(json.dumps({"job": "gesture-v2", "classes": ["a", "b"]}))
    assert resolve_source(job).job_json == job / "job.json"     # deploy copies it for the job's app
    assert resolve_source(job).features == ()
    (job / "report.json").write_text(json.dumps({"job": "kws"}))     # its app needs tinyml.AudioFrontend
    assert resolve_source(job).features == ("audio",)
    with pytest.raises(TinymlError, match="has no model.tflite"):
        resolve_source(tmp_path)
    with pytest.raises(TinymlError, match="expected a .tflite"):
        resolve_source(job / "report.json")


def _zero_point_outputs(model):
    info = read_model(model)
    inputs = [np.full(t.shape, t.zero_point if np.dtype(t.dtype).kind != "f" else 0, dtype=t.dtype)
              for t in info.inputs]
    return [o.tobytes() for o in oracle.invoke(model, inputs)]


def test_deploy_onto_the_emulated_board_with_mpremote(model, tmp_path):
    fs, app = tmp_path / "fs", tmp_path / "app.py"
    app.write_text(APP)
    prepare_emulated_fs(fs)
    lines = []
    with QemuTarget("qemu-m4").serve_pty(fs) as pty:
        result = deploy(model, port=pty, app=app, small=True, echo=lines.append)
        ran = subprocess.run([venv_tool("mpremote"), "connect", pty, "exec", "import main"],
                             capture_output=True, text=True, timeout=60)
    text = "\n".join(lines)
    assert result.arch == "armv7emsp" and "MicroPython 1.23.0" in text and "_mpy 7942" in text, text
    assert result.outputs == _zero_point_outputs(HELLO)
    assert result.invoke_us > 0 and f"invoke {result.invoke_us} us" in text
    # What the board's filesystem now holds is what was built: the pack, the app's two runtime modules, main.py.
    pack = (fs / "tinyml.mpy").read_bytes()
    assert pack == build_pack(model, "armv7emsp", "tinyml", True)[0].read_bytes()
    assert model_from_pack(pack) == HELLO.read_bytes()
    assert sorted(result.copied) == ["main.py", "tinyml.mpy", "tinyml_device/__init__.mpy",
                                     "tinyml_device/ring.mpy"]
    assert (fs / "main.py").read_text() == APP
    assert ran.returncode == 0 and "APP <Model: 3 ops" in ran.stdout and ran.stdout.rstrip().endswith(" 1"), \
        ran.stdout + ran.stderr


def test_deploy_refuses_a_module_the_board_cannot_load(model, tmp_path):
    """An armv7emsp pack (hard-float, DSP) on the soft-float Cortex-M3 board, whose MicroPython reports armv7em
    (any Thumb-2 core without an FPU does: 1.23's py/persistentcode.h): refused by the CLI after asking the
    board, before copying anything."""
    pack = build_pack(model, "armv7emsp", "tinyml", True)[0]
    fs = tmp_path / "fs"
    prepare_emulated_fs(fs)
    before = sorted(p.relative_to(fs) for p in fs.rglob("*"))
    with QemuTarget("qemu-m3").serve_pty(fs) as pty:
        proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "deploy", str(pack), "--port", pty],
                              capture_output=True, text=True, cwd=REPO, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO / "host")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "native arch armv7em;" in proc.stdout
    err = proc.stderr.strip().splitlines()
    assert err == [f"tinyml: error: {pack} is built for armv7emsp, which a firmware reporting armv7em cannot load: "
                   f"deploy the .tflite and the right arch is built"], proc.stderr
    assert sorted(p.relative_to(fs) for p in fs.rglob("*")) == before
