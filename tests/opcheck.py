"""Shared machinery for engine tests: build single-op models with the real TF converter (cached on disk by
a hash of their recipe and of everything that defines them), and compare the engine's bytes with the TFLM
runtime's."""

import functools
import hashlib
import importlib.metadata
import os
import re
import sys
import sysconfig
import tempfile
import types
from pathlib import Path

import numpy as np

from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model
from tinyml import oracle

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("TINYML_BUILD", REPO / "build")) / "testmodels"
CONVERTER = REPO / "host" / "tinyml" / "convert.py"


def cached_model(recipe: str, make) -> Path:
    """The .tflite for `recipe` (a string naming the case) built by `make()` (which returns its bytes), cached
    under a key of everything that defines it (model_key): editing a case's layers rebuilds its model."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (model_key(recipe, make)[:20] + ".tflite")
    if not path.exists():
        data = make()
        tmp = path.with_suffix(f".{os.getpid()}.tmp")     # pytest workers may make the same model at once
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def model_key(recipe: str, make) -> str:
    """sha256 of the recipe, of the definition of `make` (fingerprint()), of the converter's source (its
    settings) and of the TensorFlow and Keras versions."""
    h = hashlib.sha256()
    for part in (recipe, fingerprint(make), converter_source(), tf_version()):
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def converter_source() -> bytes:
    return CONVERTER.read_bytes()


@functools.lru_cache(maxsize=None)
def tf_version() -> str:
    """TensorFlow's and Keras' versions, from their package metadata (importing TensorFlow takes seconds)."""
    def version(*names):
        for name in names:
            try:
                return importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                pass
        return None
    tf = version("tensorflow", "tensorflow-cpu", "tf-nightly", "tensorflow-intel", "tensorflow-macos")
    if tf is None:  # another distribution's name: ask the module itself
        import tensorflow
        tf = tensorflow.__version__
    return f"tensorflow {tf} keras {version('keras')}"


# Code from these directories (the standard library, installed packages) is named, not fingerprinted: the
# versions above stand for it. Everything else (the tests, host/, code compiled at run time) is fingerprinted.
_LIBRARY = tuple(sorted({os.path.join(p, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")
                         if (p := sysconfig.get_paths().get(k))}))
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+|0x[0-9a-fA-F]{6,}")


def _library_code(code) -> bool:
    name = code.co_filename
    return name.startswith(_LIBRARY) or (name.startswith("<") and name != "<string>")


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def fingerprint(obj) -> bytes:
    """A deterministic digest of what `obj` computes: for a function, its bytecode, constants (nested code
    objects included), names, closure cells' contents and default arguments, and the global functions and
    values its code (and nested code) names, recursively; functions of the standard library and installed
    packages by name. numpy arrays by dtype, shape and bytes; Keras objects by their config. No id()s or
    addresses: the same definition gives the same digest in every process."""
    h = hashlib.sha256()
    _Fingerprint(h.update).add(obj)
    return h.digest()


class _Fingerprint:
    def __init__(self, out):
        self.out = out
        self.seen = {}     # id -> order of first visit; `keep` keeps those ids valid while we run
        self.keep = []

    def tag(self, kind, data=b""):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        self.out(kind.encode() + b":" + len(data).to_bytes(8, "little") + data)

    def add(self, obj):
        if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
            return self.tag(type(obj).__name__, obj if isinstance(obj, (str, bytes)) else repr(obj))
        # Mutable objects and functions are visited once (they can hold cycles); immutable ones every time, as
        # whether two equal constants are one object depends on how their code was loaded (source or .pyc).
        if not isinstance(obj, (tuple, frozenset, types.CodeType, types.ModuleType, type, slice, Path)):
            if id(obj) in self.seen:
                return self.tag("ref", str(self.seen[id(obj)]))
            self.seen[id(obj)] = len(self.seen)
            self.keep.append(obj)
        if isinstance(obj, (tuple, list)):
            self.tag(type(obj).__name__, str(len(obj)))
            for x in obj:
                self.add(x)
        elif isinstance(obj, dict):
            self.tag("dict", str(len(obj)))
            for k, v in obj.items():
                self.add(k)
                self.add(v)
        elif isinstance(obj, (set, frozenset)):
            # element order follows string hashing (PYTHONHASHSEED): sort the elements' own digests
            self.tag(type(obj).__name__, b"".join(sorted(fingerprint(x) for x in obj)))
        elif isinstance(obj, types.CodeType):
            self.code(obj)
        elif isinstance(obj, types.FunctionType):
            self.function(obj)
        elif isinstance(obj, types.MethodType):
            self.tag("method")
            self.add(obj.__func__)
            self.add(obj.__self__)
        elif isinstance(obj, functools.partial):
            self.tag("partial")
            self.add(obj.func)
            self.add(obj.args)
            self.add(obj.keywords)
        elif isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType)):
            self.tag("named", getattr(obj, "__name__", "?") if isinstance(obj, types.ModuleType) else _qualname(obj))
        elif isinstance(obj, Path):
            self.tag("path", str(obj.relative_to(REPO)) if obj.is_relative_to(REPO) else str(obj))
        elif isinstance(obj, slice):
            self.tag("slice")
            self.add((obj.start, obj.stop, obj.step))
        elif isinstance(obj, (np.ndarray, np.generic)):
            a = np.asarray(obj)
            self.tag("ndarray", f"{a.dtype.str} {a.shape}")
            if a.dtype.hasobject:
                self.add(a.tolist())
            else:
                self.tag("bytes", np.ascontiguousarray(a).tobytes())
        else:
            self.instance(obj)

    def code(self, code):
        self.tag("code", f"{code.co_argcount} {code.co_posonlyargcount} {code.co_kwonlyargcount} {code.co_flags}")
        self.tag("bytecode", code.co_code)
        self.tag("exceptions", code.co_exceptiontable)
        self.add(code.co_consts)   # nested code objects (lambdas, comprehensions) recursively
        self.add(code.co_names)
        self.add(code.co_varnames)
        self.add(code.co_freevars)
        self.add(code.co_cellvars)

    def function(self, fn):
        code = fn.__code__
        if _library_code(code):
            return self.tag("named", _qualname(fn))
        self.tag("function")
        self.code(code)
        self.add(fn.__defaults__)
        self.add(fn.__kwdefaults__)
        cells = []
        for cell in fn.__closure__ or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:  # an empty cell (a variable not assigned yet)
                cells.append("<empty cell>")
        self.add(cells)
        # the globals its code and nested code name: helper functions (recursively), constants, modules
        names, stack = [], [code]
        while stack:
            c = stack.pop()
            names.extend(c.co_names)
            stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        g = fn.__globals__
        for name in sorted(set(names)):
            if name in g:
                self.add(name)
                self.add(g[name])

    def instance(self, obj):
        cls = type(obj)
        self.tag("instance", _qualname(cls))
        config = getattr(obj, "get_config", None)
        if callable(config):  # Keras objects (layers, initializers, regularizers)
            try:
                cfg = config()
            except Exception:  # noqa: BLE001 (some objects cannot be configured; fall through)
                pass
            else:
                if isinstance(cfg, dict):
                    cfg = {k: v for k, v in cfg.items() if k != "name"}  # Keras' automatic names count up
                return self.add(cfg)
        tensorflow = cls.__module__.split(".")[0] in ("tensorflow", "tf_keras", "keras")
        if tensorflow and callable(getattr(obj, "numpy", None)):
            try:
                return self.add(np.asarray(obj.numpy()))  # tensors and variables by their values
            except Exception:  # noqa: BLE001
                pass
        module = sys.modules.get(cls.__module__)
        if not (module and getattr(module, "__file__", None) and module.__file__.startswith(_LIBRARY)) and \
                hasattr(obj, "__dict__"):
            return self.add(dict(sorted(vars(obj).items())))  # our own classes' instances by their attributes
        self.tag("repr", _ADDRESS.sub("", repr(obj)))


def _keras_model(build, input_shapes, seed):
    import tensorflow as tf
    tf.keras.backend.clear_session()  # a conversion depends only on its recipe, not on earlier models
    tf.keras.utils.set_random_seed(seed)
    # Names that sort in input order: the converter orders a model's inputs by name, and the
    # calibration samples follow our order (automatic names like input_layer_10 < input_layer_9 did not).
    inputs = [tf.keras.Input(shape=s, batch_size=1, name=f"input_{i:02d}") for i, s in enumerate(input_shapes)]
    return tf.keras.Model(inputs, build(*inputs))


def int8_keras_model(build, input_shapes, seed=0, n_calib=32, int8_io=True):
    """Bytes of a full-int8 model from `build(inputs) -> outputs` (Keras functional), calibrated on
    seeded random data."""
    from tinyml.convert import to_int8_tflite
    model = _keras_model(build, input_shapes, seed)
    rng = np.random.default_rng(seed)
    calib = [[rng.uniform(-2, 2, size=s).astype(np.float32) for s in input_shapes] for _ in range(n_calib)]
    return to_int8_tflite(model, calib, int8_io=int8_io)


def float_keras_model(build, input_shapes, seed=0):
    """Bytes of a float32 model from `build(inputs) -> outputs` (Keras functional)."""
    from tinyml.convert import to_float_tflite
    return to_float_tflite(_keras_model(build, input_shapes, seed))


def keras_model(build, input_shapes, seed, dtype):
    """float32 (dtype "float") or full-int8 model bytes from `build`."""
    if dtype == "float":
        return float_keras_model(build, input_shapes, seed)
    return int8_keras_model(build, input_shapes, seed=seed)


def random_inputs(info, rng):
    out = []
    for t in info.inputs:
        dt = np.dtype(t.dtype)
        if dt.kind == "f":
            out.append(rng.uniform(-2, 2, size=t.shape).astype(dt))
        else:
            lim = np.iinfo(dt)
            out.append(rng.integers(lim.min, lim.max, size=t.shape, endpoint=True).astype(dt))
    return out


def assert_bitexact(model_path, n_inputs=3, seed=0):
    """Engine (host build) == TFLM, byte for byte, on n_inputs random inputs. Returns the engine."""
    info = read_model(model_path)
    engine = HostEngine(Path(model_path).read_bytes())
    interp = oracle.interpreter(model_path)
    rng = np.random.default_rng(seed)
    specs = [(o.dtype, o.shape) for o in info.outputs]
    for trial in range(n_inputs):
        x = random_inputs(info, rng)
        want = oracle.invoke(model_path, x, interp)
        got = engine.invoke(x, specs)
        for k, (w, g) in enumerate(zip(want, got)):
            if w.tobytes() != g.tobytes():
                diff = np.flatnonzero(w.reshape(-1) != g.reshape(-1))
                raise AssertionError(
                    f"{model_path} ({', '.join(info.op_names)}) output {k}, trial {trial}: {len(diff)} of "
                    f"{w.size} differ; first at {diff[0]}: TFLM {w.reshape(-1)[diff[0]]} engine "
                    f"{g.reshape(-1)[diff[0]]}")
    return engine
