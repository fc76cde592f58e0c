"""Reading a .tflite model on the host: ops, tensors, inputs and outputs, with clear errors for bad files.

Uses the flatbuffer schema module that ships inside the TensorFlow wheel, or when TensorFlow is not installed
(a `pip install` of the host tools alone) the copy inside the much lighter tflite-micro wheel. Either is loaded
by path, so that inspecting a model never imports TensorFlow (or tflite_micro's runtime) itself."""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import TinymlError

_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
           9: np.int8}


# (package, the generated schema module inside it): TensorFlow's first, as the converter writes that schema;
# TFLM's copy of the same schema (a superset: it follows TF's) when TensorFlow is absent.
_SCHEMA_LOCATIONS = [("tensorflow", "lite/python/schema_py_generated.py"),
                     ("tflite_micro", "tensorflow/lite/micro/python/schema_py_generated.py")]


def _schema_path():
    for package, rel in _SCHEMA_LOCATIONS:
        spec = importlib.util.find_spec(package)  # finds the top-level package without importing it
        if spec is not None and spec.submodule_search_locations:
            path = Path(list(spec.submodule_search_locations)[0]) / rel
            if path.is_file():
                return path
    raise TinymlError("reading a .tflite needs the TFLite flatbuffer schema from the tflite-micro (or tensorflow) "
                      "package: run `make setup` in a checkout, or `pip install tflite-micro`")


def _schema():
    path = _schema_path()
    mod_spec = importlib.util.spec_from_file_location("tinyml_tflite_schema", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


_SCHEMA = None


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _schema()
    return _SCHEMA


def op_names():
    """TFLite builtin code -> name, from the schema."""
    ops = schema().BuiltinOperator
    return {v: k for k, v in vars(ops).items() if not k.startswith("_")}


@dataclass
class TensorInfo:
    index: int
    name: str
    shape: tuple
    dtype: type
    scale: float
    zero_point: int

    def describe(self):
        return f"{tuple(self.shape)} {np.dtype(self.dtype).name}"


@dataclass
class ModelInfo:
    path: str
    size: int
    ops: list          # (name, version) per operator, in execution order
    op_input_types: list  # numpy dtype of each operator's data input (the first, except _DATA_INPUT)
    inputs: list       # TensorInfo
    outputs: list
    macs: int
    op_macs: list = None   # multiply-accumulates of each operator (0 for ops without any)
    subgraphs: int = 1     # ops, MACs and variables cover every subgraph (subgraph 0 first)
    variables: list = None  # resource variables: (shared_name, bytes), the model's state across invokes

    @property
    def op_names(self):
        return sorted({name for name, _ in self.ops})

    @property
    def computes_in_float(self):
        """True when an operator other than QUANTIZE (which converts float input by definition) takes
        float32 input: the engine build then needs its kernels' float32 paths."""
        return any(name != "QUANTIZE" and dtype == np.float32
                   for (name, _), dtype in zip(self.ops, self.op_input_types))

    @property
    def computes_in_int16(self):
        """True when an operator takes int16 input (a 16x8 model): the engine build then needs its kernels'
        int16 paths."""
        return any(dtype == np.int16 for dtype in self.op_input_types)


def read_model(path) -> ModelInfo:
    path = Path(path)
    if not path.exists():
        raise TinymlError(f"model file not found: {path}")
    data = path.read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise TinymlError(f"{path} is not a TensorFlow Lite model (no TFL3 identifier): give a .tflite file")
    try:
        model = schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
        graph = model.subgraphs[0]
        names = op_names()
        ops, op_types, op_macs = [], [], []
        for g in model.subgraphs:
            g_ops = []
            for op in g.operators or []:
                code = model.operatorCodes[op.opcodeIndex]
                builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
                g_ops.append((names.get(builtin, f"BUILTIN_{builtin}"), code.version))
                k = _DATA_INPUT.get(g_ops[-1][0], 0)
                first = op.inputs[k] if op.inputs is not None and len(op.inputs) > k else -1
                op_types.append(_DTYPES.get(g.tensors[first].type) if first >= 0 else None)
            ops += g_ops
            op_macs += _count_macs(g, g_ops)
        variables = _variables(model, names)

        def tensor(i):
            t = graph.tensors[i]
            q = t.quantization
            scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0
            zp = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else 0
            shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
            name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
            return TensorInfo(i, name, shape, _DTYPES.get(t.type, None), scale, zp)

        inputs = [tensor(i) for i in graph.inputs]
        outputs = [tensor(i) for i in graph.outputs]
    except TinymlError:
        raise
    except Exception as exc:  # a corrupt flatbuffer shows up as any of IndexError, struct.error, ...
        raise TinymlError(f"{path} is truncated or corrupt ({type(exc).__name__}: {exc})") from None
    return ModelInfo(str(path), len(data), ops, op_types, inputs, outputs, sum(op_macs), op_macs,
                     len(model.subgraphs), variables)


def _variables(model, names):
    """Resource variables as TFLM sizes them: VAR_HANDLEs with the same names (in any subgraph) are one
    variable, whose size is that of the first tensor an ASSIGN_VARIABLE writes to it (subgraph by subgraph)."""
    sizes = {}
    for g in model.subgraphs:
        handles = {}
        for op in g.operators or []:
            code = model.operatorCodes[op.opcodeIndex]
            name = names.get(max(code.builtinCode, code.deprecatedBuiltinCode))
            if name == "VAR_HANDLE":
                opt = op.builtinOptions
                key = (opt.sharedName or b"").decode(errors="replace") if opt is not None else ""
                handles[op.outputs[0]] = key
                sizes.setdefault(key, None)
            elif name == "ASSIGN_VARIABLE" and op.inputs[0] in handles and sizes[handles[op.inputs[0]]] is None:
                t = g.tensors[op.inputs[1]]
                shape = t.shape if t.shape is not None else ()
                sizes[handles[op.inputs[0]]] = int(np.prod(shape)) * np.dtype(_DTYPES.get(t.type, np.int8)).itemsize
    return [(k, v or 0) for k, v in sizes.items()]


# The input that carries an op's data (its type is the op's type) where it is not input 0: TRANSPOSE_CONV's
# input 0 is its int32 output shape, SPLIT's its int32 axis.
_DATA_INPUT = {"TRANSPOSE_CONV": 2, "SPLIT": 1}


def _count_macs(graph, ops):
    """Multiply-accumulates per operator: those of the conv/FC layers (what vendors quote), 0 elsewhere."""
    macs = []
    for (name, _), op in zip(ops, graph.operators or []):
        macs.append(0)
        if name == "TRANSPOSE_CONV":   # each input value times KH x KW x Cout filter taps (some fall outside)
            w = graph.tensors[op.inputs[1]].shape
            macs[-1] = int(np.prod(graph.tensors[op.inputs[2]].shape)) * int(np.prod(w[:3]))
            continue
        if name == "UNIDIRECTIONAL_SEQUENCE_LSTM":   # per step and batch row: 4 gates x units x (features + units)
            x = graph.tensors[op.inputs[0]].shape
            units = int(graph.tensors[op.inputs[2]].shape[0])
            macs[-1] = int(x[0] * x[1]) * 4 * units * (int(x[2]) + units)
            continue
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        out = graph.tensors[op.outputs[0]].shape
        w = graph.tensors[op.inputs[1]].shape
        out_elems = int(np.prod(out))
        if name == "CONV_2D":
            macs[-1] = out_elems * int(np.prod(w[1:]))
        elif name == "DEPTHWISE_CONV_2D":
            macs[-1] = out_elems * int(w[1] * w[2])
        else:
            macs[-1] = out_elems * int(w[-1])
    return macs
