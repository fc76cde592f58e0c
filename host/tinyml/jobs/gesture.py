"""Gesture recognition from a 3-axis accelerometer held in the hand ("magic wand"): 64 samples at 50 Hz (1.28 s),
five classes.

Synthetic data (nothing can be downloaded here, and the report says so). Each gesture is a path drawn in the
air, in a vertical plane in front of the person, with the hard cases a real wand sees:
  - circle: a loop, either direction, and a sloppy one: an ellipse, a loop stopped short or overshot
    (0.8-1.15 turns), a centre that drifts so the loop does not close;
  - wing: a "W" of four strokes;  slope: an "L", down then right. A careful hand stops at each corner, a fast
    one (people draw at 0.5-2 m/s) starts the next stroke before the last ends and rounds the corner;
  - shake: back and forth along the forearm, 2.8-7 Hz, 0.5-3 g, speeding up or slowing down;
  - idle: no gesture, and the negatives that wake a real board falsely: a still hand (tremor, small aimless
    movements), walking with the device in hand, picking it up or putting it down, bumps.
A window is labelled only with what a person watching could tell from it: every gesture lies whole in its
window (give or take 0.1 s at its ends), a shake has at least 2.5 back-and-forths, and nothing in "idle" is a
drawn shape or a sustained shake.
A stroke moves with a minimum-jerk profile (how people move a hand between two points), so acceleration is
smooth and zero at rest. A quarter of the gestures are drawn while walking. Per person: how the device sits in
the hand (roll up to 70 degrees, pitch up to 35), how fast they move, the sensor's gain error, bias and noise.
Per repetition: size, speed, start time in the window, slant and aspect of the shape, the plane's yaw and lean,
a wrist that turns while drawing, the sensor's +-2 g range and its 16-bit counts (an MPU6050 at 16384 counts
per g), and a sample clock off by up to 2 % with per-sample jitter.

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


def _strokes(points, t, weights=None, overlap=0.0):
    """Position [len(t), 2] along a polyline drawn stroke by stroke, each with a minimum-jerk profile; t in 0..1
    over the whole gesture, each stroke's share of time proportional to its length (or `weights`).

    `overlap` (0..1) is the fraction of each stroke during which the next one has already begun. A careful hand
    stops at each corner (overlap 0: sharp corners, zero speed there); a fast one does not: the next stroke
    starts before the last one ends, and the two displacements add up, so the corner is rounded and the hand
    never stops (Flash & Hogan's superposition of minimum-jerk strokes, which fits how people draw
    zig-zags). Every stroke still runs its full length, so the shape ends where the careful one does."""
    points = np.asarray(points, float)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1) if weights is None else np.asarray(weights, float)
    share = seg / seg.sum()
    # stroke i starts when stroke i-1 is (1 - overlap) done; stretch so that the last one ends at t = 1
    begins = np.concatenate([[0], np.cumsum(share[:-1] * (1 - overlap))])
    scale = 1.0 / (begins[-1] + share[-1])
    begins, lengths = begins * scale, share * scale
    out = np.repeat(points[:1], len(t), axis=0).astype(float)
    for i in range(len(seg)):
        s = min_jerk((t - begins[i]) / lengths[i])
        out += s[:, None] * (points[i + 1] - points[i])
    return out


def _corner_overlap(speed, rng):
    """How much a hand moving at `speed` m/s rounds its corners: careful (0.6 m/s) hands stop at each one, fast
    (1.6 m/s and up) ones start the next stroke when the last is only half done."""
    return float(np.clip((speed - 0.6) / 1.0, 0, 1) * 0.5 + rng.uniform(0, 0.1))


def _rotation(roll, pitch, yaw):
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _walking(t, rng):
    """Walking with the device in hand: position [len(t), 3] (m) and roll [len(t)] (rad). A vertical bounce at
    the step rate (1.6-2.3 steps/s, 0.1-0.35 g) with the heel strike's second harmonic, a push forward each step,
    a sway to the side every two steps, and the hand rolling a little with the sway."""
    w = 2 * np.pi * rng.uniform(1.6, 2.3)

    def sinusoid(peak_g, omega):     # displacement of a sinusoid with that peak acceleration
        return peak_g * 9.81 / omega ** 2 * np.sin(omega * t + rng.uniform(0, 2 * np.pi))
    pos = np.zeros((len(t), 3))
    pos[:, 2] = sinusoid(rng.uniform(0.1, 0.35), w) + sinusoid(rng.uniform(0.03, 0.12), 2 * w)
    pos[:, 1] = sinusoid(rng.uniform(0.03, 0.12), w)
    pos[:, 0] = sinusoid(rng.uniform(0.02, 0.08), w / 2)
    return pos, rng.uniform(0, 0.08) * np.sin(w / 2 * t + rng.uniform(0, 2 * np.pi))


class Gesture(Job):
    def path(self, label, t, rng, start=None, span=None, pace=1.0, may_walk=True):
        """The hand's position [len(t), 3] and the device's roll [len(t)] for one window (see `shape`): a
        quarter of the gestures are drawn while walking (casting a spell on the move), the walk's bounce under
        the shape; none if not `may_walk` (a recording whose pauses must be still)."""
        pos, roll = self.shape(label, t, rng, start, span, pace)
        if label in CLASSES[1:] and rng.random() < 0.25 and may_walk:
            bounce, sway = _walking(t, rng)
            pos, roll = pos + bounce, roll + sway
        return pos, roll

    def shape(self, label, t, rng, start=None, span=None, pace=1.0):
        """Hand position [len(t), 3] in metres (x right, y forward, z up) at times t (seconds) for one gesture,
        and the device's roll about its long axis (radians, the wrist turning) at each t. The gesture starts at
        `start` seconds, by default anywhere from 0.08 s before the window (a board woken by the motion starts
        sampling late) to where it still ends inside a window of `span` seconds (default t[-1]). `pace` is how
        fast this person moves, relative to others."""
        size = rng.uniform(0.15, 0.35)
        # people draw at 0.5-2 m/s: a big "W" takes longer than a small "L", and a fast hand rounds its corners
        speed = rng.uniform(0.6, 1.5) * pace
        dur = float(np.clip(PATH_LENGTH.get(label, 1.5) * size / speed, 0.45, 1.1))
        span = t[-1] if span is None else span
        if start is None:
            start = rng.uniform(-0.08, max(span - dur, 0) + 0.02)
        u = (t - start) / dur
        progress = np.clip(u, 0, 1)
        wrist = rng.uniform(-0.25, 0.25) * 4 * progress * (1 - progress)   # the wrist turns, then turns back
        aspect, slant = rng.uniform(0.7, 1.3), rng.uniform(-0.25, 0.25)
        if label == "circle":
            # sloppy circles: ellipses (aspect), a loop that stops short or overshoots (0.8-1.15 turns), and a
            # centre that drifts while drawing (the loop does not close): all still read as "a circle"
            aspect = rng.uniform(0.6, 1.6)
            turn = rng.choice([-1, 1]) * 2 * np.pi * rng.uniform(0.8, 1.15) * min_jerk(u)
            phase = rng.uniform(0, 2 * np.pi)
            xy = 0.5 * np.stack([np.cos(phase + turn) - np.cos(phase), np.sin(phase + turn) - np.sin(phase)], 1)
            xy += min_jerk(u)[:, None] * rng.uniform(-0.3, 0.3, 2)
        elif label == "wing":
            mid = rng.uniform(0.45, 0.75)
            corners = [(0, 1), (0.25, 0), (0.5, mid), (0.75, 0), (1, 1)] + rng.uniform(-0.06, 0.06, (5, 2))
            xy = _strokes(corners, u, overlap=_corner_overlap(speed, rng))
        elif label == "slope":
            xy = _strokes([(0, 1), (0, 0), (rng.uniform(0.7, 1.1), 0)], u, overlap=_corner_overlap(speed, rng))
        elif label == "shake":
            # back and forth along the forearm (give or take 25 degrees), 2.8-7 Hz, from a gentle 0.5 g to a
            # vigorous 3 g (the sensor clips at 2 g), speeding up or slowing down by up to 15 % as it goes
            f = max(rng.uniform(2.8, 7.0), 2.5 / dur)       # at least 2.5 back-and-forths: less is not a shake
            peak_g = np.exp(rng.uniform(np.log(0.5), np.log(3.0)))
            amp = peak_g * 9.81 / (2 * np.pi * f) ** 2
            chirp = rng.uniform(-0.15, 0.15)
            env = min_jerk(u * 4) * min_jerk((1 - u) * 4)
            tt = t - start
            pos = np.zeros((len(t), 3))
            pos[:, 1] = amp * env * np.sin(2 * np.pi * f * (tt + chirp * tt * tt / (2 * dur)))
            return pos @ _rotation(0, rng.uniform(-0.45, 0.45), rng.uniform(-0.4, 0.4)).T, wrist
        elif label == "rest":       # the board lying still (a recording's pauses): no motion at all
            return np.zeros((len(t), 3)), np.zeros(len(t))
        else:
            return self.idle_path(t, rng, start, dur, span)
        xy = xy * size * np.array([aspect, 1 / aspect])
        xy[:, 0] += slant * xy[:, 1]
        pos = np.stack([xy[:, 0], np.zeros(len(t)), xy[:, 1]], 1)
        # the plane: turned left or right (yaw) and leaning back or forward (people draw "in front", not on a wall)
        return pos @ _rotation(rng.uniform(-0.35, 0.35), 0, rng.uniform(-0.35, 0.35)).T, wrist

    def idle_path(self, t, rng, start, dur, span):
        """No gesture: what a wand feels between gestures, and what wakes a real board falsely. One of:
          - a still hand: tremor (8-12 Hz), and now and then a small aimless movement (35 %);
          - walking with the device in hand: a vertical bounce at the step rate (1.6-2.3 Hz, 0.1-0.35 g, with
            the heel strike's harmonic), a push forward each step and a sway side to side every two (25 %);
          - picking the device up or putting it down: one smooth move of 10-40 cm, mostly vertical, while it
            tilts from lying flat to held (or back) by up to 45 degrees (20 %);
          - bumps: the table knocked or the hand jostled, 1-3 short ringing jolts of 0.3-2.5 g (20 %).
        None of these is a drawn shape or a sustained shake, so a person watching would call each "idle"."""
        pos = np.zeros((len(t), 3))
        roll = np.zeros(len(t))
        f = rng.uniform(8, 12)
        pos += rng.uniform(0, 4e-4) * np.sin(2 * np.pi * f * t[:, None] + rng.uniform(0, 6.3, 3))
        kind = rng.choice(["still", "walk", "pickup", "bump"], p=[0.35, 0.25, 0.2, 0.2])
        u = (t - start) / dur
        if kind == "still":
            if rng.random() < 0.5:
                a, b = rng.normal(0, 0.015, (2, 3))
                pos += _strokes([(0, 0), (1, 0)], u)[:, :1] * a + min_jerk((t - start - dur) / dur)[:, None] * b
        elif kind == "walk":
            bounce, sway = _walking(t, rng)
            pos, roll = pos + bounce, roll + sway
        elif kind == "pickup":
            move = rng.uniform(0.4, 0.9)
            s = min_jerk((t - start) / move)
            pos += s[:, None] * np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.2, 0.2),
                                          rng.choice([-1, 1]) * rng.uniform(0.1, 0.4)])
            roll += rng.uniform(-0.8, 0.8) * s
        else:
            for _ in range(rng.integers(1, 4)):
                t0 = rng.uniform(-0.05, span)      # span, not t[-1]: the same for the calls at t -+ h
                fb, tau = rng.uniform(8, 20), rng.uniform(0.02, 0.06)
                amp = rng.uniform(0.3, 2.5) * 9.81 / (2 * np.pi * fb) ** 2
                d = rng.normal(0, 1, 3)
                dt = np.maximum(t - t0, 0)
                # a jolt that rings down; 1 - cos starts at rest (a sine would jump the velocity at t0)
                ring = amp * np.exp(-dt / tau) * (1 - np.cos(2 * np.pi * fb * dt))
                pos += ring[:, None] * d / np.linalg.norm(d)
        return pos, roll

    def person(self, rng):
        """How one person holds one device and moves: its tilt in the hand, how fast they draw, and the
        sensor's gain error, bias and noise."""
        # a wand is gripped any way round its long axis (roll up to 70 degrees), pointed up or down (35 degrees)
        return {"roll": rng.uniform(-1.2, 1.2), "pitch": rng.uniform(-0.6, 0.6), "pace": rng.uniform(0.8, 1.3),
                "gain": 1 + rng.uniform(-0.03, 0.03, 3), "bias": rng.uniform(-0.05, 0.05, 3),
                "noise": rng.uniform(0.005, 0.02)}

    def window(self, label, rng, n=WINDOW, start=None, person=None, may_walk=True) -> np.ndarray:
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
        span, pace = float(t[-1]), who.get("pace", 1.0)
        pm, _ = self.path(label, t - h, np.random.default_rng(seed), start, span, pace, may_walk)
        p0, wrist = self.path(label, t, np.random.default_rng(seed), start, span, pace, may_walk)
        pp, _ = self.path(label, t + h, np.random.default_rng(seed), start, span, pace, may_walk)
        acc = (pp - 2 * p0 + pm) / (h * h) / 9.81            # in g, world frame
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
            # standing still: a walk would go on through the pause and wake the board again
            segs.append(self.window(label, rng, n=int(gap_s * RATE_HZ), start=0.0, person=who, may_walk=False))
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
