"""Feature pipelines that run on the device the way training computed them.

`audio`: TFLM's audio frontend (window, FFT, filterbank, noise reduction, PCAN, log scale), bit-exact with the
`pymicro-features` wheel (what ESPHome's microWakeWord models were trained on). Its C comes from the
pymicro-features sdist, fetched at build time (tools/fetch_microfrontend.sh) and patched for native modules
(tools/patches/microfrontend.patch); its tables (Hann window, FFT twiddles, mel filterbank weights, PCAN gain
table) are computed here on the host by the sdist's own FrontendPopulateState, compiled as the wheel's setup.py
compiles it (native_modules/features/tm_audio_gen.cc), and compiled into the device code as const data.

The same device C runs on every target: `host` (a shared library through ctypes), `unix` (the x64 module in
the MicroPython unix port), `qemu-m4` (the armv7emsp module on the emulated Cortex-M4)."""

import ctypes
import subprocess
from pathlib import Path

import numpy as np

from . import TinymlError, sdist
from .buildlock import serialized
from .paths import BUILD, NATIVE

FEATURES = ("audio", "motion")   # motion: tinyml.MotionFeatures (host/tinyml/motion.py)
SAMPLE_RATE = 16000
CHANNELS = 40

# TFLM's FrontendConfig for each configuration: window and step in ms, channels, band limits, noise reduction
# (smoothing bits, even and odd smoothing, min signal remaining), PCAN (on, strength, offset, gain bits), log
# (on, scale shift). microWakeWord's is pymicro-features' init_cfg (and ESPHome's micro_wake_word); micro_speech
# is TFLM's micro_speech example (micro_features_generator.cc), the same with a 20 ms step.
CONFIGS = {
    "microwakeword": (30, 10, 40, "125", "7500", 10, "0.025", "0.06", "0.05", 1, "0.95", "80", 21, 1, 6),
    "micro_speech": (30, 20, 40, "125", "7500", 10, "0.025", "0.06", "0.05", 1, "0.95", "80", 21, 1, 6),
}
STEP_SAMPLES = {name: c[1] * SAMPLE_RATE // 1000 for name, c in CONFIGS.items()}

_LIB = "tensorflow/lite/experimental/microfrontend/lib"
# The frontend's runtime files, as the patched tree names them (the Makefile's FEATURES=audio list too). Its
# FFT and filterbank are not the sdist's code but native_modules/features/tm_audio_fft.c and tm_audio.c, which
# compute the same values faster.
DEVICE_SOURCES = [f"{_LIB}/{f}.c" for f in ("window", "noise_reduction", "pcan_gain_control", "log_scale",
                                            "log_lut")]
# Ours, in native_modules/features/.
OWN_SOURCES = ["tm_audio.c", "tm_audio_fft.c"]
# What the wheel's setup.py compiles (C++, -DFIXED_POINT=16), for the table generator.
_WHEEL_SOURCES = [f"{_LIB}/{f}.cc" for f in (
    "kiss_fft_int16", "fft", "fft_util", "filterbank", "filterbank_util", "frontend", "frontend_util", "log_lut",
    "log_scale", "log_scale_util", "noise_reduction", "noise_reduction_util", "pcan_gain_control",
    "pcan_gain_control_util", "window", "window_util")] + ["kissfft/kiss_fft.cc", "kissfft/tools/kiss_fftr.cc"]
DEVICE_FLAGS = ["-DFIXED_POINT=16", "-DKISS_FFT_NO_ALLOC", "-ffp-contract=off", "-fwrapv"]


def sources():
    """(pristine sdist tree, patched device tree), fetched and patched once into the cache."""
    return sdist.fetch("fetch_microfrontend.sh", "TFLM's audio frontend (pymicro-features sdist)")


@serialized
def tables_header() -> Path:
    """tm_audio_tables.h: the frontend's tables, from the sdist's own FrontendPopulateState on the host. Every
    configuration gives the same tables (only the step differs, a run-time parameter): checked here."""
    pristine, _ = sources()
    gen_src = NATIVE / "features" / "tm_audio_gen.cc"
    out_dir = BUILD / "features" / f"tables-{sdist.content_hash(gen_src.read_bytes(), CONFIGS, str(pristine))}"
    # (the generator stays there: sdist_frames runs it as the reference for every configuration)
    header = out_dir / "tm_audio_tables.h"
    if header.exists():
        return header
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = out_dir / "tm_audio_gen"
    cmd = ["g++", "-O1", "-DFIXED_POINT=16", f"-I{pristine}", f"-I{pristine / 'kissfft'}", "-o", str(gen),
           str(gen_src), *[str(pristine / s) for s in _WHEEL_SOURCES], "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError(f"building the audio frontend's table generator failed:\n{proc.stderr[-2000:]}")
    texts = {}
    for name, config in CONFIGS.items():
        proc = subprocess.run([str(gen), *map(str, config)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise TinymlError(f"the audio frontend's table generator failed for {name}: {proc.stderr.strip()}")
        texts[name] = proc.stdout
    strip = [t.replace(f"#define TM_AUDIO_STEP_SAMPLES {STEP_SAMPLES[n]}\n", "") for n, t in texts.items()]
    if any(s != strip[0] for s in strip):
        raise TinymlError("the audio configurations differ in more than their step: one table set cannot serve all")
    header.write_text(texts["microwakeword"])
    return header


def prepare_build_key(features=("audio",)) -> str:
    """What a FEATURES=... build compiles besides native_modules/ (the patched tree, the tables)."""
    if "audio" not in features:
        return _other_features("prepare_build_key", features)
    _, patched = sources()
    return sdist.content_hash(tables_header().read_bytes(), str(patched), _other_features("prepare_build_key", features))


def _other_features(fn, features, *args):
    """The other pipelines' part (motion: tinyml.motion)."""
    if "motion" not in features:
        return ""
    from . import motion
    return getattr(motion, fn)(*args)


@serialized
def prepare_build(out_dir: Path, features=("audio",)) -> str:
    """Sets up a native-module build directory for FEATURES=audio (the patched tree linked as `microfrontend`,
    the tables header beside tm_ops.h); returns a key of what the build compiles, for its cache digest."""
    other = _other_features("prepare_build", features, out_dir)
    if "audio" not in features:
        return other
    _, patched = sources()
    header = tables_header()
    link = out_dir / "microfrontend"
    if not link.exists():
        link.symlink_to(patched)
    (out_dir / "tm_audio_tables.h").write_text(header.read_text())
    return sdist.content_hash(header.read_bytes(), str(patched), other)


@serialized
def build_hostlib() -> Path:
    """The frontend (tm_audio.c and the patched sources, exactly the device's C) as a host shared library."""
    _, patched = sources()
    header = tables_header()
    feats = NATIVE / "features"
    srcs = [feats / s for s in OWN_SOURCES] + [patched / s for s in DEVICE_SOURCES]
    key = sdist.content_hash(*(p.read_bytes() for p in srcs), header.read_bytes(),
                             *((feats / h).read_bytes() for h in ("tm_audio.h", "tm_audio_fft.h")))
    out_dir = BUILD / "features" / f"host-{key}"
    lib = out_dir / "libtm_audio.so"
    if lib.exists():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = ["-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Werror", *DEVICE_FLAGS, f"-I{header.parent}",
             f"-I{patched}", f"-I{feats}"]
    proc = subprocess.run(["gcc", *flags, "-o", str(lib), *map(str, srcs)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError(f"building the host audio frontend failed:\n{proc.stderr[-3000:]}")
    return lib


class HostAudioFrontend:
    """The device's frontend C on the host: process(pcm) -> uint16 frames [n, 40]."""

    def __init__(self, config="microwakeword"):
        if config not in CONFIGS:
            raise TinymlError(f"unknown audio config '{config}': choose one of {', '.join(CONFIGS)}")
        lib = ctypes.CDLL(str(build_hostlib()))
        lib.tm_audio_bytes.restype = ctypes.c_uint32
        lib.tm_audio_init.restype = ctypes.c_void_p
        lib.tm_audio_init.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.tm_audio_frames_for.restype = ctypes.c_uint32
        lib.tm_audio_frames_for.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.tm_audio_process.restype = ctypes.c_uint32
        lib.tm_audio_process.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]
        lib.tm_audio_reset.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.mem = (ctypes.c_uint64 * ((lib.tm_audio_bytes() + 7) // 8))()
        self.handle = lib.tm_audio_init(self.mem, STEP_SAMPLES[config])

    def process(self, pcm) -> np.ndarray:
        pcm = np.ascontiguousarray(pcm, dtype=np.int16)
        n = self.lib.tm_audio_frames_for(self.handle, pcm.size)
        out = np.zeros((n, CHANNELS), np.uint16)
        got = self.lib.tm_audio_process(self.handle, pcm.ctypes.data, pcm.size, out.ctypes.data)
        assert got == n
        return out

    def reset(self):
        self.lib.tm_audio_reset(self.handle)


def wheel_frames(pcm) -> np.ndarray:
    """The pymicro-features wheel's frames (microWakeWord configuration) as uint16 [n, 40]. The wheel takes
    10 ms chunks and returns each frame's values times 0.0390625 (= 5/128) as floats: exact in float32 for
    every uint16, so dividing recovers the integers."""
    from pymicro_features import MicroFrontend
    pcm = np.ascontiguousarray(pcm, dtype="<i2")
    fe = MicroFrontend()
    step = STEP_SAMPLES["microwakeword"]
    frames = []
    for i in range(0, pcm.size - step + 1, step):
        out = fe.process_samples(pcm[i:i + step].tobytes())
        if out.features:
            frames.append(out.features)
    if not frames:
        return np.zeros((0, CHANNELS), np.uint16)
    values = np.array(frames, dtype=np.float64) / 0.0390625
    ints = np.rint(values)
    assert np.all(ints == values) and ints.min() >= 0 and ints.max() <= 65535
    return ints.astype(np.uint16)


def sdist_frames(pcm, config="micro_speech") -> np.ndarray:
    """The reference for any configuration: the sdist's own frontend compiled as the wheel is (C++, malloc'd
    state, tables from the host's libm), fed in 10 ms chunks as the wheel is (tm_audio_gen.cc's `run`), as
    uint16 [n, 40]. For microWakeWord's configuration it equals the wheel (tests/test_audio_frontend.py)."""
    gen = tables_header().parent / "tm_audio_gen"
    proc = subprocess.run([str(gen), *map(str, CONFIGS[config]), "run"], capture_output=True,
                          input=np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    if proc.returncode != 0:
        raise TinymlError(f"the sdist's frontend failed: {proc.stderr.decode()[-300:]}")
    return np.frombuffer(proc.stdout, dtype="<u2").reshape(-1, CHANNELS)


# The device side of `tinyml features audio` on unix and QEMU: feeds pcm.bin in CHUNK-sample chunks (0: all at
# once) to tinyml.AudioFrontend and writes the frames to frames.bin.
DEVICE_SCRIPT = """\
import array, os, tinyml
try:
    import board
    clock = board.instructions
except ImportError:
    import time
    clock = time.ticks_us
CONFIG = %r
CHUNK = %d
with open("pcm.bin", "rb") as f:
    pcm = f.read(os.stat("pcm.bin")[6])
fe = tinyml.AudioFrontend(config=CONFIG)
n = len(pcm) // 2
chunk = CHUNK or n
out = array.array("H", bytes(2 * fe.channels * fe.frames_for(n)))
mv, omv = memoryview(pcm), memoryview(out)
frames = 0
c0 = clock()
for pos in range(0, n, chunk):
    frames += fe.process(mv[2 * pos:2 * min(pos + chunk, n)], omv[fe.channels * frames:])
c1 = clock()
with open("frames.bin", "wb") as f:
    f.write(out)
print("AUDIO frames=%%d cost=%%d" %% (frames, c1 - c0))
print(repr(fe))
"""


def run_audio(pcm, target="host", config="microwakeword", chunk=0):
    """Frames [n, 40] uint16 of int16 PCM at 16 kHz on the target, and the device's cost of computing them
    (instructions on emulated boards, microseconds on unix, None on the host)."""
    pcm = np.ascontiguousarray(pcm, dtype=np.int16).ravel()
    if config not in CONFIGS:
        raise TinymlError(f"unknown audio config '{config}': choose one of {', '.join(CONFIGS)}")
    if target == "host":
        fe = HostAudioFrontend(config)
        if not chunk:
            return fe.process(pcm), None
        return np.concatenate([fe.process(pcm[i:i + chunk]) for i in range(0, pcm.size, chunk)]
                              or [np.zeros((0, CHANNELS), np.uint16)]), None
    import re
    from .build import build_module
    from .targets import TargetError, get_target
    tgt = get_target(target)
    module = build_module(tgt.arch, ops=(), features=("audio",))
    files = {"tinyml.mpy": module.read_bytes(), "pcm.bin": pcm.astype("<i2").tobytes()}
    try:
        result = tgt.run(DEVICE_SCRIPT % (config, int(chunk)), files, ["frames.bin"])
    except TargetError as exc:
        raise TinymlError(f"on {target}: {exc}") from None
    m = re.search(r"AUDIO frames=(\d+) cost=(-?\d+)", result.stdout)
    frames = np.frombuffer(result.files["frames.bin"], dtype="<u2").reshape(-1, CHANNELS)
    assert m and int(m.group(1)) == frames.shape[0], result.stdout
    return frames, int(m.group(2))
