"""`make demo`: the gesture job from data to a device deciding on its own, in three parts.

  A. `tinyml train gesture` at demo size: synthetic wand gestures, a 1-D CNN, full int8, tinyml check, held-out
     accuracy three ways (float, int8, the engine), instructions on the emulated Cortex-M4, a report with plots.
  B. The engine inside real MicroPython (the unix port, or a real board on PORT) on 200 held-out windows,
     compared byte for byte with the TFLM runtime.
  C. The device app (device/examples/gesture_wake.py) on the simulated board: the IMU plays back a recording
     of three gestures; each one wakes the board from deep sleep, which classifies it, acts and sleeps again.
     Every window the board classified is replayed through the host's engine: the decisions must agree.
     (With PORT, part C is printed as the commands to run on the real board.)"""

import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from . import TinymlError
from .jobs.base import Sizes
from .paths import BUILD, DEVICE, REPO

DEMO_SIZES = Sizes(train=5000, test=600, epochs=16)
STREAM = ("circle", "shake", "wing")


def _part(letter, text):
    print(f"\n=== {letter}. {text}", flush=True)


def run(port=None, out_dir=None):
    from .train import train, quantize_inputs
    from .jobs.gesture import JOB
    out = Path(out_dir or os.environ.get("TINYML_DEMO_OUT") or BUILD / "demo" / "gesture")
    # TINYML_DEMO_SIZE=quick: the tests' size (the same steps, less data, fewer epochs)
    sizes = JOB.quick if os.environ.get("TINYML_DEMO_SIZE") == "quick" else DEMO_SIZES

    _part("A", "Train the gesture job: tinyml train gesture --out " + _rel(out))
    report = train("gesture", out, quick=False, sizes=sizes, latency_arches=("armv7emsp",))

    where = f"a real board on {port}" if port else "the MicroPython unix port"
    _part("B", f"The engine inside MicroPython on {where}, against the TFLM runtime")
    same, n = _bit_exact_in_micropython(out / "model.tflite", port, quantize_inputs)

    if port:
        _part("C", "The device app on your board")
        print(f"      tinyml deploy {_rel(out)} --port {port} --app device/examples/gesture_wake.py\n"
              f"      (wire an MPU6050 to I2C(0) and its INT to GPIO 4; docs/tutorials/gesture.md)")
        agree = None
    else:
        _part("C", f"The device app on the simulated board: {len(STREAM)} gestures, each waking it from deep sleep")
        agree = _device_app(out)
    print(f"\nDone. Held-out accuracy: {report['engine']:.1%} on the engine (float {report['float']:.1%}, int8 "
          f"{report['int8']:.1%}); engine bit-exact with TFLM on {same}/{n} windows inside MicroPython"
          + (f"; the board's decisions equal the host's on {agree[0]}/{agree[1]} windows" if agree else "")
          + f".\nReport: {_rel(out / 'report.md')}")
    return report


def _rel(p):
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def _bit_exact_in_micropython(model_path, port, quantize_inputs, n_test=200):
    from . import oracle
    from .build import model_module
    from .jobs.gesture import COUNTS_PER_G, JOB
    from .model_info import read_model
    from .targets import TargetError, get_target

    info = read_model(model_path)
    x = JOB.synthesize(n_test, seed=7).x
    target = get_target("unix", port)
    try:
        arch = target.arch
    except TargetError as exc:
        raise TinymlError(f"board on {port}: {exc}") from None
    module = model_module(arch, info)
    print(f"      the engine as a native .mpy for {arch} (only this model's kernels): {module.stat().st_size} bytes")
    counts = np.round(x * COUNTS_PER_G)             # the windows are whole counts over 16384 (the generator's)
    assert np.array_equal(counts / COUNTS_PER_G, x), "the gesture generator's windows are whole counts"
    files = {"model.tflite": Path(model_path).read_bytes(), "tinyml.mpy": module.read_bytes(),
             "samples.bin": counts.astype("<i2").tobytes()}
    try:
        result = target.run((DEVICE / "gesture_demo.py").read_text(), files, ["outputs.bin"])
    except TargetError as exc:
        raise TinymlError(f"on the device: {exc}") from None
    for line in result.stdout.strip().splitlines():
        print("      | " + line)
    engine_out = np.frombuffer(result.files["outputs.bin"], dtype=np.int8).reshape(n_test, -1)
    tin = info.inputs[0]
    interp = oracle.interpreter(model_path)
    tflm_out = []
    for w in x:
        interp.set_input(quantize_inputs(w, tin.scale, tin.zero_point)[None], 0)
        interp.invoke()
        tflm_out.append(interp.get_output(0)[0].copy())
    same = int((engine_out == np.stack(tflm_out)).all(axis=1).sum())
    print(f"      outputs identical to TFLM: {same}/{n_test} windows ({engine_out.size} int8 values)")
    if same != n_test:
        raise TinymlError(f"engine and TFLM differ on {n_test - same} windows")
    return same, n_test


def replay_decisions(model_path, log_bytes, window_values):
    """The board's windows.log ([window float32 x window_values, class int32, p float32] records) replayed
    through the host's engine: [(board class, host class, board p, host p)]."""
    from .hostlib import HostEngine
    from .model_info import read_model
    from .train import quantize_inputs
    info = read_model(model_path)
    tin, tout = info.inputs[0], info.outputs[0]
    rec = 4 * window_values + 8
    if len(log_bytes) % rec:
        raise TinymlError(f"windows.log: {len(log_bytes)} bytes is not a whole number of {rec}-byte records")
    engine = HostEngine(Path(model_path).read_bytes(), ops=info.op_names)
    rows = []
    for i in range(len(log_bytes) // rec):
        chunk = log_bytes[i * rec:(i + 1) * rec]
        w = np.frombuffer(chunk[:4 * window_values], "<f4").reshape(tin.shape)
        cls, p = struct.unpack("<if", chunk[4 * window_values:])
        q = engine.invoke([quantize_inputs(w, tin.scale, tin.zero_point)], [(np.int8, tout.shape)])[0][0]
        probs = (q.astype(np.float32) - tout.zero_point) * np.float32(tout.scale)
        rows.append((cls, int(probs.argmax()), p, float(probs.max())))
    engine.close()
    return rows


def _device_app(out):
    import json
    from .jobs.gesture import JOB
    from .simboard import run_script
    job = json.loads((out / "job.json").read_text())
    with tempfile.TemporaryDirectory(prefix="tinyml-demo-") as tmp:
        tmp = Path(tmp)
        np.save(tmp / "stream.npy", JOB.recording(STREAM, seed=11))
        (tmp / "log.on").write_bytes(b"")
        fs = tmp / "fs"
        print(f"      tinyml run --board unix-sim device/examples/gesture_wake.py --data stream.npy "
              f"-f model.tflite -f job.json --boots {len(STREAM) + 1} --clock virtual")
        run_script(DEVICE / "examples" / "gesture_wake.py", data=str(tmp / "stream.npy"), boots=len(STREAM) + 1,
                   files=[(out / "model.tflite", "model.tflite"), (out / "job.json", "job.json"),
                          (tmp / "log.on", "log.on")], clock="virtual", fs_dir=fs,
                   echo=lambda line: print("      | " + line.rstrip()))
        log = (fs / "windows.log").read_bytes() if (fs / "windows.log").exists() else b""
    rows = replay_decisions(out / "model.tflite", log, int(np.prod(job["input"]["shape"])))
    agree = sum(b == h for b, h, _, _ in rows)
    classes = job["classes"]
    print(f"      the board classified {len(rows)} windows; replayed through the host's engine:")
    for b, h, pb, ph in rows:
        print(f"        board {classes[b]:<7} p={pb:.3f}   host {classes[h]:<7} p={ph:.3f}")
    if agree != len(rows) or not rows:
        raise TinymlError(f"the board and the host decided differently on {len(rows) - agree} of {len(rows)} windows")
    return agree, len(rows)
