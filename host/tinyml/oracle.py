"""The TFLM runtime (the `tflite-micro` wheel): the oracle every engine result is compared against."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import TinymlError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise TinymlError("the TFLM runtime (tflite-micro wheel) is not installed: run `make setup`") from None
    return runtime


def arena_size(model_path) -> int:
    """An arena every model fits: the wheel's default (10x the model bytes) is too small for large
    activations (a 180x180 image model). The sum of all non-constant tensors (as if nothing were shared),
    twice, plus 1 MB for TFLM's own structures, bounds what its planner can ask for; the wheel mallocs it,
    so an arena larger than needed costs nothing but address space."""
    from .model_info import _DTYPES, schema
    data = Path(model_path).read_bytes()
    model = schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    activations = 0
    for g in model.subgraphs:
        for t in g.tensors or []:
            if t.buffer and model.buffers[t.buffer].data is not None:
                continue  # a constant: read from the model, not from the arena
            shape = [max(int(d), 1) for d in (t.shape if t.shape is not None else ())]
            itemsize = np.dtype(_DTYPES.get(t.type) or np.int8).itemsize
            activations += int(np.prod(shape)) * itemsize
    return max(10 * len(data), 2 * activations + (1 << 20))


def interpreter(model_path):
    try:
        return _runtime().Interpreter.from_file(str(model_path), arena_size=arena_size(model_path))
    except RuntimeError as exc:
        raise TinymlError(f"TFLM cannot load {model_path}: {exc}") from None


def invoke(model_path, inputs, interp=None):
    """Outputs of one TFLM inference, as a list of arrays."""
    from .model_info import read_model
    interp = interp or interpreter(model_path)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [interp.get_output(i).copy() for i in range(len(read_model(model_path).outputs))]


def time_invoke(model_path, inputs, runs=20):
    """Median microseconds per TFLM invoke on this machine."""
    interp = interpreter(model_path)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e6


def arena_used_bytes(model_path) -> int:
    """TFLM's arena use for this model, from its RecordingMicroAllocator (printed by C++ to stdout)."""
    code = ("from tflite_micro.python.tflite_micro import runtime\n"
            f"runtime.Interpreter.from_file({str(model_path)!r}, arena_size={arena_size(model_path)})"
            ".print_allocations()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    m = re.search(r"Arena allocation total (\d+) bytes", proc.stdout + proc.stderr)
    if not m:
        raise TinymlError(f"TFLM did not report its arena for {model_path}")
    return int(m.group(1))
