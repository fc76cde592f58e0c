"""A minimal .tflite writer: int8/int32 tensors with exact quantization, builtin ops, one subgraph. Uses the
schema's generated object API (the same module tinyml.model_info reads models with)."""

import sys
from pathlib import Path

import flatbuffers
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "host"))
from tinyml.model_info import schema  # noqa: E402

INT8, INT32 = 9, 2


class ModelBuilder:
    def __init__(self):
        self.s = schema()
        self.buffers = [self.s.BufferT()]          # buffer 0: the empty buffer every TFLite model starts with
        self.tensors = []
        self.ops = []
        self.codes = []

    def tensor(self, shape, dtype=INT8, scale=None, zero_point=None, data=None, qdim=0, name=None):
        """A tensor; `scale`/`zero_point` scalars or per-channel sequences; `data` makes it constant."""
        s = self.s
        t = s.TensorT()
        t.shape = np.array(shape, dtype=np.int32)
        t.type = dtype
        t.name = (name or f"t{len(self.tensors)}").encode()
        if scale is not None:
            q = s.QuantizationParametersT()
            q.scale = np.atleast_1d(np.asarray(scale, dtype=np.float32))
            zp = np.atleast_1d(np.asarray(zero_point if zero_point is not None else 0, dtype=np.int64))
            if zp.size == 1 and q.scale.size > 1:
                zp = np.repeat(zp, q.scale.size)
            q.zeroPoint = zp
            q.quantizedDimension = qdim
            t.quantization = q
        if data is not None:
            b = s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def _code(self, builtin):
        for i, c in enumerate(self.codes):
            if c.builtinCode == builtin:
                return i
        c = self.s.OperatorCodeT()
        c.builtinCode = builtin
        c.deprecatedBuiltinCode = min(builtin, 127)
        c.version = 1
        self.codes.append(c)
        return len(self.codes) - 1

    def op(self, name, inputs, outputs, options_name, options):
        s = self.s
        o = s.OperatorT()
        o.opcodeIndex = self._code(getattr(s.BuiltinOperator, name))
        o.inputs = np.array(inputs, dtype=np.int32)
        o.outputs = np.array(outputs, dtype=np.int32)
        o.builtinOptionsType = getattr(s.BuiltinOptions, options_name)
        o.builtinOptions = options
        self.ops.append(o)

    def options(self, name, **fields):
        opt = getattr(self.s, name + "T")()
        for k, v in fields.items():
            if not hasattr(opt, k):
                raise AttributeError(f"{name} has no field {k}")
            setattr(opt, k, v)
        return opt

    def finish(self, inputs, outputs):
        s = self.s
        g = s.SubGraphT()
        g.tensors = self.tensors
        g.inputs = np.array(inputs, dtype=np.int32)
        g.outputs = np.array(outputs, dtype=np.int32)
        g.operators = self.ops
        g.name = b"main"
        m = s.ModelT()
        m.version = 3
        m.operatorCodes = self.codes
        m.subgraphs = [g]
        m.description = b"m4diff"
        m.buffers = self.buffers
        b = flatbuffers.Builder(4096)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
