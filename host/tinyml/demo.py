"""`make demo`: the main job end to end. Train a gesture model, quantize it to int8, build the engine as a
native module, run it inside MicroPython (the unix port, or a real board on a serial port), and compare every
output with the TFLM runtime's."""

import time

import numpy as np

from . import TinymlError
from .paths import BUILD, DEVICE


def _step(n, total, text):
    print(f"\n[{n}/{total}] {text}", flush=True)


def quantize_like_tflm(x, scale, zero_point):
    """float -> int8 as the engine's predict() and TFLM's QUANTIZE do: float32 division, round half away
    from zero, clamp."""
    q = (x.astype(np.float32) / np.float32(scale)).astype(np.float64)
    r = np.sign(q) * np.floor(np.abs(q) + 0.5)
    return np.clip(r + zero_point, -128, 127).astype(np.int8)


def run(port=None, n_train=3000, n_test=200, epochs=15):
    from .jobs import gesture
    from .build import model_module
    from .model_info import read_model
    from . import oracle
    from .targets import TargetError, get_target

    total = 6
    out_dir = BUILD / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)

    _step(1, total, f"Synthesizing accelerometer gestures: {n_train} training and {n_test} held-out windows "
          f"of {gesture.WINDOW} samples x {gesture.AXES} axes ({', '.join(gesture.CLASSES)})")
    x_train, y_train = gesture.make_dataset(n_train, seed=1)
    x_test, y_test = gesture.make_dataset(n_test, seed=2)

    _step(2, total, f"Training a Keras model ({epochs} epochs)")
    t0 = time.time()
    from .quiet import quiet
    with quiet():
        model = gesture.train(x_train, y_train, epochs=epochs)
        probs = model.predict(x_test, verbose=0, batch_size=1)
    keras_acc = float((probs.argmax(1) == y_test).mean())
    print(f"      float Keras accuracy on held-out windows: {keras_acc:.1%} ({time.time() - t0:.0f} s)")

    _step(3, total, "Converting to a full-int8 .tflite (TF Lite converter, 200 calibration windows)")
    from .convert import to_int8_tflite
    tflite = to_int8_tflite(model, x_train[:200])
    model_path = out_dir / "gesture.tflite"
    model_path.write_bytes(tflite)
    info = read_model(model_path)
    print(f"      {model_path} ({len(tflite)} bytes, ops: {', '.join(info.op_names)}, {info.macs} MACs)")

    target = get_target("unix", port)
    where = f"a real board on {port}" if port else "the MicroPython unix port (a simulated board)"
    try:
        arch = target.arch
    except TargetError as exc:
        raise TinymlError(f"board on {port}: {exc}") from None
    _step(4, total, f"Building the inference engine as a native .mpy for {arch} (only the kernels this model uses)")
    module = model_module(arch, info)
    print(f"      {module} ({module.stat().st_size} bytes)")

    _step(5, total, f"Running the model inside MicroPython on {where}")
    files = {"model.tflite": tflite, "tinyml.mpy": module.read_bytes(),
             "samples.bin": x_test.astype(np.float32).tobytes()}
    try:
        result = target.run((DEVICE / "gesture_demo.py").read_text(), files, ["outputs.bin"])
    except TargetError as exc:
        raise TinymlError(f"on the device: {exc}") from None
    for line in result.stdout.strip().splitlines():
        print("      | " + line)
    out_info = info.outputs[0]
    engine_out = np.frombuffer(result.files["outputs.bin"], dtype=np.int8).reshape(n_test, -1)

    _step(6, total, "Comparing with the TFLM runtime (tflite-micro) on the same inputs")
    interp = oracle.interpreter(model_path)
    in_info = info.inputs[0]
    tflm_out = np.stack([
        oracle.invoke(model_path, [quantize_like_tflm(x, in_info.scale, in_info.zero_point)[None]], interp)[0][0]
        for x in x_test])
    same = int((engine_out == tflm_out).all(axis=1).sum())
    engine_pred, tflm_pred = engine_out.argmax(1), tflm_out.argmax(1)
    print(f"      {'window':>6}  {'true':<7} {'engine':<7} {'TFLM':<7}")
    for i in range(8):
        c = gesture.CLASSES
        print(f"      {i:>6}  {c[y_test[i]]:<7} {c[engine_pred[i]]:<7} {c[tflm_pred[i]]:<7}")
    print(f"\n      accuracy: engine {float((engine_pred == y_test).mean()):.1%}, "
          f"TFLM {float((tflm_pred == y_test).mean()):.1%}, float Keras {keras_acc:.1%}")
    print(f"      outputs identical to TFLM: {same}/{n_test} windows "
          f"({engine_out.size} int8 values, scale {out_info.scale:g}, zero point {out_info.zero_point})")
    if same != n_test:
        raise TinymlError(f"engine and TFLM differ on {n_test - same} windows")
    print("\nDone: the same model now runs in MicroPython, bit-exact with TFLM.")
    return same, n_test
