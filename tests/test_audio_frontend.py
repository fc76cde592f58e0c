"""TFLM's audio frontend (tinyml.AudioFrontend, native_modules/features/) against the pymicro-features wheel,
bit for bit, on every target: the host build of the device C (ctypes), the x64 module in the MicroPython unix
port, the armv7emsp module on the emulated Cortex-M4 (with its exact instruction count per frame), and the
xtensawin module in MicroPython on the emulated Xtensa core (qemu-xtensa).

The signal is real-ish audio: tones, noise at several levels, a chirp across the band, silence, clipping and a
syllable-like burst, one after another so that the noise estimates and PCAN follow changes. It is fed in chunks
that do not divide the 10 ms step (1, 7, 480, 1000 samples) as well as the wheel's own 160.

microWakeWord's configuration is the wheel's. micro_speech's (20 ms step) is not in the wheel: its reference is
the sdist's own frontend compiled as the wheel is (features.sdist_frames), which equals the wheel on
microWakeWord's configuration (checked here)."""

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import TinymlError, features  # noqa: E402
from tinyml.features import run_audio, sdist_frames, wheel_frames  # noqa: E402

RATE = 16000


def _signal(seconds_each=0.8, seed=0):
    rng = np.random.default_rng(seed)
    n = int(RATE * seconds_each)
    t = np.arange(n) / RATE
    parts = [
        3000 * np.sin(2 * np.pi * 440 * t) + 1200 * np.sin(2 * np.pi * 3150 * t),       # tones
        rng.normal(0, 300, n),                                                         # quiet noise
        np.zeros(n),                                                                   # silence
        12000 * np.sin(2 * np.pi * (100 * t + (7900 - 100) / (2 * t[-1]) * t ** 2)),   # chirp 100-7900 Hz
        np.clip(30000 * np.sin(2 * np.pi * 220 * t) * 3, -32768, 32767),               # clipping
        rng.normal(0, 6000, n) * (np.sin(2 * np.pi * 4 * t) > 0),                      # loud bursts
        (np.sin(2 * np.pi * 5 * t) ** 2) * (4000 * np.sin(2 * np.pi * 180 * t)         # a syllable-like sound
                                            + 1500 * np.sin(2 * np.pi * 1100 * t)),
        np.full(n, -32768.0) * (t < 0.05) + rng.normal(0, 20, n),                      # rail, then near silence
    ]
    return np.clip(np.concatenate(parts), -32768, 32767).astype(np.int16)


SIGNAL = _signal()


@pytest.fixture(scope="module")
def host_frames():
    return {config: run_audio(SIGNAL, "host", config)[0] for config in features.CONFIGS}


def _same(got, want, what):
    assert got.dtype == np.uint16 and got.shape == want.shape, (what, got.shape, want.shape)
    diff = np.argwhere(got != want)
    assert diff.size == 0, f"{what}: {len(diff)} of {want.size} values differ, first at frame/channel {diff[0]}"


def test_host_equals_wheel(host_frames):
    want = wheel_frames(SIGNAL)
    assert want.shape == (SIGNAL.size // 160 - 2, 40) and want.std() > 50   # not all equal: real features
    _same(host_frames["microwakeword"], want, "host microwakeword vs pymicro-features")
    print(f"{want.shape[0]} frames x 40 equal to the wheel's")


@pytest.mark.parametrize("chunk", [1, 7, 160, 480, 1000])
def test_host_chunked_equals_wheel(host_frames, chunk):
    pcm = SIGNAL if chunk > 1 else SIGNAL[:RATE]
    got, _ = run_audio(pcm, "host", "microwakeword", chunk=chunk)
    _same(got, host_frames["microwakeword"][:got.shape[0]], f"host in chunks of {chunk}")
    assert got.shape[0] == (pcm.size - 480) // 160 + 1


def test_micro_speech_reference(host_frames):
    """micro_speech (20 ms step) equals the sdist's frontend, and that reference is the wheel's code."""
    _same(sdist_frames(SIGNAL, "microwakeword"), wheel_frames(SIGNAL), "sdist reference vs wheel")
    want = sdist_frames(SIGNAL, "micro_speech")
    assert want.shape[0] == (SIGNAL.size - 480) // 320 + 1
    _same(host_frames["micro_speech"], want, "host micro_speech vs the sdist")


@pytest.mark.parametrize("config,chunk", [("microwakeword", 0), ("microwakeword", 7), ("micro_speech", 1000)])
def test_unix_equals_host(host_frames, config, chunk):
    got, _ = run_audio(SIGNAL, "unix", config, chunk=chunk)
    _same(got, host_frames[config], f"unix {config} chunks of {chunk}")


def test_qemu_m4_equals_host_and_counts_instructions(host_frames):
    """The armv7emsp module on the emulated M4: the same frames, and the exact instructions per frame (one
    process() call over the whole signal; the Python call's own cost is spread over hundreds of frames)."""
    got, instructions = run_audio(SIGNAL, "qemu-m4", "microwakeword")
    _same(got, host_frames["microwakeword"], "qemu-m4 microwakeword")
    per_frame = instructions / got.shape[0]
    print(f"M4: {per_frame:.0f} instructions per 10 ms frame ({got.shape[0]} frames)")
    assert 20000 < per_frame < 64000     # the goal; kissfft's FFT and the sdist's filterbank took 79,981
    got, _ = run_audio(SIGNAL[:RATE], "qemu-m4", "micro_speech", chunk=480)
    _same(got, host_frames["micro_speech"][:got.shape[0]], "qemu-m4 micro_speech chunks of 480")


# The frontend's own FFT and square roots against the sdist's, value by value, beyond what audio reaches: every
# input scaling shift, full-scale and pathological windows (int16 wrap-around inside kissfft's butterflies, the
# -32768 - 32768i bin), and square roots at the edges of the float estimate and the sdist's 32/64-bit paths.
# kissfft is the sdist's C (the patched tree's copy, here with its own kiss_fftr_alloc), tm_audio.c is included
# whole to reach its static functions.
FFT_CHECK_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "tm_audio.c"
#include "kiss_fft.h"
#include "tools/kiss_fftr.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

int main(void) {
    static char kiss_mem[16384];
    size_t len = sizeof kiss_mem;
    kiss_fftr_cfg cfg = kiss_fftr_alloc(512, 0, kiss_mem, &len);
    static int16_t window[512] __attribute__((aligned(4))), scaled[512];
    static uint32_t got[257];
    static kiss_fft_cpx want[257];
    long bad = 0, cases = 0;
    for (int c = 0; c < 3000; c++) {
        const int kind = c % 6, shift = c % 16;
        for (int i = 0; i < 480; i++) {
            const int16_t r = (int16_t)next();
            window[i] = kind == 0 ? r : kind == 1 ? (int16_t)(r >> (c % 15)) : kind == 2 ? -32768
                : kind == 3 ? (i & 1 ? 32767 : -32768) : kind == 4 ? (i % 7 ? 0 : r) : (int16_t)((i * 37 + c) & 0x8001);
        }
        for (int i = 0; i < 512; i++) {       /* FftCompute's scaling and zero padding */
            scaled[i] = i < 480 ? (int16_t)((uint16_t)window[i] << shift) : 0;
        }
        kiss_fftr(cfg, scaled, want);
        tm_audio_fft512(window, shift, tm_audio_fft_twiddles, tm_audio_super_twiddles, got);
        for (int k = 0; k < 257; k++) {
            if ((int16_t)got[k] != want[k].r || (int16_t)(got[k] >> 16) != want[k].i) {
                if (bad++ < 5) printf("FFT differs: case %d bin %d\n", c, k);
            }
        }
        cases++;
    }
    /* FilterbankSqrt (the sdist's) on one channel at a time vs rounded_sqrt */
    static uint64_t work[TM_AUDIO_CHANNELS + 1];
    struct FilterbankState fb = {.num_channels = 1, .work = work};
    long roots = 0;
    for (int c = 0; c < 400000; c++) {
        uint64_t n;
        const uint64_t r = next();
        switch (c % 8) {
            case 0: n = r >> (r & 63); break;
            case 1: { uint64_t q = (r >> 40) & 0xFFFFFF; n = q * q + (int)((r >> 8) % 5) - 2; break; }
            case 2: n = 0xFFFFFFFFull - (r & 1023); break;
            case 3: n = 0x100000000ull + (r & 1023) - 512; break;
            case 4: n = ((uint64_t)1 << 48) + (r & 0xFFFF) - 0x8000; break;
            case 5: n = ~(uint64_t)0 - (r & 0xFFFFF); break;
            case 6: { uint64_t q = (r >> 48) & 0xFFFF; n = q * q + q + (r & 1); break; }
            default: n = r & 1023; break;
        }
        work[1] = n;
        FilterbankSqrt(&fb, 0);
        const uint32_t want_root = (uint32_t)work[0];
        if (rounded_sqrt(n) != want_root) {
            if (bad++ < 10) printf("sqrt differs: n=%llu got %u want %u\n", (unsigned long long)n, rounded_sqrt(n), want_root);
        }
        roots++;
    }
    printf("CHECKED %ld FFTs %ld roots, %ld differ\n", cases, roots, bad);
    return bad != 0;
}
"""


@pytest.mark.parametrize("sqrt", ["float", "digits"])
def test_fft_and_sqrt_equal_the_sdists(tmp_path, sqrt):
    """tm_audio_fft512 = kissfft's kiss_fftr and rounded_sqrt = the sdist's FilterbankSqrt, on inputs the test
    signal never produces (the C path of every arch but the Cortex-M4's; its DSP path is proven by the M4 test
    above), with the FPU square root's estimate and with the digit loop (ESP32, M0, M3)."""
    import subprocess
    _, patched = features.sources()
    lib = patched / features._LIB
    src = tmp_path / "check.c"
    src.write_text(FFT_CHECK_C)
    exe = tmp_path / "check"
    flags = ["-O1", "-std=gnu99", "-fwrapv", "-DFIXED_POINT=16", f"-I{features.tables_header().parent}",
             f"-I{patched}", f"-I{patched / 'kissfft'}", f"-I{REPO / 'native_modules' / 'features'}"]
    flags += ["-DTM_AUDIO_DIGIT_SQRT"] if sqrt == "digits" else []
    others = [REPO / "native_modules" / "features" / "tm_audio_fft.c", patched / "kissfft" / "kiss_fft.c",
              patched / "kissfft" / "tools" / "kiss_fftr.c", lib / "filterbank.c"] + [patched / s for s in
                                                                                    features.DEVICE_SOURCES]
    proc = subprocess.run(["gcc", *flags, "-o", str(exe), str(src), *map(str, others), "-lm"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "CHECKED 3000 FFTs 400000 roots, 0 differ" in proc.stdout, proc.stdout[-2000:]


API_SCRIPT = """
import array, tinyml
fe = tinyml.AudioFrontend()
print("REPR", repr(fe))
print("ATTR", fe.config, fe.channels, fe.step, fe.window, fe.pending, 3000 < fe.state_bytes < 4000)
ms = tinyml.AudioFrontend(config="micro_speech")
print("MS", ms.config, ms.step, ms.frames_for(480), ms.frames_for(799), ms.frames_for(800))
pcm = array.array("h", list(range(-1000, 1000, 3)) * 3)      # 2001 samples
out = array.array("H", bytes(2 * 40 * fe.frames_for(len(pcm))))
for bad in [lambda: fe.process(array.array("f", [0.0] * 10), out),
            lambda: fe.process(b"abc", out),
            lambda: fe.process(pcm, array.array("H", bytes(2 * 40 * 9))),
            lambda: fe.process(pcm, b"x" * 10000),
            lambda: tinyml.AudioFrontend(config="speech"),
            lambda: tinyml.AudioFrontend(step=3),
            lambda: fe.frames_for(-1)]:
    try:
        bad()
        print("NO ERROR")
    except Exception as e:
        print("ERR", type(e).__name__, e)
print("PENDING", fe.pending)
n = fe.process(pcm, out)
print("N", n, fe.pending, out[0] > 0)
first = bytes(out)
fe.reset()
print("RESET", fe.pending, fe.process(pcm, out), bytes(out) == first)
raw = bytearray(2 * 40 * 20)
print("BYTES", fe.process(bytes(pcm), raw))
tinyml.help()
"""


def test_device_api_on_unix():
    """Types, sizes and errors checked before anything is consumed; reset(); bytes in and bytearray out."""
    from tinyml.build import build_module
    from tinyml.targets import get_target
    files = {"tinyml.mpy": build_module("x64", ops=(), features=("audio",)).read_bytes()}
    out = get_target("unix").run(API_SCRIPT, files).stdout
    assert "REPR <AudioFrontend microwakeword: 16 kHz int16 in, 30 ms windows every 10 ms, 40 channels" in out
    assert "ATTR microwakeword 40 160 480 0 True" in out
    assert "MS micro_speech 320 1 1 2" in out
    errors = [line for line in out.splitlines() if line.startswith(("ERR", "NO ERROR"))]
    assert len(errors) == 7 and "NO ERROR" not in out, out
    assert "ERR TypeError pcm must hold int16 samples" in errors[0]
    assert "ERR ValueError pcm has an odd number of bytes" in errors[1]
    assert "out has room for 9 frames of 40 values, these 2001 samples complete 10" in errors[2]
    assert "ERR TypeError out must be a writable uint16 buffer" in errors[3]
    assert "ERR ValueError config must be" in errors[4] and "ERR TypeError" in errors[5]
    assert "PENDING 0" in out                       # the failed calls consumed nothing
    assert "N 10 401 True" in out                   # 2001 = 480 + 9 x 160 + 81 ... 401 held for the next window
    assert "RESET 0 10 True" in out
    assert "BYTES 13" in out                        # 401 held + 2001 = 2402 samples: 13 more frames
    assert "AudioFrontend(config='microwakeword')" in out


def test_only_wanted_builds_carry_the_frontend():
    """A per-model build leaves the frontend out unless asked (on the ESP32 native code takes IRAM); the full
    module and --features audio have it. Code bytes per arch are in docs/benchmarks.md."""
    from tinyml.build import build_module, module_sizes
    ops = ("FULLY_CONNECTED", "SOFTMAX")
    plain = build_module("xtensawin", ops)
    audio = build_module("xtensawin", ops, features=("audio",))
    assert "tm_audio" not in (plain.parent / "link.log").read_text()
    assert "tm_audio" in (audio.parent / "link.log").read_text()
    grown = sum(module_sizes(audio)[k] - module_sizes(plain)[k] for k in ("text", "rodata"))
    assert 8000 < grown < 20000, grown
    with pytest.raises(TinymlError, match="no feature pipeline 'video'"):
        build_module("x64", ops, features=("video",))


def test_cli_features(tmp_path):
    from tinyml.cli import main
    np.save(tmp_path / "pcm.npy", SIGNAL[:RATE])
    main(["features", "audio", str(tmp_path / "pcm.npy"), "-o", str(tmp_path / "f.npy"), "--target", "unix"])
    _same(np.load(tmp_path / "f.npy"), wheel_frames(SIGNAL[:RATE]), "tinyml features audio --target unix")
    np.save(tmp_path / "bad.npy", SIGNAL[:100].astype(np.float32))
    with pytest.raises(SystemExit):
        main(["features", "audio", str(tmp_path / "bad.npy"), "-o", str(tmp_path / "g.npy")])


def test_qemu_xtensa_equals_host(host_frames):
    """The xtensawin module (the file a user copies to an ESP32: LLVM's ESP32 pipeline, -Os, mpy_ld) imported
    by MicroPython on the emulated Xtensa core (ports/qemu_xtensa): the same frames, fed in chunks of 1000
    samples. Its instructions per frame are printed (the ESP32 runs the portable C FFT)."""
    pcm = SIGNAL[:RATE * 2]
    got, instructions = run_audio(pcm, "qemu-xtensa", "microwakeword", chunk=1000)
    _same(got, host_frames["microwakeword"][:got.shape[0]], "xtensawin on the emulated Xtensa core")
    assert got.shape[0] == (pcm.size - 480) // 160 + 1
    print(f"Xtensa: {instructions / got.shape[0]:.0f} instructions per 10 ms frame (chunks of 1000, calls included)")
