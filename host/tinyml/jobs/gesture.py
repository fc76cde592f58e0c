"""Gesture recognition from a 3-axis accelerometer held in the hand ("magic wand"): 64 samples at 50 Hz (1.28 s),
five classes.

Synthetic data (nothing can be downloaded here, and the report says so). Each gesture is a path drawn in the
air, in a vertical plane in front of the person:
  - circle: a loop, either direction;        - wing: a "W" of four strokes;
  - slope: an "L", down then right;           - shake: fast back-and-forth along the forearm;
  - idle: no gesture: a still hand with tremor, slow drift and small aimless movements (the negatives).
A stroke moves with a minimum-jerk profile (how people move a hand between two points), so acceleration is
smooth and zero at rest. Per person and per repetition: size, duration, start time in the window, slant and
aspect of the shape, the plane's yaw, how the device sits in the hand (roll and pitch, up to 35 degrees), a
wrist that turns while drawing, sensor noise, per-axis bias and gain error, the sensor's +-2 g range and its
16-bit counts (an MPU6050 at 16384 counts per g), and a sample clock off by up to 2 % with per-sample jitter.

The accelerometer reads specific force in the sensor's frame: R^T (a + g) in units of g, so a still, flat
device reads (0, 0, 1).

The model input is the window itself in g, exactly what the device's driver gives (`MPU6050.to_g`): counts
times 1/16384, with no other processing on either side. The user's recordings: DIR/<class>/*.csv (or .npy),
rows of ax,ay,az in g at 50 Hz, one gesture per file (longer files are cut into windows every 32 samples)."""

import numpy as np

from .base import Dataset, Job, Sizes, read_table, windows

CLASSES = ("idle", "circle", "wing", "slope", "shake")
RATE_HZ = 50
WINDOW = 64
AXES = 3
COUNTS_PER_G = 16384        # MPU6050 / LSM6DS at +-2 g
RANGE_G = 2.0
LAYOUT = ("DIR/<class>/*.csv or *.npy, class one of " + ", ".join(CLASSES) +
          f": rows of ax,ay,az in g at {RATE_HZ} Hz (a header line is allowed), one gesture per file")


# Length of each shape drawn at size 1 (circle: diameter 1; wing: 4 strokes in a unit square; slope: 2 sides)
PATH_LENGTH = {"circle": np.pi, "wing": 4 * np.hypot(0.25, 0.8), "slope": 1.9}


def min_jerk(tau):
    """Position along a stroke (0..1) at normalized time tau (0..1), zero velocity and acceleration at both ends."""
    tau = np.clip(tau, 0.0, 1.0)
    return tau ** 3 * (10 - 15 * tau + 6 * tau ** 2)


def _strokes(points, t, weights=None):
    """Position [len(t), 2] along a polyline drawn stroke by stroke, each with a minimum-jerk profile; t in 0..1
    over the whole gesture, each stroke's share of time proportional to its length (or `weights`)."""
    points = np.asarray(points, float)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1) if weights is None else np.asarray(weights, float)
    edges = np.concatenate([[0], np.cumsum(seg) / seg.sum()])
    out = np.repeat(points[:1], len(t), axis=0).astype(float)
    for i in range(len(seg)):
        s = min_jerk((t - edges[i]) / (edges[i + 1] - edges[i]))
        out += s[:, None] * (points[i + 1] - points[i])
    return out


def _rotation(roll, pitch, yaw):
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


class Gesture(Job):
    def path(self, label, t, rng, start=None, span=None):
        """Hand position [len(t), 3] in metres (x right, y forward, z up) at times t (seconds) for one gesture,
        and the fraction of the gesture done at each t (for the wrist's turn). The gesture starts at `start`
        seconds, by default anywhere from 0.08 s before the window (a board woken by the motion starts sampling
        late) to where it still ends inside a window of `span` seconds (default t[-1])."""
        size = rng.uniform(0.15, 0.35)
        # people draw at 0.6-1.4 m/s: a big "W" takes longer than a small "L"
        dur = float(np.clip(PATH_LENGTH.get(label, 1.5) * size / rng.uniform(0.6, 1.4), 0.6, 1.1))
        if start is None:
            span = t[-1] if span is None else span
            start = rng.uniform(-0.08, max(span - dur, 0) + 0.02)
        u = (t - start) / dur
        aspect, slant = rng.uniform(0.7, 1.3), rng.uniform(-0.25, 0.25)
        if label == "circle":
            turn = rng.choice([-1, 1]) * 2 * np.pi * min_jerk(u)
            phase = rng.uniform(0, 2 * np.pi)
            xy = 0.5 * np.stack([np.cos(phase + turn) - np.cos(phase), np.sin(phase + turn) - np.sin(phase)], 1)
        elif label == "wing":
            mid = rng.uniform(0.45, 0.75)
            xy = _strokes([(0, 1), (0.25, 0), (0.5, mid), (0.75, 0), (1, 1)], u)
        elif label == "slope":
            xy = _strokes([(0, 1), (0, 0), (rng.uniform(0.7, 1.1), 0)], u)
        elif label == "shake":      # back and forth along the forearm at 3-6.5 Hz
            f = rng.uniform(3.0, 6.5)
            amp = rng.uniform(0.01, 0.03)
            env = min_jerk(u * 4) * min_jerk((1 - u) * 4)
            pos = np.zeros((len(t), 3))
            pos[:, 1] = amp * env * np.sin(2 * np.pi * f * (t - start))
            return pos @ _rotation(0, 0, rng.uniform(-0.4, 0.4)).T, np.clip(u, 0, 1)
        elif label == "rest":       # the board lying still (a recording's pauses): no motion at all
            return np.zeros((len(t), 3)), np.zeros(len(t))
        else:   # idle: tremor, drift and an aimless small movement now and then
            pos = np.zeros((len(t), 3))
            if rng.random() < 0.5:
                a, b = rng.normal(0, 0.015, (2, 3))
                pos += _strokes([(0, 0), (1, 0)], u)[:, :1] * a + min_jerk((t - start - dur) / dur)[:, None] * b
            f = rng.uniform(8, 12)
            pos += rng.uniform(0, 4e-4) * np.sin(2 * np.pi * f * t[:, None] + rng.uniform(0, 6.3, 3))
            return pos, np.zeros(len(t))
        xy = xy * size * np.array([aspect, 1 / aspect])
        xy[:, 0] += slant * xy[:, 1]
        pos = np.stack([xy[:, 0], np.zeros(len(t)), xy[:, 1]], 1)
        return pos @ _rotation(0, 0, rng.uniform(-0.35, 0.35)).T, np.clip(u, 0, 1)

    def person(self, rng):
        """How one person holds one device: its tilt in the hand, and the sensor's gain error, bias and noise."""
        return {"roll": rng.uniform(-0.6, 0.6), "pitch": rng.uniform(-0.6, 0.6),
                "gain": 1 + rng.uniform(-0.03, 0.03, 3), "bias": rng.uniform(-0.05, 0.05, 3),
                "noise": rng.uniform(0.005, 0.02)}

    def window(self, label, rng, n=WINDOW, start=None, person=None) -> np.ndarray:
        """One recording [n, 3] float32 in g, as the driver returns it (16-bit counts at +-2 g, over 1/16384)."""
        who = person or self.person(rng)
        rate = RATE_HZ * (1 + rng.uniform(-0.02, 0.02))
        t = np.arange(n) / rate + rng.normal(0, 0.002, n)
        h = 1e-3
        # the same path at t - h, t, t + h (same random draws: same seed) for the acceleration by central
        # differences. The three must draw the same start: one drawn in the span of each call's own times moved
        # with them (by u*h for a start u of the way along its range), which scaled the acceleration by (1 - u)^2:
        # a third of the hand's acceleration on average, next to none for a late start (a still hand, labelled
        # a gesture: nearly all of the model's errors were such windows).
        seed = rng.integers(1 << 62)
        span = float(t[-1])
        pm, _ = self.path(label, t - h, np.random.default_rng(seed), start, span)
        p0, progress = self.path(label, t, np.random.default_rng(seed), start, span)
        pp, _ = self.path(label, t + h, np.random.default_rng(seed), start, span)
        acc = (pp - 2 * p0 + pm) / (h * h) / 9.81            # in g, world frame
        wrist = rng.uniform(-0.25, 0.25) * 4 * progress * (1 - progress)   # the wrist turns, then turns back
        world = acc + np.array([0.0, 0.0, 1.0])
        # the sensor frame at each sample: R(roll + wrist, pitch)^T @ world (rotations about x, then y)
        roll = who["roll"] + wrist
        cr, sr, cp, sp = np.cos(roll), np.sin(roll), np.cos(who["pitch"]), np.sin(who["pitch"])
        x1 = cp * world[:, 0] - sp * world[:, 2]             # R_y^T
        z1 = sp * world[:, 0] + cp * world[:, 2]
        out = np.stack([x1, cr * world[:, 1] + sr * z1, -sr * world[:, 1] + cr * z1], 1)
        out = out * who["gain"] + who["bias"] + rng.normal(0, who["noise"], out.shape)
        counts = np.clip(np.round(out * COUNTS_PER_G), -32768, 32767)
        return (counts / COUNTS_PER_G).astype(np.float32)

    def recording(self, labels, seed, lead_s=1.0, gap_s=4.0):
        """A continuous stream [rows, 3] in g at RATE_HZ, as one person holding one device would record it: at rest
        for lead_s, then each gesture of `labels` starting a segment of gap_s seconds (the rest still). What the
        simulated board's IMU plays back in the demo and the tests."""
        rng = np.random.default_rng(seed)
        who = self.person(rng)
        segs = [self.window("rest", rng, n=int(lead_s * RATE_HZ), start=1e9, person=who)]
        for label in labels:
            segs.append(self.window(label, rng, n=int(gap_s * RATE_HZ), start=0.0, person=who))
        return np.concatenate(segs)

    def synthesize(self, n, seed) -> Dataset:
        rng = np.random.default_rng(seed)
        y = rng.integers(0, len(CLASSES), size=n)
        x = np.stack([self.window(CLASSES[k], rng) for k in y])
        return Dataset(x, y, CLASSES, synthetic=True, source=f"synthesized (seed {seed})")

    def load(self, data_dir) -> Dataset:
        def recording_windows(path):
            rec = read_table(path, AXES)
            if len(rec) < WINDOW:   # a short gesture: pad with its last sample (the hand at rest)
                rec = np.concatenate([rec, np.repeat(rec[-1:], WINDOW - len(rec), 0)])
            return np.stack(windows(rec, WINDOW, WINDOW // 2)).astype(np.float32)
        return self.load_labelled(data_dir, (".csv", ".npy"), recording_windows)

    def features(self, x):
        return np.asarray(x, np.float32)

    def build_model(self, input_shape, n_classes, board):
        """A 1-D CNN over time, about 370k MACs (on an ESP32 or a Cortex-M4, a few ms): halved in width for
        boards with under 64 KB of heap."""
        import tensorflow as tf
        w = 16 if not board or board.get("heap_bytes", 1 << 20) >= 64000 else 8
        L = tf.keras.layers
        return tf.keras.Sequential([
            tf.keras.Input(shape=input_shape),
            L.Conv1D(w, 5, padding="same", activation="relu"),
            L.Conv1D(w, 5, padding="same", activation="relu"),
            L.MaxPooling1D(2),
            L.Conv1D(2 * w, 5, padding="same", activation="relu"),
            L.MaxPooling1D(2),
            L.Conv1D(2 * w, 3, padding="same", activation="relu"),
            L.MaxPooling1D(2),
            L.Flatten(),
            L.Dropout(0.3),
            L.Dense(64, activation="relu"),
            L.Dense(n_classes, activation="softmax"),
        ])

    def fit(self, model, x, y, x_val, y_val, epochs, callbacks):
        """Adam with a cosine-decaying learning rate: the last epochs settle instead of bouncing."""
        import tensorflow as tf
        steps = epochs * ((len(x) + 31) // 32)
        model.compile(optimizer=tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(3e-3, steps)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=0,
                         callbacks=callbacks, shuffle=True)


JOB = Gesture(
    name="gesture", title="Gesture recognition (accelerometer, magic wand)", metric="accuracy", target=0.95,
    quick=Sizes(train=1500, test=300, epochs=8), full=Sizes(train=20000, test=2000, epochs=40),
    data_layout=LAYOUT, extra={"lr": 3e-3, "rate_hz": RATE_HZ, "window": WINDOW, "classes": CLASSES})
