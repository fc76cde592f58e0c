"""Synthetic speech and rooms for the keyword-spotting job (host/tinyml/jobs/kws.py): "Hey IoT" and everything
that is not it, as a 16 kHz microphone in a room would hear it. Nothing is downloaded: the voices are espeak-ng's
(a Debian package `make setup` installs), the rooms and the noise are generated here.

Speech. espeak-ng says each phrase with a voice drawn from every English voice it has (en-us, en-gb, Scotland,
RP, Lancaster, West Midlands, Caribbean, New York) crossed with every voice variant it ships (`espeak-ng
--voices=variant`: m1-m7, f1-f5, and ~90 named ones, including whispers and robots), at 140-230 words a minute
and pitch 20-80. Utterances are cached under build/kws-speech/ (the key is the whole bank's description and
espeak-ng's version), so only the first run pays espeak-ng's ~60 ms a phrase.

Rooms. Each utterance gets: a room impulse response (a direct path, then exponentially decaying noise with an
RT60 of 0.1-0.7 s, mixed 0-60 % wet), a level of -38 to -14 dBFS, a place in time, and a background at 3-30 dB
below it: white, pink or brown noise, mains hum with harmonics, "music" (chords of harmonic tones with note
envelopes), or babble (other espeak-ng speech, quieter). Everything ends as int16 PCM, clipped as an ADC clips.

What this cannot give: real microphones' frequency responses, real rooms' early reflections, real accents
beyond espeak-ng's formant synthesis. The report says the data are synthetic; the tutorial says what to do
with real recordings."""

import functools
import hashlib
import io
import os
import re
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import TinymlError
from ..paths import BUILD

RATE = 16000
KEYWORD = "hey IoT"
# What espeak-ng is told for phrases its spelling would misread (phoneme mnemonics in [[ ]]). "IoT" is three
# letter names, I O T, as espeak-ng itself reads an acronym (`,aI,oUt'i:`, what it says for "okay IOT"). Told
# "hey I O T" it reads the pronoun "I", unstressed, and its Caribbean voice (en-029) then says that "I" almost
# as the "a" of "hey A O T": a keyword nearly identical to a negative (docs/tutorials/kws.md, section 4).
# Told "hey IOT" it says one word ('I;@t), and "hey IoT" ('i:;oU t'i:).
SPOKEN = {"hey IoT": "[[h'eI ,aI,oUt'i:]]", "IoT": "[[,aI,oUt'i:]]", "okay IoT": "[[oUk'eI ,aI,oUt'i:]]",
          "a IoT": "[[a# ,aI,oUt'i:]]", "hey AOT": "[[h'eI ,eI,oUt'i:]]", "hey IoU": "[[h'eI ,aI,oUj'u:]]",
          "hey EoT": "[[h'eI ,i:,oUt'i:]]", "hey IoD": "[[h'eI ,aI,oUd'i:]]"}
# Said instead of the keyword: confusable phrases (parts of it, rhymes, other wake words) and ordinary speech.
CONFUSABLE = ("hey", "I O T", "hey I", "hey eye doctor", "hey I O U", "hey I owe you", "hey Iowa", "hey a toy",
              "hey Tony", "hey ET", "okay I O T", "hey I B M", "hi I O", "a I O T", "hey idiot", "hey audio",
              "hey A O T", "IoT", "okay IoT", "a IoT", "hey AOT", "hey IoU", "hey Siri", "hey Google",
              "hey Jarvis", "alexa", "okay nabu", "hey Mycroft", "eighty", "heyday", "hey you there",
              "hey what is it", "I owe tea", "the eye of T", "hay I", "hey ho")
OTHER = ("turn on the kitchen light", "what time is it", "set a timer for ten minutes", "good morning",
         "play some music", "the weather is nice today", "open the door", "how are you", "one two three four",
         "seven eight nine", "please call my mother", "it is raining outside", "stop", "yes", "no", "thank you",
         "hello there", "the quick brown fox", "where are my keys", "dinner is ready", "volume up",
         "temperature", "internet of things", "I think so", "can you hear me", "this is a test", "light off",
         "battery low", "tomorrow at noon", "okay", "later", "maybe", "right now", "go to sleep")
# Training only: the phrases a model trained without this bank took for the keyword most often on held-out
# streams ("hey A O T" and "okay I O T" gave 19 of its 27 false accepts; then "hey I B M", "hey I O U", a few
# everyday ones), and near-misses that differ from "hey I O T" in one sound. Only training draws from this bank
# (a quarter of its non-keyword speech); held-out and validation streams keep CONFUSABLE and OTHER at their
# usual weights, with other voices.
HARD = ("hey A O T", "okay I O T", "hey I O U", "hey I B M", "the eye of T", "hey I owe you", "a I O T", "I O T",
        "hey eye doctor", "hey Iowa", "I owe tea", "hey Siri", "hey audio", "where are my keys", "tomorrow at noon",
        "hey I O D", "hey I O P", "hey A I", "hey E O T", "okay I O U",
        "IoT", "okay IoT", "a IoT", "hey AOT", "hey IoU", "hey EoT", "hey IoD")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")


def espeak():
    exe = shutil.which("espeak-ng")
    if not exe:
        raise TinymlError("espeak-ng is missing (the keyword job's speech): run `make setup` "
                          "(it installs the Debian package espeak-ng)")
    return exe


@functools.lru_cache(maxsize=None)
def variants():
    """Every voice variant espeak-ng ships (`espeak-ng --voices=variant`), sorted: m1..m7, f1..f5, named ones."""
    out = subprocess.run([espeak(), "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = sorted({m.group(1) for m in re.finditer(r"!v/(\S+)", out)})
    if not names:
        raise TinymlError("espeak-ng lists no voice variants: reinstall it with `make setup`")
    return tuple(names)


@functools.lru_cache(maxsize=None)
def espeak_version():
    return subprocess.run([espeak(), "--version"], capture_output=True, text=True).stdout.strip()


def resample_to_16k(x, rate):
    from scipy.signal import resample_poly
    g = np.gcd(RATE, rate)
    return resample_poly(x, RATE // g, rate // g)


def say(text, voice, speed, pitch):
    """One phrase as float32 samples at 16 kHz, silence trimmed to 20 ms each side."""
    wav = subprocess.run([espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout",
                          SPOKEN.get(text, text)], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as f:
        rate = f.getframerate()
        x = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float64)
    x = resample_to_16k(x, rate)
    loud = np.flatnonzero(np.abs(x) > 0.02 * max(np.abs(x).max(), 1))
    if len(loud):
        x = x[max(loud[0] - 320, 0):loud[-1] + 320]
    return (x / max(np.abs(x).max(), 1)).astype(np.float32)      # peak 1: levels are set when mixing


def voice_draws(n, rng):
    """n (voice, speed, pitch) draws across every accent and variant."""
    vs = variants()
    return [(f"{ACCENTS[rng.integers(len(ACCENTS))]}+{vs[rng.integers(len(vs))]}", int(rng.integers(140, 231)),
             int(rng.integers(20, 81))) for _ in range(n)]


def bank_spec(kind, n, seed):
    """What bank(kind, n, seed) says: [(text, voice, speed, pitch)] per utterance."""
    rng = np.random.default_rng([seed, ("keyword", "confusable", "other", "hard").index(kind)])
    texts = {"keyword": (KEYWORD,), "confusable": CONFUSABLE, "other": OTHER, "hard": HARD}[kind]
    return [(texts[rng.integers(len(texts))], *v) for v in voice_draws(n, rng)]


def bank(kind, n, seed):
    """n utterances of `kind` ("keyword", "confusable", "other", "hard"): a list of float32 arrays, cached on
    disk."""
    return _said(bank_spec(kind, n, seed), f"{kind}-{n}")


def phrase_bank(text, n, seed):
    """`text` said by n voices (voice_draws from `seed`): the same voices for every text of one seed, so the
    utterances of two texts differ only in what is said."""
    voices = voice_draws(n, np.random.default_rng([seed, 7]))
    return _said([(text, *v) for v in voices], "phrase-" + re.sub(r"\W+", "_", text) + f"-{n}")


def _said(spec, name):
    """The utterances of spec [(text, voice, speed, pitch)], made by espeak-ng once and then read from the
    disk cache (the key covers the spec and espeak-ng's version)."""
    spoken = [(SPOKEN.get(text, text), *v) for text, *v in spec]
    key = hashlib.sha256(repr((spoken, espeak_version(), RATE, 2)).encode()).hexdigest()[:20]
    path = BUILD / "kws-speech" / f"{name}-{key}.npz"
    if not path.exists():
        with ThreadPoolExecutor(4) as pool:       # espeak-ng is a process per phrase: keep both cores busy
            out = list(pool.map(lambda s: say(*s), spec))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f"{path.stem}.{os.getpid()}.tmp.npz"     # two processes may make the same bank
        np.savez(tmp, flat=np.round(np.concatenate(out) * 32767).astype(np.int16),
                 ends=np.cumsum([len(u) for u in out]))
        tmp.replace(path)
    # always what the cache holds (16-bit), so a first run and a cached one make the same data
    with np.load(path) as z:
        flat, ends = z["flat"], z["ends"]
    return np.split(flat.astype(np.float32) / 32767, ends[:-1])


# --- rooms and backgrounds ---------------------------------------------------------------------------------

def room(x, rng):
    """x in a room: a synthetic impulse response (direct path + decaying noise tail), 0-60 % wet."""
    rt60 = rng.uniform(0.1, 0.7)
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = rng.normal(0, 1, n) * 10 ** (-3 * t / rt60)      # -60 dB at rt60
    tail[: int(0.003 * RATE)] = 0                           # first reflections arrive after ~1 m of travel
    ir = tail / np.sqrt(np.sum(tail ** 2))
    wet = rng.uniform(0, 0.6)
    from scipy.signal import fftconvolve
    y = (1 - wet) * x + wet * fftconvolve(x, ir)[: len(x)]
    return y


def _colored(n, rng, exponent):
    spec = np.fft.rfft(rng.normal(0, 1, n))
    f = np.arange(len(spec), dtype=float)
    f[0] = 1
    y = np.fft.irfft(spec / f ** (exponent / 2), n)
    return y / (np.std(y) + 1e-9)


def background(n, rng, babble=None):
    """n samples of one kind of background, unit RMS."""
    kind = rng.choice(["white", "pink", "brown", "hum", "music", "babble", "quiet"])
    t = np.arange(n) / RATE
    if kind in ("white", "pink", "brown", "quiet"):
        y = _colored(n, rng, {"white": 0, "pink": 1, "brown": 2, "quiet": 1}[kind])
    elif kind == "hum":
        f0 = rng.choice([50.0, 60.0])
        y = sum(rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) for k in range(1, 8))
        y = y + 0.3 * _colored(n, rng, 1)
    elif kind == "music":
        y = np.zeros(n)
        pos = 0
        while pos < n:
            dur = int(rng.uniform(0.15, 0.6) * RATE)
            seg = np.arange(min(dur, n - pos)) / RATE
            env = np.exp(-seg * rng.uniform(2, 8)) * np.minimum(seg * 200, 1)
            root = 110 * 2 ** (rng.integers(0, 24) / 12)
            for semis in rng.choice([0, 3, 4, 7, 10, 12], size=3, replace=False):
                f = root * 2 ** (semis / 12)
                y[pos:pos + len(seg)] += env * sum(np.sin(2 * np.pi * f * h * seg) / h ** 1.5 for h in (1, 2, 3))
            pos += len(seg)
        y = y + 0.05 * _colored(n, rng, 1)
    else:   # babble: two or three other voices at once
        y = np.zeros(n)
        for _ in range(rng.integers(2, 4)):
            pos = int(rng.integers(-RATE // 2, max(n // 2, 1)))
            while pos < n:
                u = babble[rng.integers(len(babble))]
                a, b = max(pos, 0), min(pos + len(u), n)
                if b > a:
                    y[a:b] += u[a - pos:b - pos]
                pos += len(u) + int(rng.uniform(0.05, 0.4) * RATE)
        y = y + 0.02 * _colored(n, rng, 1)
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-9), kind


def scene(n, rng, speech=(), babble=None):
    """int16 PCM [n]: a background, and each (utterance, start sample) of `speech` in a room at one level."""
    level = 32768 * 10 ** (rng.uniform(-38, -14) / 20)           # the speech's RMS
    snr = rng.uniform(3, 30)
    bg, kind = background(n, rng, babble)
    quiet_floor = 32768 * 10 ** (-70 / 20)                      # a microphone's self-noise
    x = bg * max(level / 10 ** (snr / 20) * (0.2 if kind == "quiet" else 1), quiet_floor)
    for u, start in speech:
        u = room(u.astype(np.float64), rng)
        u = u * level / (np.sqrt(np.mean(u ** 2)) + 1e-9)
        a, b = max(start, 0), min(start + len(u), n)
        if b > a:
            x[a:b] += u[a - start:b - start]
    x = x * 10 ** (rng.uniform(-3, 3) / 20)                      # gain of the microphone's preamp
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)
