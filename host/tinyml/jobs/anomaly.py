"""Anomaly detection on motor vibration: an autoencoder trained on normal running only, scored by how badly it
reconstructs the spectrum of a new window.

The sensor: an analog MEMS accelerometer (ADXL335: 330 mV/g at 3.3 V, zero g at 1.65 V, +-3.6 g, 150 ug/sqrt(Hz)
of noise) strapped to the motor housing, its X output on an ADC pin, sampled at 1000 Hz by the device runtime's
Sampler; 512 samples (0.512 s) a window. 1 kHz is what a Python sampling loop sustains on an ESP32, so the model
sees 0-500 Hz. Real bearing resonances are often in the kHz: this generator puts the housing's resonance at
220-460 Hz, where a 1 kHz sampler sees it (a faster sensor needs a higher RATE_HZ and new bands, nothing else).

Synthetic data (nothing can be downloaded here; the report says so). One window is one machine at one moment:
  - the motor: a 4-pole induction motor on 50 Hz mains, so the shaft turns at 25 Hz x (1 - slip), slip 0.5-5 %
    with the load (23.75-24.9 Hz), drifting a little within the window;
  - normal running: the residual imbalance at 1x (0.01-0.05 g, ISO 10816 zones A/B), 2x at 10-40 % of it, a
    little 3x, the magnetic vibration at twice the line frequency (100 Hz) growing with load, and broadband
    machine noise that rings the housing's structural resonance (220-460 Hz, damping time 3-8 ms);
  - faults, each with a severity from mild to severe:
      imbalance      1x grows to 0.08-0.30 g (zones C/D);
      misalignment   2x of 0.05-0.20 g above 1x, 3x at 20-50 % of that;
      looseness      harmonics 1x..10x and half harmonics (0.5x, 1.5x, ...), the waveform truncated (rattling);
      bearing_outer  impacts at BPFO ringing the resonance, constant amplitude (the defect sits in the load zone);
      bearing_inner  impacts at BPFI, amplitude modulated once per revolution (sidebands at +-1x);
      bearing_ball   impacts at 2 x BSF (a ball defect hits both races), modulated at the cage frequency FTF;
    BPFO/BPFI/BSF/FTF come from a 6205 deep-groove ball bearing (9 balls of 7.94 mm on a 39.04 mm pitch
    circle, contact angle 0): BPFO = 3.585 x, BPFI = 5.415 x, BSF = 2.357 x, FTF = 0.398 x the shaft speed;
    impact times jitter by 1 % (the balls slip);
  - the sensor: gain error +-5 %, zero-g offset +-50 mV, its noise, clipping at its +-3.6 g range, the ADC's
    own noise (2 mV rms) and 12-bit steps.

Features, identical on host and device: the window as the ADC reads it (read_u16 counts, minus 32768 into int16),
`tinyml.MotionFeatures(n=512, channels=1, bins=BINS, scale=3.3/65535)` (the same C, host/tinyml/motion.py), and
of its output only the 21 band energies (V^2), each taken as ln(E + 1e-10) with the port's math.log (host: Python's
math.log on the same float32 value, then rounded to float32, as array('f') does on the device).

The model (about 900 MACs, 7.5 KB as int8): the 21 log energies are standardized (a Normalization layer, fitted
on normal windows), encoded to 6 numbers and decoded back; the anomaly score it outputs is the mean over bands of
min(|difference| / 2, 1)^2 between its reconstruction and its input, in [0, 1]: a robust squared error (each band
counts at most 1, so one extreme band cannot dominate, and int8 keeps resolution for normal windows).
Training sees normal windows only; held-out data are normal windows and every fault. Metric: ROC AUC.

The user's recordings: DIR/normal/*.csv or *.npy (required) and optionally DIR/<fault>/*.csv|*.npy: one column,
volts at the ADC pin at 1000 Hz, one recording per file (cut into windows every 256 samples). Without fault
recordings (the usual case: a healthy motor), held-out normal windows get synthetic fault vibration added to
them, so the AUC is of your motor's normal against faults on your motor."""

import math
from pathlib import Path

import numpy as np

from .. import TinymlError
from .base import Dataset, Job, Sizes, read_table, windows

CLASSES = ("normal", "imbalance", "misalignment", "looseness", "bearing_outer", "bearing_inner", "bearing_ball")
FAULTS = CLASSES[1:]
RATE_HZ = 1000
WINDOW = 512
VREF = 3.3                      # the ADC's full scale (read_u16 65535)
BIAS_V = 1.65                   # ADXL335 zero g at half its 3.3 V supply
SENS_V_PER_G = 0.330
RANGE_G = 3.6
EPS = 1e-10                     # V^2 added before the log: silence stays finite
LOG_FLOOR = math.log(EPS)
# Band edges in Hz: narrow around 1x (~24.5 Hz), 2x, 3x, the bearing frequencies and 100 Hz; wide above
EDGES_HZ = (4, 16, 20, 30, 40, 45, 55, 65, 80, 95, 105, 125, 140, 170, 200, 240, 280, 320, 360, 400, 450, 500.1)
BINS = tuple((math.ceil(lo * WINDOW / RATE_HZ), min(math.ceil(hi * WINDOW / RATE_HZ), WINDOW // 2 + 1))
             for lo, hi in zip(EDGES_HZ[:-1], EDGES_HZ[1:]))
# 6205 bearing: balls, ball and pitch diameters (mm)
BALLS, BALL_D, PITCH_D = 9, 7.94, 39.04
BPFO = BALLS / 2 * (1 - BALL_D / PITCH_D)
BPFI = BALLS / 2 * (1 + BALL_D / PITCH_D)
BSF = PITCH_D / (2 * BALL_D) * (1 - (BALL_D / PITCH_D) ** 2)
FTF = 0.5 * (1 - BALL_D / PITCH_D)
LAYOUT = ("DIR/normal/*.csv or *.npy (required) and optionally DIR/<fault>/*.csv|*.npy, fault one of " +
          ", ".join(FAULTS) + f": one column of volts at the ADC pin at {RATE_HZ} Hz, one recording per file, at "
          f"least {WINDOW} samples")


def machine(rng):
    """One motor, its mounting and its sensor."""
    return {"load": rng.uniform(0.1, 1.0), "a1": rng.uniform(0.01, 0.05), "h2": rng.uniform(0.1, 0.4),
            "h3": rng.uniform(0.0, 0.1), "mag": rng.uniform(0.002, 0.02), "noise_g": rng.uniform(0.002, 0.008),
            "f_res": rng.uniform(220, 460), "tau": rng.uniform(0.003, 0.008), "gain": 1 + rng.uniform(-0.05, 0.05),
            "offset": rng.uniform(-0.05, 0.05), "phases": rng.uniform(0, 2 * np.pi, 16)}


def _ring(m, n=None):
    """The housing's impulse response: a decaying sinusoid at its resonance, unit peak."""
    n = n or int(6 * m["tau"] * RATE_HZ) + 1
    t = np.arange(n) / RATE_HZ
    return np.exp(-t / m["tau"]) * np.sin(2 * np.pi * m["f_res"] * t)


def _impacts(t, rate_hz, amp, m, rng, mod=None):
    """Impacts at `rate_hz` (1 % timing jitter) ringing the resonance; `mod`(times) scales each impact."""
    t0 = t[0] - rng.uniform(0, 1 / rate_hz)
    times = t0 + np.arange(int((t[-1] - t0) * rate_hz) + 2) / rate_hz
    times += rng.normal(0, 0.01 / rate_hz, len(times))
    times = times[(times >= t[0]) & (times <= t[-1])]
    a = amp * (mod(times) if mod is not None else np.ones(len(times))) * rng.uniform(0.8, 1.2, len(times))
    pulses = np.zeros(len(t))
    np.add.at(pulses, np.clip(np.round((times - t[0]) * RATE_HZ).astype(int), 0, len(t) - 1), a)
    return np.convolve(pulses, _ring(m))[:len(t)]


def shaft_hz(m, t):
    slip = 0.005 + 0.045 * m["load"]
    return 25.0 * (1 - slip) * (1 + 0.002 * np.sin(2 * np.pi * 0.3 * t + m["phases"][0]))


def normal_vibration(t, m, rng):
    """Acceleration in g of a healthy motor at times t (seconds, evenly spaced)."""
    fr = shaft_hz(m, t)
    theta = 2 * np.pi * np.cumsum(fr) / RATE_HZ + m["phases"][1]     # shaft angle
    a1 = m["a1"] * (0.8 + 0.4 * m["load"])
    x = a1 * np.sin(theta) + a1 * m["h2"] * np.sin(2 * theta + m["phases"][2])
    x += a1 * m["h3"] * np.sin(3 * theta + m["phases"][3])
    x += m["mag"] * m["load"] * np.sin(2 * np.pi * 100 * t + m["phases"][4])
    white = rng.normal(0, 1, len(t) + 64)
    rung = np.convolve(white, _ring(m))[64:64 + len(t)]
    x += m["noise_g"] * rung / np.sqrt(np.sum(_ring(m) ** 2))
    return x


def fault_vibration(t, m, fault, severity, rng):
    """The extra acceleration (g) a fault of `severity` (0..1) adds to machine m at times t."""
    fr = shaft_hz(m, t)
    theta = 2 * np.pi * np.cumsum(fr) / RATE_HZ + m["phases"][1]
    f0 = float(fr.mean())
    s = severity
    if fault == "imbalance":
        return (0.08 + 0.22 * s) * np.sin(theta + m["phases"][5])
    if fault == "misalignment":
        a2 = 0.05 + 0.15 * s
        return a2 * np.sin(2 * theta + m["phases"][6]) + a2 * rng.uniform(0.2, 0.5) * np.sin(3 * theta + m["phases"][7])
    if fault == "looseness":
        x = np.zeros(len(t))
        amp = 0.02 + 0.04 * s
        for k in range(1, 11):
            x += amp * rng.uniform(0.4, 1.0) / k ** 0.5 * np.sin(k * theta + m["phases"][k % 16])
            x += 0.5 * amp * rng.uniform(0.2, 1.0) / k * np.sin((k - 0.5) * theta + m["phases"][(k + 7) % 16])
        top = np.percentile(x, 100 - 20 * rng.uniform(0.5, 1.0))       # rattling: the part hits a stop
        return np.minimum(x, top) - np.mean(np.minimum(x, top) - x) + rng.normal(0, 0.01 * s, len(t))
    amp = 0.05 + 0.35 * s
    if fault == "bearing_outer":
        return _impacts(t, BPFO * f0, amp, m, rng) + 0.05 * amp * np.sin(2 * np.pi * BPFO * f0 * t)
    if fault == "bearing_inner":
        depth = rng.uniform(0.5, 1.0)
        return _impacts(t, BPFI * f0, amp, m, rng,
                        lambda ts: 1 - depth / 2 + depth / 2 * np.cos(2 * np.pi * f0 * ts + m["phases"][8]))
    if fault == "bearing_ball":
        depth = rng.uniform(0.5, 1.0)
        return _impacts(t, 2 * BSF * f0, amp, m, rng,
                        lambda ts: 1 - depth / 2 + depth / 2 * np.cos(2 * np.pi * FTF * f0 * ts + m["phases"][9]))
    raise TinymlError(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")


def to_volts(accel_g, m, rng):
    """What the ADC pin sees: the ADXL335's output (gain, offset, range), the ADC's noise and 12-bit steps."""
    g = np.clip(accel_g * m["gain"], -RANGE_G, RANGE_G)
    v = BIAS_V + m["offset"] + SENS_V_PER_G * (g + rng.normal(0, 150e-6 * np.sqrt(RATE_HZ / 2), len(g)))
    v += rng.normal(0, 0.002, len(v))
    return (np.clip(np.round(v / VREF * 4095), 0, 4095) * (VREF / 4095)).astype(np.float32)


def adc_counts(volts):
    """read_u16() of the simulated ADC for these volts (device/sim/sim_analog.py), as int16 (minus 32768): what
    the device app gives MotionFeatures."""
    v = np.clip(np.asarray(volts, np.float32).astype(np.float64), 0, VREF)
    return (np.floor(v * 65535 / VREF + 0.5).astype(np.int64) - 32768).astype(np.int16)


def log_energies(feats):
    """ln(E + EPS) per band energy, as the device computes it (math.log in the port's float, stored as
    float32)."""
    flat = np.asarray(feats, np.float32).ravel()
    out = np.array([math.log(float(e) + EPS) for e in flat], np.float32)
    return out.reshape(np.shape(feats))


def features_from_counts(counts):
    """[n, 512] int16 ADC counts (read_u16 - 32768) -> [n, 21] ln band energies: what the device computes
    (the counts are what device/examples/vibration_anomaly.py logs)."""
    from ..motion import HostMotionFeatures
    mf = HostMotionFeatures(WINDOW, 1, bins=BINS, scale=VREF / 65535)
    c = np.asarray(counts, np.int16).reshape(-1, WINDOW)
    return log_energies(mf.compute(c[..., None])[:, 4:])


def calibrated_threshold(wake_scores, k_sigma, sd_floor=0.005, margin=0.02):
    """The device app's threshold (millionths, an int) from its calibration wakes' scores, with its arithmetic:
    scores as int millionths, squares summed in millionths, max(mean + k sd, max + margin), sd >= sd_floor."""
    micro = 1000000
    su = [int(s * micro) for s in wake_scores]
    n, total, sq = len(su), sum(su), sum(u * u // micro for u in su)
    mean = total / n
    var = sq * micro / n - mean * mean
    sd = max(math.sqrt(var) if var > 0 else 0.0, sd_floor * micro)
    return int(max(mean + k_sigma * sd, max(su) + margin * micro))


class Anomaly(Job):
    def window(self, label, rng, m=None, severity=None):
        m = m or machine(rng)
        t = rng.uniform(0, 100) + np.arange(WINDOW) / RATE_HZ
        x = normal_vibration(t, m, rng)
        if label != "normal":
            x += fault_vibration(t, m, label, rng.uniform(0, 1) if severity is None else severity, rng)
        return to_volts(x, m, rng)

    def recording(self, segments, seed):
        """One motor recorded continuously [samples] in volts at RATE_HZ: `segments` is [(seconds, label)], each
        label 'normal' or a fault (at severity 0.5). What the simulated board's ADC plays back in the tests."""
        rng = np.random.default_rng(seed)
        m = machine(rng)
        total = sum(int(s * RATE_HZ) for s, _ in segments)
        t = np.arange(total) / RATE_HZ
        x = normal_vibration(t, m, rng)
        i = 0
        for secs, label in segments:
            n = int(secs * RATE_HZ)
            if label != "normal":
                x[i:i + n] += fault_vibration(t[i:i + n], m, label, 0.5, rng)
            i += n
        return to_volts(x, m, rng)

    def synthesize(self, n, seed) -> Dataset:
        """Half normal windows, half faults (evenly over the fault types): training keeps the normal ones."""
        rng = np.random.default_rng(seed)
        y = np.where(rng.random(n) < 0.5, 0, rng.integers(1, len(CLASSES), n))
        x = np.stack([self.window(CLASSES[k], rng) for k in y])
        return Dataset(x, y, CLASSES, synthetic=True, source=f"synthesized (seed {seed}; host/tinyml/jobs/anomaly.py)")

    def load(self, data_dir) -> Dataset:
        data_dir = Path(data_dir)
        if not (data_dir / "normal").is_dir():
            raise TinymlError(f"--data {data_dir}: no folder 'normal' of recordings of the motor running normally. "
                              f"Expected: {LAYOUT}")
        xs, ys, groups = [], [], []
        rng = np.random.default_rng(0)
        faults_recorded = False
        for sub in sorted(p for p in data_dir.iterdir() if p.is_dir()):
            if sub.name not in CLASSES:
                raise TinymlError(f"--data {data_dir}: folder {sub.name!r} is not 'normal' or a fault "
                                  f"({', '.join(FAULTS)}). Expected: {LAYOUT}")
            label = CLASSES.index(sub.name)
            faults_recorded |= label > 0
            for path in sorted(p for p in sub.iterdir() if p.suffix in (".csv", ".npy")):
                rec = read_table(path, 1)[:, 0]
                ws = windows(rec, WINDOW, WINDOW // 2)
                if not ws:
                    raise TinymlError(f"{path}: {len(rec)} samples, shorter than one window of {WINDOW}: record "
                                      f"at least {WINDOW / RATE_HZ:.1f} s")
                g = len(set(groups)) if groups else 0
                for w in ws:
                    xs.append(w)
                    ys.append(label)
                    groups.append(g)
        if not any(y == 0 for y in ys):
            raise TinymlError(f"--data {data_dir}: no recordings in 'normal'. Expected: {LAYOUT}")
        if not faults_recorded:
            # Faults on this motor: its normal windows plus a fault's vibration (same group: the same side of
            # the split, so no normal window seen in training comes back held out with a fault on it).
            base = list(zip(xs, groups))
            for k, (w, g) in enumerate(base):
                fault = FAULTS[k % len(FAULTS)]
                m = machine(rng)
                t = rng.uniform(0, 100) + np.arange(WINDOW) / RATE_HZ
                extra = fault_vibration(t, m, fault, rng.uniform(0, 1), rng) * SENS_V_PER_G
                xs.append(np.clip(w + extra, 0, VREF).astype(np.float32))
                ys.append(CLASSES.index(fault))
                groups.append(g)
        source = str(data_dir) + ("" if faults_recorded else " (+ synthetic faults added to its normal windows)")
        return Dataset(np.stack(xs).astype(np.float32), np.array(ys), CLASSES, np.array(groups), synthetic=False,
                       source=source)

    def features(self, x):
        """[n, 512] volts -> [n, 21] ln band energies, as the device app computes them."""
        return features_from_counts(adc_counts(x))

    def representative(self, x_fit, rng):
        """Normal windows, and as many with bands raised or lowered by up to e^7 (x1100 in energy): the int8
        ranges must hold the faults' spectra, which training never sees, or they would be clipped to normal."""
        base = x_fit[rng.permutation(len(x_fit))[:200]]
        wide = base.copy()
        mask = rng.random(wide.shape) < 0.3
        wide[mask] += rng.uniform(-3, 7, mask.sum()).astype(np.float32)
        return np.concatenate([base, np.maximum(wide, LOG_FLOOR)]).astype(np.float32)

    def build_model(self, input_shape, n_classes, board):
        """Normalize -> 16 -> 6 -> 16 -> reconstruction; score = mean(min(|recon - z| / 2, 1)^2). The bound is
        made of RELU6 (6 min(|d| / 2, 1) = relu6(3d) + relu6(-3d)), not TANH: TF Lite's int8 TANH is a lookup
        table, TFLM's (and the engine's) an integer formula, and the two differ by one step now and then."""
        import tensorflow as tf
        L = tf.keras.layers
        d = int(input_shape[-1])
        inp = tf.keras.Input(shape=input_shape)
        z = L.Normalization(name="normalize")(inp)
        h = L.Dense(16, activation="relu")(z)
        h = L.Dense(6, name="code")(h)
        h = L.Dense(16, activation="relu")(h)
        r = L.Dense(d, name="reconstruction")(h)
        diff = L.Subtract(name="diff")([r, z])
        pos = L.ReLU(max_value=6.0)(L.Rescaling(3.0)(diff))
        neg = L.ReLU(max_value=6.0)(L.Rescaling(-3.0)(diff))
        bounded = L.Add()([pos, neg])                   # 6 min(|diff| / 2, 1)
        sq = L.Multiply()([bounded, bounded])
        score = L.Dense(1, use_bias=False, trainable=False, name="score",
                        kernel_initializer=tf.keras.initializers.Constant(1.0 / (36.0 * d)))(sq)
        return tf.keras.Model(inp, score)

    def fit(self, model, x, y, x_val, y_val, epochs, callbacks):
        """Fit the normalization on normal windows, train the autoencoder to reproduce them (MSE), then set the
        default threshold: the 99.5th percentile of the training windows' scores (the device calibrates its
        own)."""
        import tensorflow as tf
        model.get_layer("normalize").adapt(x)
        trainer = tf.keras.Model(model.input, model.get_layer("diff").output)
        trainer.compile(optimizer=tf.keras.optimizers.Adam(self.extra.get("lr", 3e-3)), loss="mse")
        zeros = np.zeros_like(x)
        hist = trainer.fit(x, zeros, validation_data=(x_val, np.zeros_like(x_val)), epochs=epochs, batch_size=64,
                           verbose=0, callbacks=callbacks, shuffle=True)
        scores = model.predict(x, verbose=0, batch_size=512)[:, 0]
        self.extra["threshold"] = round(float(np.percentile(scores, 99.5)), 4)
        return hist

    # --- scoring -----------------------------------------------------------------------------------------
    def decide(self, outputs):
        """1 (anomaly) where the score is above the default threshold, else 0."""
        return (np.asarray(outputs)[:, 0] > self.extra.get("threshold", 0.5)).astype(int)

    def score(self, outputs, y):
        return auc(np.asarray(outputs)[:, 0], np.asarray(y) != 0)

    def report_extra(self, ev, test_ds):
        s, y = ev["engine_outputs"][:, 0], test_ds.y
        normal = s[y == 0]
        at_1pct = float(np.quantile(normal, 0.99))
        per_fault = {}
        for k, name in enumerate(CLASSES[1:], 1):
            if (y == k).any():
                per_fault[name] = {"auc": round(auc(np.concatenate([normal, s[y == k]]),
                                                    np.r_[np.zeros(len(normal)), np.ones((y == k).sum())] > 0), 4),
                                   "detected_at_1pct_false_alarms": round(float((s[y == k] > at_1pct).mean()), 4),
                                   "windows": int((y == k).sum())}
        return {"per_fault": per_fault, "threshold_default": self.extra.get("threshold"),
                "threshold_1pct_false_alarms": round(at_1pct, 4),
                "false_alarms_at_default": round(float((normal > self.extra.get("threshold", 0.5)).mean()), 4)}

    def plots(self, ev, test_ds, out_dir):
        from ..train_report import _pyplot
        plt = _pyplot()
        s, y = ev["engine_outputs"][:, 0], test_ds.y
        fpr, tpr = roc_curve(s, y != 0)
        fig, ax = plt.subplots(figsize=(4.2, 4), dpi=110)
        ax.plot(fpr, tpr, label=f"all faults (AUC {ev['engine']:.3f})", lw=2)
        for k, name in enumerate(CLASSES[1:], 1):
            if (y == k).any():
                sel = (y == 0) | (y == k)
                f, t = roc_curve(s[sel], y[sel] != 0)
                ax.plot(f, t, lw=1, alpha=0.7, label=name)
        ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls=":")
        ax.set_xlabel("false alarm rate (normal windows flagged)")
        ax.set_ylabel("detection rate")
        ax.set_title("ROC on held-out windows (engine, int8)", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(Path(out_dir) / "roc.png")
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
        bins = np.linspace(0, max(float(s.max()), 1e-3) * 1.02, 50)
        for k, name in enumerate(CLASSES):
            if (y == k).any():
                ax.hist(s[y == k], bins=bins, histtype="step", lw=2 if k == 0 else 1.2, label=name)
        ax.axvline(self.extra.get("threshold", 0.5), color="k", ls="--", lw=1, label="default threshold")
        ax.set_yscale("log")
        ax.set_xlabel("anomaly score (engine, int8)")
        ax.set_ylabel("windows")
        ax.set_title("Anomaly score per kind of window (held out)", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(Path(out_dir) / "scores.png")
        plt.close(fig)
        return {"ROC curve": "roc.png", "score histogram per fault": "scores.png"}


def auc(scores, positive):
    """ROC AUC = P(score of a positive > score of a negative), ties counting half (Mann-Whitney U)."""
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        raise TinymlError("AUC needs held-out windows of both normal running and faults")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_s = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores, positive):
    """(false positive rates, true positive rates) over every threshold."""
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    thr = np.r_[np.inf, np.unique(scores)[::-1]]
    tpr = np.array([(scores[positive] >= t).mean() for t in thr])
    fpr = np.array([(scores[~positive] >= t).mean() for t in thr])
    return fpr, tpr


JOB = Anomaly(
    name="anomaly", title="Anomaly detection (motor vibration, autoencoder)", metric="auc", target=0.95,
    quick=Sizes(train=2400, test=800, epochs=12), full=Sizes(train=20000, test=7000, epochs=60),
    data_layout=LAYOUT, train_classes=("normal",),
    extra={"lr": 3e-3, "rate_hz": RATE_HZ, "window": WINDOW, "bins": [list(b) for b in BINS], "eps": EPS,
           "vref": VREF, "adc_pin": 34, "calibration_wakes": 18, "k_sigma": 5.0, "classes": CLASSES})
