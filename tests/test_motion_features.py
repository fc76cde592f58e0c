"""Motion and vibration features (tinyml.MotionFeatures, native_modules/features/tm_motion.c over CMSIS-DSP's
arm_rfft_fast_f32 and statistics from the cmsisdsp sdist): the same float32 bits on every target. The host build
(ctypes: what training uses) = the x64 module in the MicroPython unix port = the armv7emsp module on the emulated
Cortex-M4 (hardware FPU, vsqrt) = the armv7m module on the emulated Cortex-M3 (soft float, tm_sqrtf.c), on random
windows and edge windows (zeros, constant, impulse, full scale, alternating), float32 and int16 x scale.

The cmsisdsp wheel's FFT is the same C built with -O3 -ffast-math: it differs from ours in the last bits, and the
same C built here with -ffast-math gives the wheel's bits exactly (so the difference is the flags, not the code)."""

import ctypes
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import TinymlError, motion  # noqa: E402
from tinyml.motion import HostMotionFeatures, run_motion, wheel_rfft  # noqa: E402

HZ_BANDS = ((0.5, 3), (3, 8), (8, 20), (20, 50.1))


def _windows(n, c, dtype, count=6, seed=0):
    rng = np.random.default_rng(seed)
    full = 32767 if dtype == np.int16 else 16.0
    t = np.arange(n)[:, None] / n
    w = [rng.normal(0, full / 8, (n, c)),                                           # noise
         full / 3 * np.sin(2 * np.pi * 5 * t + np.arange(c)) + rng.normal(0, full / 50, (n, c)),  # tone + noise
         np.zeros((n, c)),                                                          # zeros
         np.full((n, c), full / 2),                                                 # constant
         np.where(np.arange(n)[:, None] == n // 3, full, 0.0) * np.ones((1, c)),    # impulse
         np.where(np.arange(n)[:, None] % 2 == 0, full, -full - (dtype == np.int16)) * np.ones((1, c)),  # full scale
         ][:count]
    w = np.stack(w)
    w = np.clip(np.rint(w), -32768, 32767) if dtype == np.int16 else w
    return w.astype(dtype)


# (n, channels, dtype, scale, keyword arguments): Hz bands, bins covering DC and Nyquist, no bands
CASES = {
    "128x3-f32-hz": (128, 3, np.float32, 1.0, dict(rate=100, bands=HZ_BANDS)),
    "1024x1-i16-bins": (1024, 1, np.int16, 1 / 16384, dict(bins=((0, 1), (0, 513), (1, 40), (200, 513), (512, 513)))),
    "32x2-i16-stats": (32, 2, np.int16, 0.5, {}),
}


@pytest.fixture(scope="module")
def host():
    return {name: run_motion(_windows(n, c, dt), "host", scale=s, **kw) for name, (n, c, dt, s, kw) in CASES.items()}


def _same(got, want, what):
    assert got.dtype == np.float32 and got.shape == want.shape, (what, got.shape, want.shape)
    diff = np.argwhere(got.view(np.uint32) != want.view(np.uint32))
    assert diff.size == 0, f"{what}: {len(diff)} of {want.size} values differ, first at window/value {diff[0]}"


def test_host_features_are_right(host):
    """What the features mean, against numpy in float64 (close, not bit-exact: a different computation)."""
    feats, _, bins = host["128x3-f32-hz"]
    assert bins == [(1, 4), (4, 11), (11, 26), (26, 65)]    # 100/128 Hz apart: 0.78 <= f < 3, ...
    x = _windows(128, 3, np.float32).astype(np.float64)
    per = 4 + len(bins)
    for w in range(x.shape[0]):
        for c in range(3):
            v = x[w, :, c]
            f = feats[w, c * per:(c + 1) * per].astype(np.float64)
            rms = np.sqrt(np.mean(v ** 2))
            spec = np.abs(np.fft.rfft(v - v.mean())) ** 2 / 128 ** 2
            spec[1:64] *= 2
            want = [v.mean(), rms, np.abs(v).max(), np.abs(v).max() / rms if rms else 0.0]
            want += [spec[k0:k1].sum() for k0, k1 in bins]
            np.testing.assert_allclose(f, want, rtol=2e-5, atol=1e-5 * max(1.0, rms ** 2))
    # the bands over all bins 0..n/2 sum to the variance (Parseval)
    feats, _, _ = host["1024x1-i16-bins"]
    x = _windows(1024, 1, np.int16).astype(np.float64)[:, :, 0] / 16384
    np.testing.assert_allclose(feats[:, 5], x.var(axis=1), rtol=1e-5, atol=1e-12)
    assert feats[2].tolist() == [0.0] * 9                     # zeros: everything 0, crest included


@pytest.mark.parametrize("target", ["unix", "qemu-m4", "qemu-m3", "qemu-xtensa"])
def test_targets_equal_host(host, target):
    """Bit for bit (qemu-xtensa: the xtensawin module in MicroPython on the emulated Xtensa core, with its soft
    sqrtf); on the M4 also the exact instructions per 128 x 3 window (docs/benchmarks.md)."""
    cases = CASES if target in ("unix", "qemu-m4") else {k: CASES[k] for k in ("128x3-f32-hz", "1024x1-i16-bins")}
    for name, (n, c, dt, s, kw) in cases.items():
        got, cost, bins = run_motion(_windows(n, c, dt), target, scale=s, **kw)
        want, _, want_bins = host[name]
        assert bins == want_bins, (target, name, bins)
        _same(got, want, f"{target} {name}")
        if target == "qemu-m4" and name == "128x3-f32-hz":
            print(f"M4: {cost / got.shape[0]:.0f} instructions per 128 x 3 window (compute() call included)")
            assert 10000 < cost / got.shape[0] < 60000


def test_soft_sqrtf_correctly_rounded(tmp_path):
    """tm_sqrtf.c (armv6m, armv7m, xtensawin) = the host's sqrtss on 4M float32 bit patterns: every exponent,
    subnormals, 0, -0, inf, NaN, negatives."""
    lib = motion.soft_sqrtf_lib()
    drv = tmp_path / "drv.c"
    drv.write_text("float tm_soft_sqrtf(float);\n"
                   "void many(const float *x, float *y, unsigned n) { for (unsigned i = 0; i < n; i++) "
                   "y[i] = tm_soft_sqrtf(x[i]); }\n")
    so = tmp_path / "drv.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", so, drv, lib], check=True)
    many = ctypes.CDLL(str(so)).many
    rng = np.random.default_rng(1)
    bits = np.concatenate([rng.integers(0, 2 ** 32, 3_000_000, dtype=np.uint64).astype(np.uint32),
                           rng.integers(0, 0x00800000, 500_000, dtype=np.uint32),                 # subnormals
                           np.arange(0x3f800000 - 250_000, 0x3f800000 + 250_000, dtype=np.uint32),  # around 1
                           np.array([0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f7fffff, 1,
                                     0x00800000, 0xbf800000], np.uint32)])
    x = bits.view(np.float32)
    y = np.zeros_like(x)
    many(ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(y.ctypes.data), x.size)
    with np.errstate(invalid="ignore"):
        want = np.sqrt(x)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(y), nan)
    assert np.array_equal(y[~nan].view(np.uint32), want[~nan].view(np.uint32))
    assert np.all(y[nan].view(np.uint32) & 0x7fc00000 == 0x7fc00000)


def test_wheel_fft():
    """The cmsisdsp wheel's arm_rfft_fast_f32 against the host build's: close (relative error ~1e-7 of the
    spectrum's norm) but not bit-exact; the same C compiled with the wheel's -O3 -ffast-math is (its setup.py's
    CMake flags: -ffast-math lets GCC reassociate the butterflies' sums).

    In a separate process: a shared library linked with -ffast-math (GCC 12 links crtfastmath.o) switches the
    loading process's FPU to flush subnormals to zero, which would silently change every later float result
    in this pytest process (it made test_predict's float64 -> float32 reference flush 1e-40 to 0)."""
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.path[:0] = %r; import test_motion_features as t; "
                           "t._wheel_fft_check()" % [str(REPO / "tests"), str(REPO / "host")]],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def _wheel_fft_check():
    _, tree = motion.sources()
    fast = ctypes.CDLL(str(motion._compile_lib(
        "tm_motion_fastmath", [motion.NATIVE / "features" / "tm_motion.c"]
        + [tree / "Source" / s for s in motion.CMSIS_SOURCES], ["-O3", "-ffast-math"], None)))
    rng = np.random.default_rng(2)
    differ = total = 0
    for n in (32, 64, 128, 256, 512, 1024):
        ours = HostMotionFeatures(n, 1)
        fast.tm_motion_bytes.restype = ctypes.c_uint32
        mem = (ctypes.c_uint64 * ((fast.tm_motion_bytes(n, 1, 0) + 7) // 8))()
        assert fast.tm_motion_init(mem, n, 1, 0, None) == 0
        for x in (rng.normal(0, 1, n), np.sin(np.arange(n) * 0.3) * 100, np.eye(1, n, 3)[0]):
            x = x.astype(np.float32)
            wheel, mine = wheel_rfft(x), ours.rfft(x)
            buf, out = x.copy(), np.zeros(n, np.float32)
            fast.tm_motion_rfft(mem, ctypes.c_void_p(buf.ctypes.data), ctypes.c_void_p(out.ctypes.data))
            _same(out, wheel, f"-ffast-math build vs the wheel, n={n}")
            assert np.linalg.norm(mine - wheel) <= 1e-6 * np.linalg.norm(wheel) + 1e-30
            differ += int((mine != wheel).sum())
            total += n
    print(f"the wheel's FFT vs ours: {differ} of {total} values differ in the last bits; "
          f"with -ffast-math: 0 differ")
    assert differ > 0       # if this fails, the wheel's build flags changed: update docs/benchmarks.md


API_SCRIPT = """
import array, tinyml
mf = tinyml.MotionFeatures(n=128, channels=3, rate=100, bands=((0.5, 3), (3, 8), (8, 20)))
print("REPR", repr(mf))
print("ATTR", mf.n, mf.channels, mf.size, mf.bins, mf.rate, mf.scale, mf.state_bytes > 1024)
win = array.array("f", [0.5] * 384)
out = array.array("f", [7.0] * 21)
for bad in [lambda: mf.compute(array.array("i", [0] * 384), out),
            lambda: mf.compute(array.array("f", [0.0] * 383), out),
            lambda: mf.compute(array.array("h", [0] * 385), out),
            lambda: mf.compute(win, array.array("f", [7.0] * 20)),
            lambda: mf.compute(win, b"x" * 84),
            lambda: mf.compute(win, array.array("i", [0] * 21)),
            lambda: tinyml.MotionFeatures(n=100),
            lambda: tinyml.MotionFeatures(n=2048),
            lambda: tinyml.MotionFeatures(n=128, channels=0),
            lambda: tinyml.MotionFeatures(n=128, bands=((1, 2),)),
            lambda: tinyml.MotionFeatures(n=128, rate=100, bands=((30.5, 31),)),
            lambda: tinyml.MotionFeatures(n=128, rate=100, bands=((3, 1),)),
            lambda: tinyml.MotionFeatures(n=128, bins=((0, 66),)),
            lambda: tinyml.MotionFeatures(n=128, rate=100, bands=((1, 2),), bins=((1, 2),)),
            lambda: tinyml.MotionFeatures(n=128, rate=-1),
            lambda: tinyml.MotionFeatures(n=128, window=3)]:
    try:
        bad()
        print("NO ERROR")
    except Exception as e:
        print("ERR", type(e).__name__, e)
print("UNTOUCHED", list(out) == [7.0] * 21)
print("N", mf.compute(win, out), list(out[:4]))
raw = bytearray(4 * 21)
mf.compute(array.array("h", [2] * 384), raw)
print("I16", array.array("f", raw)[0])
st = tinyml.MotionFeatures(64, 2, bins=((0, 33),), scale=0.25)
print("ST", repr(st), st.rate)
tinyml.help()
"""


def test_device_api_on_unix():
    """Types, lengths and out checked before out is written; attributes, repr, help()."""
    from tinyml.build import build_module
    from tinyml.targets import get_target
    files = {"tinyml.mpy": build_module("x64", ops=(), features=("motion",)).read_bytes()}
    out = get_target("unix").run(API_SCRIPT, files).stdout
    assert ("REPR <MotionFeatures n=128 channels=3 rate=100.000 Hz, 3 bands (FFT bins 1-3, 4-10, 11-25), 21 float32 "
            "out: per channel mean, rms, peak, crest, bands; state") in out, out
    assert "ATTR 128 3 21 ((1, 4), (4, 11), (11, 26)) 100.0 1.0 True" in out
    errors = [line for line in out.splitlines() if line.startswith(("ERR", "NO ERROR"))]
    assert len(errors) == 16 and "NO ERROR" not in out, out
    want = ["TypeError window must be array('f') (float32) or array('h')",
            "ValueError window holds 383 samples, want n x channels = 128 x 3 = 384",
            "ValueError window holds 385 samples",
            "ValueError out has room for 20 float32 values, the features are 21",
            "TypeError out must be a writable float32 buffer",
            "TypeError out must be a writable float32 buffer",
            "ValueError n must be a power of two from 32 to 1024",
            "ValueError n must be a power of two",
            "ValueError channels must be 1..64",
            "TypeError bands in Hz need the sample rate",
            "ValueError a band holds no FFT bin",
            "ValueError a band in Hz must be (lo, hi) with 0 <= lo < hi",
            "ValueError a band's bins must be (k0, k1) with 0 <= k0 < k1 <= n/2 + 1",
            "TypeError give bands (in Hz, with rate) or bins, not both",
            "ValueError rate must be a positive number",
            "TypeError MotionFeatures(n, channels=1"]
    for line, w in zip(errors, want):
        assert w in line, (line, w)
    assert "UNTOUCHED True" in out
    assert "N 21 [0.5, 0.5, 0.5, 1.0]" in out
    assert "I16 2.0" in out
    assert "ST <MotionFeatures n=64 channels=2, 1 bands (FFT bins 0-32), 10 float32 out" in out and "None" in out
    assert "tinyml.MotionFeatures(n=128, channels=3, rate=100" in out


def test_only_wanted_builds_carry_it_and_cli(tmp_path):
    from tinyml.build import build_module
    from tinyml.cli import main
    plain = build_module("x64", ops=())
    assert "tm_motion" not in (plain.parent / "link.log").read_text()
    assert "tm_motion" in (build_module("x64", ops=(), features=("motion",)).parent / "link.log").read_text()
    w = _windows(128, 3, np.float32)
    np.save(tmp_path / "w.npy", w)
    main(["features", "motion", str(tmp_path / "w.npy"), "-o", str(tmp_path / "f.npy"), "--rate", "100",
          "--bands", ",".join(f"{a}:{b}" for a, b in HZ_BANDS)])
    _same(np.load(tmp_path / "f.npy"), HostMotionFeatures(128, 3, 100, HZ_BANDS).compute(w), "tinyml features motion")
    np.save(tmp_path / "bad.npy", w.astype(np.float64))
    with pytest.raises(SystemExit):
        main(["features", "motion", str(tmp_path / "bad.npy"), "-o", str(tmp_path / "g.npy")])
    with pytest.raises(TinymlError, match="band \\(30.5, 31\\) Hz: a band holds no FFT bin"):
        HostMotionFeatures(128, 3, rate=100, bands=((30.5, 31),))
