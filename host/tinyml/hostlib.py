"""The engine compiled for the host (same C sources as the .mpy), driven through ctypes: fast op tests,
fuzzing and `tinyml check`'s arena figures without starting MicroPython."""

import ctypes

import numpy as np

from . import TinymlError
from .build import build_hostlib

_ERR = 120  # TM_ERR_LEN


class HostEngine:
    """One loaded model. `invoke(inputs)` returns the outputs; failures raise TinymlError."""

    KEEP_INPUTS = 1  # TM_KEEP_INPUTS: invoke() never overwrites the inputs

    def __init__(self, model_bytes, ops=None, sanitize=False, keep_inputs=False):
        self.handle = None      # close() (and __del__) must work even when building or loading fails
        self.lib = _load(build_hostlib(ops, sanitize))
        self.buf = ctypes.create_string_buffer(bytes(model_bytes), len(model_bytes))  # 16-byte aligned
        err = ctypes.create_string_buffer(_ERR)
        self.handle = self.lib.tm_host_open(self.buf, len(model_bytes), self.KEEP_INPUTS if keep_inputs else 0,
                                            err)
        if not self.handle:
            raise TinymlError(err.value.decode())

    def close(self):
        if self.handle:
            self.lib.tm_host_close(self.handle)
            self.handle = None

    __del__ = close

    def _tensor(self, kind, i):
        size = ctypes.c_uint32()
        ptr = self.lib.tm_host_tensor(self.handle, kind, i, ctypes.byref(size))
        return (ptr, size.value) if ptr else (None, 0)

    @property
    def arena_bytes(self):
        return self.lib.tm_host_arena_bytes(self.handle)

    @property
    def state_bytes(self):
        """Bytes of resource variables (state kept across invokes), part of arena_bytes."""
        return self.lib.tm_host_state_bytes(self.handle)

    def reset(self):
        """A stateful model back to its state when loaded (variables, CALL_ONCE)."""
        self.lib.tm_host_reset(self.handle)

    def invoke(self, inputs, output_specs=None):
        """inputs: arrays (bytes are copied as they are). Returns raw output bytes, or arrays when
        output_specs gives (dtype, shape) per output."""
        for i, x in enumerate(inputs):
            ptr, size = self._tensor(0, i)
            data = np.ascontiguousarray(x).tobytes()
            if ptr is None or size != len(data):
                raise TinymlError(f"input {i}: expected {size} bytes, got {len(data)}")
            ctypes.memmove(ptr, data, size)
        err = ctypes.create_string_buffer(_ERR)
        if self.lib.tm_host_invoke(self.handle, err):
            raise TinymlError(err.value.decode())
        outs, i = [], 0
        while True:
            ptr, size = self._tensor(1, i)
            if ptr is None:
                break
            outs.append(ctypes.string_at(ptr, size))
            i += 1
        if output_specs:
            outs = [np.frombuffer(o, dtype=dt).reshape(shape) for o, (dt, shape) in zip(outs, output_specs)]
        return outs


def memory_plan(model_bytes, keep_inputs=False, ops=None):
    """The engine's own memory plan for a model (tm_model_load's, read back through tm_host.c, not
    recomputed): {'totals': {...}, 'tensors': [...], 'nodes': [...], 'subgraphs': [...], 'variables': [...]}.
    Tensors and nodes are numbered as the engine numbers them (every subgraph's, one after the other);
    times (first_use/last_use, first/last) are subgraph 0's node indices, -1 before the first node and
    n_nodes after the last. This is the plan of the host (x64) build, which the unix port's module shares.
    ops: the kernels to build the library with (all when None; the model's own suffice and build faster)."""
    lib = _load(build_hostlib(ops))
    buf = ctypes.create_string_buffer(bytes(model_bytes), len(model_bytes))
    err = ctypes.create_string_buffer(_ERR)
    plan = lib.tm_host_plan_open(buf, len(model_bytes), HostEngine.KEEP_INPUTS if keep_inputs else 0, err)
    if not plan:
        raise TinymlError(err.value.decode())
    try:
        words = lib.tm_host_plan_export(plan, None, 0)
        out = (ctypes.c_int32 * words)()
        lib.tm_host_plan_export(plan, out, words)
        return decode_plan(list(out))
    finally:
        lib.tm_host_plan_close(plan)


def decode_plan(words) -> dict:
    """memory_plan()'s dict from the int32 words of engine/tm_plan.h (the host library's, or those a module built
    with PLAN_DUMP=1 returns from tinyml.plan() on a board)."""
    words = list(words)
    pos = 0

    def take(names, count):
        nonlocal pos
        n = len(names)
        items = [dict(zip(names, words[pos + k * n: pos + (k + 1) * n])) for k in range(count)]
        pos += n * count
        return items

    totals = take(_PLAN_TOTALS, 1)[0]
    plan = {"totals": totals,
            "tensors": take(_PLAN_TENSOR, totals["n_tensors"]),
            "nodes": take(_PLAN_NODE, totals["n_nodes"]),
            "subgraphs": take(_PLAN_SUBGRAPH, totals["n_subgraphs"]),
            "variables": take(_PLAN_VARIABLE, totals["n_variables"])}
    if pos != len(words):
        raise TinymlError(f"a memory plan of {len(words)} words where its counts make {pos}: the module and the "
                          f"host tools are from different versions (build the module again)")
    return plan


# Field order of the plan's int32 words (native_modules/engine/tm_plan.h).
_PLAN_TOTALS = ("n_tensors", "n_nodes", "n_subgraphs", "n_variables", "activation_bytes", "persistent_bytes",
                "state_bytes", "arena_bytes", "metadata_bytes")
_PLAN_TENSOR = ("offset", "bytes", "alias", "first_use", "last_use", "is_const", "type")
_PLAN_NODE = ("opcode", "scratch_offset", "scratch_bytes", "persistent_offset", "persistent_bytes", "first",
              "last", "tensor_base", "calls", "calls_too")
_PLAN_SUBGRAPH = ("first_node", "n_nodes")
_PLAN_VARIABLE = ("offset", "bytes", "assigned")

_LIBS = {}


def _load(path):
    if path not in _LIBS:
        lib = ctypes.CDLL(str(path))
        lib.tm_host_open.restype = ctypes.c_void_p
        lib.tm_host_open.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_char_p]
        lib.tm_host_close.argtypes = [ctypes.c_void_p]
        lib.tm_host_invoke.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.tm_host_tensor.restype = ctypes.c_void_p
        lib.tm_host_tensor.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_uint32)]
        lib.tm_host_arena_bytes.restype = ctypes.c_uint32
        lib.tm_host_arena_bytes.argtypes = [ctypes.c_void_p]
        lib.tm_host_state_bytes.restype = ctypes.c_uint32
        lib.tm_host_state_bytes.argtypes = [ctypes.c_void_p]
        lib.tm_host_reset.argtypes = [ctypes.c_void_p]
        lib.tm_host_plan_open.restype = ctypes.c_void_p
        lib.tm_host_plan_open.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_char_p]
        lib.tm_host_plan_close.argtypes = [ctypes.c_void_p]
        lib.tm_host_plan_export.restype = ctypes.c_uint32
        lib.tm_host_plan_export.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_uint32]
        _LIBS[path] = lib
    return _LIBS[path]
