"""Running the engine on a target: one inference (`tinyml invoke`) or a timing loop (`tinyml bench`)."""

import re

import numpy as np

from . import TinymlError
from .build import model_module
from .model_info import read_model
from .paths import DEVICE
from .targets import TargetError, get_target


def check_inputs(info, inputs):
    """Inputs must match the model's count, shape and dtype; say exactly what differs."""
    if len(inputs) != len(info.inputs):
        raise TinymlError(f"the model takes {len(info.inputs)} input(s), got {len(inputs)}")
    for i, (x, t) in enumerate(zip(inputs, info.inputs)):
        if x.dtype != np.dtype(t.dtype) or tuple(x.shape) != tuple(t.shape):
            raise TinymlError(f"input {i} is {tuple(x.shape)} {x.dtype}, but the model takes {t.describe()}")


def _device_files(model_path, module_path, inputs):
    files = {"model.tflite": open(model_path, "rb").read(), "tinyml.mpy": module_path.read_bytes()}
    for i, x in enumerate(inputs):
        files[f"in{i}.bin"] = np.ascontiguousarray(x).tobytes()
    return files


def _run(target, script, files, fetch=()):
    try:
        return target.run(script, files, fetch)
    except TargetError as exc:
        raise TinymlError(f"on {target.name}: {exc}") from None


def invoke(model_path, inputs, target="unix", port=None, small=False):
    """Outputs of one engine inference on the target, as arrays shaped and typed like the model's outputs."""
    info = read_model(model_path)
    check_inputs(info, inputs)
    tgt = get_target(target, port)
    module = model_module(tgt.arch, info, small=small)
    fetch = [f"out{i}.bin" for i in range(len(info.outputs))]
    result = _run(tgt, (DEVICE / "invoke.py").read_text(), _device_files(model_path, module, inputs), fetch)
    return [np.frombuffer(result.files[name], dtype=t.dtype).reshape(t.shape)
            for name, t in zip(fetch, info.outputs)]


def random_inputs(info, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for t in info.inputs:
        dt = np.dtype(t.dtype)
        if dt.kind == "f":
            out.append(rng.standard_normal(t.shape).astype(dt))
        else:
            lim = np.iinfo(dt)
            out.append(rng.integers(lim.min, lim.max, size=t.shape, endpoint=True).astype(dt))
    return out


def bench(model_path, target="unix", port=None, runs=10, small=False):
    """Engine time per invoke on the target (plus instructions on emulated boards)."""
    info = read_model(model_path)
    inputs = random_inputs(info)
    tgt = get_target(target, port)
    module = model_module(tgt.arch, info, small=small)
    script = (DEVICE / "bench.py").read_text().replace("RUNS = 10", f"RUNS = {int(runs)}")
    result = _run(tgt, script, _device_files(model_path, module, inputs))
    m = re.search(r"BENCH (.*)", result.stdout)
    if not m:
        raise TinymlError(f"the benchmark printed no result on {tgt.name}: {result.stdout[-300:]}")
    fields = dict(kv.split("=") for kv in m.group(1).split())
    unit = fields.pop("unit")
    values = {k: int(v) for k, v in fields.items()}
    per_op = [{"op": name, unit: int(cost), "output_bytes": int(nbytes)}
              for name, cost, nbytes in re.findall(r"^OP (\S+) (-?\d+) (\d+)$", result.stdout, re.M)]
    per_invoke = values.pop("per_invoke")
    if unit == "instructions":
        values["instructions"] = per_invoke
        # Instructions spent outside the kernels per invoke() call from Python (call, argument handling,
        # the interpreter loop and the profiling clock reads).
        values["python_call_overhead_instructions"] = values.pop("call_overhead")
        values["import_instructions"] = values.pop("import")
        values["load_instructions"] = values.pop("load")
    else:
        values["python_call_overhead_us"] = values.pop("call_overhead")
        values["import_us"] = values.pop("import")
        values["load_us"] = values.pop("load")
    values["per_op"] = per_op
    values["module_bytes"] = module.stat().st_size
    return info, inputs, values
