"""Presence from an 8x8 thermal array (AMG8833): is a warm body in view? Frames are synthesized (so nothing is
downloaded): a room background (16-28 degC, a gentle gradient, sensor noise), and for "present" a warm blob
(a person 1-4 m away: 1.5-8 degC above the room, 0.6-1.8 pixels wide, anywhere, partly out of view). Hard
negatives: a single warm pixel (a lamp, a radiator edge) below 2 degC.

The model sees each frame minus its own mean, divided by 4 (device/examples/thermal_presence.py does the same)."""

import numpy as np

CLASSES = ("empty", "present")
SIZE = 8


def make_frame(present, rng):
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    room = rng.uniform(16, 28)
    gx, gy = rng.uniform(-0.15, 0.15, 2)
    frame = room + gx * (x - 3.5) + gy * (y - 3.5) + rng.normal(0, 0.25, (SIZE, SIZE))
    if present:
        cx, cy = rng.uniform(-0.5, SIZE - 0.5, 2)
        sx, sy = rng.uniform(0.6, 1.8, 2)
        frame += rng.uniform(1.5, 8) * np.exp(-((x - cx) ** 2 / (2 * sx ** 2) + (y - cy) ** 2 / (2 * sy ** 2)))
    elif rng.random() < 0.3:
        frame[rng.integers(SIZE), rng.integers(SIZE)] += rng.uniform(0.5, 2.0)
    return frame.astype(np.float32)


def features(frames):
    """(n, 8, 8) degC -> model input: each frame minus its mean, / 4."""
    f = np.asarray(frames, np.float32)
    return ((f - f.mean(axis=(-2, -1), keepdims=True)) / 4).astype(np.float32)


def make_dataset(n, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    return np.stack([make_frame(bool(k), rng) for k in y]), y


def train(x, y, epochs=10, seed=0):
    """A tiny MLP on the 64 normalised pixels: 64 -> 16 -> 2 (about 1k MACs)."""
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    layers = [tf.keras.layers.Flatten(), tf.keras.layers.Dense(16, activation="relu"),
              tf.keras.layers.Dense(2, activation="softmax")]
    model = tf.keras.Sequential([tf.keras.Input(shape=(SIZE, SIZE), batch_size=1)] + layers)
    fit = tf.keras.Sequential([tf.keras.Input(shape=(SIZE, SIZE))] + layers)
    fit.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    fit.fit(features(x), y, epochs=epochs, batch_size=32, verbose=0)
    return model
