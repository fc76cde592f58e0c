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
        _LIBS[path] = lib
    return _LIBS[path]
