"""Spoken test audio: espeak-ng's synthetic speech at 16 kHz, for the keyword-spotting and voice-activity tests
(espeak-ng is a Debian package `make setup` installs; without it they fail, naming it)."""

import io
import shutil
import subprocess
import wave

import numpy as np

RATE = 16000


def say(text, voice, speed=140) -> np.ndarray:
    """espeak-ng's speech of `text` in `voice` at `speed` words a minute, resampled from its 22,050 Hz to 16 kHz
    by FFT, as float samples (int16 scale)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: run `make setup` (apt-get install espeak-ng)"
    wav = subprocess.run([espeak, "-v", voice, "-s", str(speed), "--stdout", text], capture_output=True,
                         check=True).stdout
    with wave.open(io.BytesIO(wav)) as f:
        rate = f.getframerate()
        x = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float64)
    n = int(round(len(x) * RATE / rate))
    spec = np.fft.rfft(x)
    out = np.zeros(n // 2 + 1, complex)
    k = min(len(spec), len(out))
    out[:k] = spec[:k]
    return np.fft.irfft(out, n) * n / len(x)
