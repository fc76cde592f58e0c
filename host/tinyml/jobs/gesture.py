"""Gesture recognition from a 3-axis accelerometer: 1 s windows at 50 Hz, four gestures.

The data set is synthesized (so the demo needs no download): gravity plus the motion of each gesture with
random amplitude, frequency, phase, wrist tilt and sensor noise, in units of g like a real IMU gives."""

import numpy as np

CLASSES = ("idle", "shake", "wave", "circle")
RATE_HZ = 50
WINDOW = 50          # samples per window (1 s)
AXES = 3


def _rotation(rng, max_tilt):
    """A random wrist orientation: rotations about x and y by up to max_tilt radians."""
    a, b = rng.uniform(-max_tilt, max_tilt, 2)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    return rx @ ry


def make_window(label, rng):
    t = np.arange(WINDOW) / RATE_HZ
    phase = rng.uniform(0, 2 * np.pi)
    motion = np.zeros((WINDOW, AXES))
    if label == "shake":        # fast back-and-forth along x
        f, a = rng.uniform(3, 8), rng.uniform(0.3, 2.0)
        motion[:, 0] = a * np.sin(2 * np.pi * f * t + phase)
    elif label == "wave":       # slow side-to-side along y with a little x
        f, a = rng.uniform(1, 3), rng.uniform(0.2, 1.0)
        motion[:, 1] = a * np.sin(2 * np.pi * f * t + phase)
        motion[:, 0] = 0.2 * a * np.sin(4 * np.pi * f * t + phase)
    elif label == "circle":     # circular motion in the x-y plane
        f, a = rng.uniform(0.8, 3), rng.uniform(0.2, 1.2)
        motion[:, 0] = a * np.cos(2 * np.pi * f * t + phase)
        motion[:, 1] = a * np.sin(2 * np.pi * f * t + phase)
    else:                       # idle: small drift
        motion += rng.normal(0, 0.03, size=(1, AXES))
    gravity = np.array([0.0, 0.0, 1.0])
    window = (motion + gravity) @ _rotation(rng, 0.5).T
    window += rng.normal(0, 0.15, size=window.shape)
    return window.astype(np.float32)


def make_dataset(n, seed=0):
    """n windows (n, WINDOW, AXES) float32 in g, and labels (n,) int."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), size=n)
    x = np.stack([make_window(CLASSES[k], rng) for k in labels])
    return x, labels


def build_model():
    """A small MLP: 150 inputs -> 32 -> 16 -> 4 (about 5.4k MACs)."""
    import tensorflow as tf
    return tf.keras.Sequential([
        tf.keras.Input(shape=(WINDOW, AXES), batch_size=1),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(len(CLASSES), activation="softmax"),
    ])


def train(x, y, epochs=15, seed=0):
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    model = build_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # Train with a batch dimension of any size, then rebuild with batch 1 for the converter (MCUs run
    # one window at a time, and a fixed batch keeps every tensor shape static).
    train_model = tf.keras.Sequential([tf.keras.Input(shape=(WINDOW, AXES))] + model.layers[:])
    train_model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                        metrics=["accuracy"])
    train_model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model
