"""`tinyml stream`: a sequence of inputs through one model instance on a target, step after step, the way a
streaming (stateful) model runs on a device: its resource variables carry from one step to the next. The
outputs come back stacked like the inputs: (steps, *output_shape)."""

import numpy as np

from . import TinymlError
from .build import model_module
from .model_info import read_model
from .paths import DEVICE
from .runner import _run
from .targets import get_target


def check_frames(info, frames):
    """frames: one array per model input, each (steps, *input_shape) of the input's dtype; returns steps."""
    if len(frames) != len(info.inputs):
        raise TinymlError(f"the model takes {len(info.inputs)} input(s), got {len(frames)} stream(s): give an .npz "
                          f"with input_0, input_1, ... each shaped (steps, *input_shape)")
    steps = None
    for i, (x, t) in enumerate(zip(frames, info.inputs)):
        if x.ndim != len(t.shape) + 1 or tuple(x.shape[1:]) != tuple(t.shape) or x.dtype != np.dtype(t.dtype):
            raise TinymlError(f"input {i} is {tuple(x.shape)} {x.dtype}: a stream for this model is "
                              f"(steps, {', '.join(map(str, t.shape))}) {np.dtype(t.dtype).name}, one "
                              f"{t.describe()} per step")
        if steps is not None and x.shape[0] != steps:
            raise TinymlError(f"input {i} has {x.shape[0]} steps, input 0 has {steps}: every input needs one "
                              f"entry per step")
        steps = x.shape[0]
    if not steps:
        raise TinymlError("the stream has no steps: the first axis of the input array counts the steps")
    return steps


def stream(model_path, frames, target="unix", port=None, small=False):
    """Outputs of one model instance over the stream on the target: one array per model output,
    (steps, *output_shape), step k computed after steps 0..k-1 on the same instance (its state kept)."""
    info = read_model(model_path)
    steps = check_frames(info, frames)
    tgt = get_target(target, port)
    module = model_module(tgt.arch, info, small=small)
    files = {"model.tflite": open(model_path, "rb").read(), "tinyml.mpy": module.read_bytes()}
    for i, x in enumerate(frames):
        files[f"in{i}.bin"] = np.ascontiguousarray(x).tobytes()
    fetch = [f"out{j}.bin" for j in range(len(info.outputs))]
    result = _run(tgt, (DEVICE / "stream.py").read_text(), files, fetch)
    outputs = []
    for name, t in zip(fetch, info.outputs):
        data = result.files[name]
        step_bytes = int(np.prod(t.shape)) * np.dtype(t.dtype).itemsize
        if len(data) != steps * step_bytes:
            raise TinymlError(f"on {tgt.name}: {name} holds {len(data)} bytes, {steps} steps need "
                              f"{steps * step_bytes}: {result.stdout[-300:]}")
        outputs.append(np.frombuffer(data, dtype=t.dtype).reshape((steps, *t.shape)))
    return outputs
