# Type stubs for the `tinyml` native module (native_modules/tinyml/modtinyml.c, native_modules/features/mod_*.c),
# so that editors complete it and type checkers check its use (tests/test_type_stubs.py runs mypy with these and
# MicroPython's own stubs from PyPI). The reference is docs/device-api.md; keep the two in step.
#
# A module made by `tinyml pack model.tflite -o NAME.mpy` has the same names plus `model: Model` and `info()`.
# AudioFrontend and MotionFeatures exist only in builds with them (`tinyml build`, `tinyml pack --features ...`).

from array import array
from typing import Any, Callable, Optional, Sequence, Tuple, TypeVar, Union, overload

from _typeshed import ReadableBuffer, WriteableBuffer

# What a tensor's dict in Model.inputs / Model.outputs holds: shape (tuple), dtype (str), scale (float, or None
# on a firmware without floats), zero_point (int).
TensorInfo = dict[str, Any]

# predict()'s input: a buffer of any typecode (array, memoryview, bytearray, ulab ndarray) or numbers nested in
# lists and tuples as you like.
Values = Union[ReadableBuffer, Sequence[Any]]
_Out = TypeVar("_Out", bound=WriteableBuffer)

class Model:
    """A .tflite model loaded into the engine. bytes (or a read-only memoryview) are read in place; writable
    buffers are copied once."""

    def __init__(self, buffer: ReadableBuffer, *, keep_inputs: bool = False) -> None: ...
    @property
    def inputs(self) -> Tuple[TensorInfo, ...]: ...
    @property
    def outputs(self) -> Tuple[TensorInfo, ...]: ...
    @property
    def arena_bytes(self) -> int:
        """RAM the model holds besides its weights (descriptors, intermediate tensors, per-op data, state)."""
    @property
    def state_bytes(self) -> int:
        """The part of arena_bytes kept across invoke() (resource variables of streaming models)."""
    @property
    def model_bytes(self) -> int: ...
    @property
    def model_copied(self) -> bool: ...
    @property
    def keep_inputs(self) -> bool: ...
    def input(self, i: int = 0, /) -> memoryview:
        """A writable view of input tensor i in the arena, typed by its dtype ('b', 'B', 'h', 'i', 'q', 'f')."""
    def output(self, i: int = 0, /) -> memoryview:
        """A view of output tensor i (valid after invoke())."""
    def set_input(self, i: int, buf: ReadableBuffer, /) -> None:
        """Copy the bytes of buf into input i (its size must match)."""
    def invoke(self) -> None: ...
    def reset(self) -> None:
        """A streaming model's state back to what it was when the model was created."""
    @overload
    def predict(self, x: Values, /) -> array:
        """The first input's values in (quantized as the model's QUANTIZE would), the first output's out as
        array('f'), dequantized."""
    @overload
    def predict(self, x: Values, /, *, out: _Out) -> _Out:
        """The same, written into out (a float32 buffer of the right length); allocates nothing."""
    def profile(self, clock: Callable[[], int] = ..., /) -> list[Tuple[str, int, int]]:
        """Run once, timing every op: (op name, ticks, output bytes) per op."""

def ops() -> list[str]:
    """The kernels compiled into this module."""

def help() -> None: ...

class AudioFrontend:
    """TFLM's audio frontend: 16 kHz int16 PCM in, frames of 40 uint16 out."""

    def __init__(self, config: str = "microwakeword") -> None: ...
    @property
    def config(self) -> str: ...
    @property
    def channels(self) -> int: ...
    @property
    def window(self) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def state_bytes(self) -> int: ...
    def process(self, pcm: ReadableBuffer, out: WriteableBuffer, /) -> int:
        """Consume all of pcm; write every frame it completes into out; return how many."""
    def frames_for(self, n: int, /) -> int: ...
    def reset(self) -> None: ...

class MotionFeatures:
    """Per channel mean, RMS, peak, crest factor and spectral band energies over a window (CMSIS-DSP)."""

    def __init__(self, n: int, channels: int = 1, *, rate: Optional[float] = None,
                 bands: Optional[Sequence[Tuple[float, float]]] = None,
                 bins: Optional[Sequence[Tuple[int, int]]] = None, scale: float = 1.0) -> None: ...
    @property
    def n(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def bins(self) -> Tuple[Tuple[int, int], ...]: ...
    @property
    def rate(self) -> Optional[float]: ...
    @property
    def scale(self) -> float: ...
    @property
    def state_bytes(self) -> int: ...
    def compute(self, window: ReadableBuffer, out: WriteableBuffer, /) -> int:
        """Write size float32 features into out; return size."""
