"""The examples of the device runtime (device/examples/) end to end on the simulated board, through the CLI
(`tinyml run --board unix-sim ... --boots N --clock virtual`), fed by generated recordings: wake-on-sound (a
comparator on a wake pin and the I2S microphone). The job apps have their tests with their jobs: thermal presence
in tests/test_train_visual.py, the vibration anomaly monitor in tests/test_train_anomaly.py."""

import re
import subprocess
import sys
import wave

import numpy as np

from conftest import REPO


def tinyml_run(script, *args, boots):
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "run", "--board", "unix-sim", script, *args,
                           "--boots", str(boots), "--clock", "virtual"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _sounds(path, events=((1.5, 0.6), (4.0, 0.8)), seconds=7.0, rate=16000):
    """Quiet room noise with bursts of a 1 kHz tone (amplitude 0.5 of full scale) at `events` (start, length)."""
    rng = np.random.default_rng(11)
    x = rng.normal(0, 60, int(seconds * rate))
    t = np.arange(len(x)) / rate
    for start, length in events:
        on = (t >= start) & (t < start + length)
        x[on] += 16384 * np.sin(2 * np.pi * 1000 * t[on])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())


def test_wake_on_sound_records_each_burst(tmp_path):
    _sounds(tmp_path / "sounds.wav")
    out = tinyml_run("device/examples/wake_on_sound.py", "--data", f"mic={tmp_path / 'sounds.wav'}",
                     "--no-engine", boots=4)
    boots = re.findall(r"\[unix-sim\] boot (\d): reset cause (\w+), wake reason ([^,]+), t=([\d.]+) s", out)
    assert [b[2] for b in boots] == ["none", "ext0 (pin)", "ext0 (pin)"], out
    # Woken at the start of each burst (to a 5 ms envelope window)
    assert abs(float(boots[1][3]) - 1.5) < 0.01 and abs(float(boots[2][3]) - 4.0) < 0.01
    clips = re.findall(r"REPORT clip (\d): 500 ms at 16000 Hz, peak (-?[\d.]+) dBFS, rms (-?[\d.]+) dBFS", out)
    assert [c[0] for c in clips] == ["1", "2"]
    for _, peak, rms in clips:
        # a 0.5-of-full-scale sine: peak -6 dBFS, rms -9 dBFS (the clip starts 70 ms into a burst of >= 600 ms)
        assert abs(float(peak) + 6.0) < 0.3 and abs(float(rms) + 9.0) < 0.3
    # After the last burst nothing wakes it
    assert "deep sleep with no wake source that will fire" in out
