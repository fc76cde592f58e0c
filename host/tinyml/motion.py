"""Motion and vibration features (tinyml.MotionFeatures): per channel mean, RMS, peak, crest factor and spectral
band energies over windows of N samples x C channels, with CMSIS-DSP's real FFT (arm_rfft_fast_f32) and
statistics. The C comes from the `cmsisdsp` sdist, fetched at build time (tools/fetch_cmsisdsp.sh), compiled
unchanged; the FFT tables are copied out of the sdist on the host (native_modules/features/tm_motion_gen.c)
into tm_motion_tables.h, const data of the device build.

The same C runs on every target: `host` (a shared library through ctypes: what training uses), `unix` (the x64
module), `qemu-m4` (the armv7emsp module on the emulated Cortex-M4). Float builds use -ffp-contract=off and
sqrtf is correctly rounded everywhere (the FPU's, or native_modules/features/tm_sqrtf.c), so the features are
the same bits on all of them (tests/test_motion_features.py).

The `cmsisdsp` wheel (CMSIS-DSP's Python API) is built from the same sdist, but with -O3 -ffast-math (its
setup.py): GCC may then reassociate and contract the float arithmetic, so its FFT can differ from this one in
the last bits. `wheel_rfft` and the tests measure how much."""

import ctypes
import subprocess
from pathlib import Path

import numpy as np

from . import TinymlError, sdist
from .buildlock import serialized
from .paths import BUILD, NATIVE

STATS = ("mean", "rms", "peak", "crest")
MIN_N, MAX_N, MAX_CHANNELS, MAX_BANDS = 32, 1024, 64, 32
# What the Makefile compiles for FEATURES=motion (fetch_cmsisdsp.sh copies these into <tree>/Source).
CMSIS_SOURCES = ["arm_rfft_fast_f32.c", "arm_cfft_f32.c", "arm_cfft_radix8_f32.c", "arm_bitreversal2.c",
                 "arm_mean_f32.c", "arm_rms_f32.c", "arm_absmax_no_idx_f32.c", "arm_power_f32.c"]
# __GNUC_PYTHON__: CMSIS-DSP's plain-C configuration (no CMSIS Core), as its wheel builds; loop unrolling as
# the wheel's CMake (LOOPUNROLL=ON). The Makefile's FEATURES=motion flags.
DEVICE_FLAGS = ["-D__GNUC_PYTHON__", "-DARM_MATH_LOOPUNROLL", "-ffp-contract=off", "-fno-math-errno", "-fwrapv"]
ERRORS = {
    1: "n must be a power of two from 32 to 1024",
    2: f"channels must be 1..{MAX_CHANNELS}",
    3: f"at most {MAX_BANDS} bands",
    4: "a band's bins must be 0 <= k0 < k1 <= n/2 + 1",
    5: "rate must be a positive number of samples per second",
    6: "a band in Hz must be (lo, hi) with 0 <= lo < hi",
    7: "a band holds no FFT bin: widen it (the bins are rate/n Hz apart)",
}


def sources():
    """(pristine sdist tree, the copied tree the device compiles), fetched once into the cache."""
    return sdist.fetch("fetch_cmsisdsp.sh", "CMSIS-DSP (cmsisdsp sdist)")


@serialized
def tables_header() -> Path:
    """tm_motion_tables.h: arm_rfft_fast_f32's tables for N = 32..1024, from the sdist's own tables."""
    pristine, _ = sources()
    gen_src = NATIVE / "features" / "tm_motion_gen.c"
    twiddle = NATIVE / "features" / "tm_motion_twiddle.h"     # the generator checks its functions
    out_dir = BUILD / "features" / f"motion-tables-{sdist.content_hash(gen_src.read_bytes(), twiddle.read_bytes(), str(pristine))}"
    header = out_dir / "tm_motion_tables.h"
    if header.exists():
        return header
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = out_dir / "tm_motion_gen"
    common = pristine / "Source" / "CommonTables"
    cmd = ["gcc", "-O1", "-D__GNUC_PYTHON__", f"-I{pristine / 'Include'}", f"-I{pristine / 'PrivateInclude'}",
           "-o", str(gen), str(gen_src), str(common / "arm_common_tables.c"), str(common / "arm_const_structs.c")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError(f"building the motion features' table generator failed:\n{proc.stderr[-2000:]}")
    proc = subprocess.run([str(gen)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError("the motion features' table generator failed")
    tmp = header.with_suffix(".tmp")
    tmp.write_text(proc.stdout)
    tmp.replace(header)
    return header


def prepare_build_key() -> str:
    _, tree = sources()
    return sdist.content_hash(tables_header().read_bytes(), str(tree))


@serialized
def prepare_build(out_dir: Path) -> str:
    """Sets up a native-module build directory for FEATURES=motion (the CMSIS-DSP tree linked as `cmsisdsp`, the
    tables header beside tm_ops.h)."""
    _, tree = sources()
    header = tables_header()
    link = out_dir / "cmsisdsp"
    if not link.exists():
        link.symlink_to(tree)
    (out_dir / "tm_motion_tables.h").write_text(header.read_text())
    return sdist.content_hash(header.read_bytes(), str(tree))


@serialized
def _compile_lib(name, srcs, extra, key_parts):
    _, tree = sources()
    header = tables_header()
    feats = NATIVE / "features"
    key = sdist.content_hash(*(Path(p).read_bytes() for p in srcs), header.read_bytes(), (feats / "tm_motion.h").read_bytes(),
                (feats / "tm_motion_twiddle.h").read_bytes(), extra)
    out_dir = BUILD / "features" / f"{name}-{key}"
    lib = out_dir / f"lib{name}.so"
    if lib.exists():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = ["-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Werror", *DEVICE_FLAGS, *extra,
             f"-I{header.parent}", f"-I{tree / 'Include'}", f"-I{tree / 'PrivateInclude'}", f"-I{feats}"]
    tmp = out_dir / f"lib{name}.tmp.so"
    proc = subprocess.run(["gcc", *flags, "-o", str(tmp), *map(str, srcs)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError(f"building the host {name} library failed:\n{proc.stderr[-3000:]}")
    tmp.replace(lib)
    return lib


def build_hostlib() -> Path:
    """tm_motion.c and the CMSIS-DSP sources, exactly the device's C, as a host shared library (x64: sqrtss)."""
    _, tree = sources()
    srcs = [NATIVE / "features" / "tm_motion.c"] + [tree / "Source" / s for s in CMSIS_SOURCES]
    return _compile_lib("tm_motion", srcs, [], None)


def soft_sqrtf_lib() -> Path:
    """tm_sqrtf.c (the archs without a square-root instruction) on the host, as tm_soft_sqrtf, for tests."""
    return _compile_lib("tm_soft_sqrtf", [NATIVE / "features" / "tm_sqrtf.c"], ["-Dsqrtf=tm_soft_sqrtf", "-fno-builtin"],
                        None)


_LIB = None


def _lib():
    global _LIB
    if _LIB is None:
        lib = ctypes.CDLL(str(build_hostlib()))
        u32, vp, f32 = ctypes.c_uint32, ctypes.c_void_p, ctypes.c_float
        lib.tm_motion_bytes.restype = u32
        lib.tm_motion_bytes.argtypes = [u32, u32, u32]
        lib.tm_motion_hz_to_bins.argtypes = [u32, f32, f32, f32, vp, vp]
        lib.tm_motion_init.argtypes = [vp, u32, u32, u32, vp]
        lib.tm_motion_outputs.restype = u32
        lib.tm_motion_outputs.argtypes = [vp]
        lib.tm_motion_compute_f32.argtypes = [vp, vp, f32, vp]
        lib.tm_motion_compute_i16.argtypes = [vp, vp, f32, vp]
        lib.tm_motion_rfft.argtypes = [vp, vp, vp]
        _LIB = lib
    return _LIB


def resolve_bins(n, rate=None, bands=None, bins=None) -> list:
    """The bin ranges [(k0, k1), ...] (half-open) of bands given in Hz (with rate) or as bins, exactly as the
    device resolves them (in float32, by tm_motion_hz_to_bins)."""
    if bands is not None and bins is not None:
        raise TinymlError("give bands (in Hz, with rate) or bins, not both")
    if bins is not None:
        return [(int(a), int(b)) for a, b in bins]
    if bands is None:
        return []
    if rate is None:
        raise TinymlError("bands in Hz need the sample rate (rate=)")
    out = []
    for lo, hi in bands:
        k0, k1 = ctypes.c_uint16(), ctypes.c_uint16()
        err = _lib().tm_motion_hz_to_bins(int(n), float(np.float32(rate)), float(np.float32(lo)),
                                          float(np.float32(hi)), ctypes.byref(k0), ctypes.byref(k1))
        if err:
            raise TinymlError(f"band ({lo}, {hi}) Hz: {ERRORS[err]}")
        out.append((k0.value, k1.value))
    return out


class HostMotionFeatures:
    """The device's feature C on the host: compute(windows) -> float32 [W, channels * (4 + bands)]."""

    def __init__(self, n, channels, rate=None, bands=None, bins=None, scale=1.0):
        lib = _lib()
        self.bins = resolve_bins(n, rate, bands, bins)
        self.n, self.channels, self.scale = int(n), int(channels), float(np.float32(scale))
        flat = np.array(self.bins, np.uint16).ravel() if self.bins else np.zeros(2, np.uint16)
        self.mem = (ctypes.c_uint64 * ((lib.tm_motion_bytes(self.n, self.channels, len(self.bins)) + 7) // 8))()
        err = lib.tm_motion_init(self.mem, self.n, self.channels, len(self.bins), flat.ctypes.data)
        if err:
            raise TinymlError(ERRORS[err])
        self.size = lib.tm_motion_outputs(self.mem)

    def compute(self, windows) -> np.ndarray:
        """windows: [W, n, channels] (or [n, channels]) float32 or int16."""
        w = np.asarray(windows)
        if w.dtype not in (np.float32, np.int16):
            raise TinymlError(f"windows must be float32 or int16, not {w.dtype}")
        w = np.ascontiguousarray(w.reshape((-1, self.n, self.channels)) if w.size else
                                 w.reshape((0, self.n, self.channels)))
        out = np.zeros((w.shape[0], self.size), np.float32)
        fn = _lib().tm_motion_compute_f32 if w.dtype == np.float32 else _lib().tm_motion_compute_i16
        for i in range(w.shape[0]):
            fn(self.mem, w[i].ctypes.data, self.scale, out[i].ctypes.data)
        return out

    def rfft(self, x) -> np.ndarray:
        """arm_rfft_fast_f32 of n float32 values (CMSIS's packed output: X0, X[n/2], then Re, Im of X1..)."""
        buf = np.array(x, np.float32).ravel().copy()
        out = np.zeros(self.n, np.float32)
        _lib().tm_motion_rfft(self.mem, buf.ctypes.data, out.ctypes.data)
        return out


def feature_names(channels, bins) -> list:
    """Names of the values in a feature vector, in order: ch0_mean, ch0_rms, ..., ch0_band0, ..."""
    return [f"ch{c}_{s}" for c in range(channels) for s in (*STATS, *(f"band{b}" for b in range(len(bins))))]


def wheel_rfft(x) -> np.ndarray:
    """The cmsisdsp wheel's arm_rfft_fast_f32 of x (float32, n a power of two), in CMSIS's packed layout."""
    import cmsisdsp as dsp
    x = np.asarray(x, np.float32)
    s = dsp.arm_rfft_fast_instance_f32()
    status = dsp.arm_rfft_fast_init_f32(s, x.size)
    if status != 0:
        raise TinymlError(f"cmsisdsp: arm_rfft_fast_init_f32({x.size}) failed: {status}")
    return np.asarray(dsp.arm_rfft_fast_f32(s, x, 0), np.float32)


# The device side of `tinyml features motion` on unix and QEMU: windows.bin holds the windows (float32 or int16),
# features.bin receives the features of all of them; the cost covers compute() calls only.
DEVICE_SCRIPT = """\
import array, os, tinyml
try:
    import board
    clock = board.instructions
except ImportError:
    import time
    clock = time.ticks_us
N, C, CODE, KW, BINS = %d, %d, %r, %s, %r
# scale, rate and band edges travel as float32 bits: a single-precision firmware's parser does not always round
# a decimal literal to the nearest float32 (on the emulated Cortex-M3, 6.103515625e-05 is not 2**-14)
F = array.array("f", %r)
SCALE = F[0]
if F[1]:
    KW["rate"] = F[1]
    KW["bands"] = tuple((F[2 + 2 * i], F[3 + 2 * i]) for i in range((len(F) - 2) // 2))
elif BINS:
    KW["bins"] = BINS
with open("windows.bin", "rb") as f:
    raw = f.read(os.stat("windows.bin")[6])
data = array.array(CODE, raw)
mf = tinyml.MotionFeatures(n=N, channels=C, scale=SCALE, **KW)
W = len(data) // (N * C)
out = array.array("f", bytes(4 * mf.size * W))
mv, omv = memoryview(data), memoryview(out)
cost = 0
for w in range(W):
    win, o = mv[w * N * C:(w + 1) * N * C], omv[w * mf.size:(w + 1) * mf.size]
    c0 = clock()
    mf.compute(win, o)
    cost += clock() - c0
with open("features.bin", "wb") as f:
    f.write(out)
print("MOTION windows=%%d cost=%%d bins=%%s" %% (W, cost, mf.bins))
print(repr(mf))
"""


def run_motion(windows, target="host", rate=None, bands=None, bins=None, scale=1.0):
    """Features float32 [W, channels * (4 + bands)] of windows [W, n, channels] (float32 or int16) on the target,
    and the device's cost of computing them (instructions on emulated boards, microseconds on unix, None on the
    host), and the bins the target resolved."""
    w = np.asarray(windows)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3 or w.dtype not in (np.float32, np.int16):
        raise TinymlError(f"motion windows must be float32 or int16 [windows, n, channels] (or [n, channels]); "
                          f"got {w.dtype} {w.shape}")
    _, n, channels = w.shape
    if target == "host":
        mf = HostMotionFeatures(n, channels, rate, bands, bins, scale)
        return mf.compute(w), None, mf.bins
    import re
    from .build import build_module
    from .targets import TargetError, get_target
    resolve_bins(n, rate, bands, bins)      # the host's errors first
    floats = [scale, 0.0]
    if bins is None and bands is not None:
        floats = [scale, rate] + [v for b in bands for v in b]
    floats = np.array(floats, "<f4").tobytes()
    bins = tuple(tuple(int(v) for v in b) for b in bins) if bins is not None else ()
    tgt = get_target(target)
    module = build_module(tgt.arch, ops=(), features=("motion",))
    code = "f" if w.dtype == np.float32 else "h"
    data = w.astype("<f4" if code == "f" else "<i2").tobytes()
    files = {"tinyml.mpy": module.read_bytes(), "windows.bin": data}
    try:
        result = tgt.run(DEVICE_SCRIPT % (n, channels, code, "{}", bins, floats), files, ["features.bin"])
    except TargetError as exc:
        raise TinymlError(f"on {target}: {exc}") from None
    m = re.search(r"MOTION windows=(\d+) cost=(-?\d+) bins=(.*)", result.stdout)
    assert m, result.stdout
    feats = np.frombuffer(result.files["features.bin"], dtype="<f4").reshape(int(m.group(1)), -1)
    import ast
    return feats, int(m.group(2)), [tuple(b) for b in ast.literal_eval(m.group(3))]
