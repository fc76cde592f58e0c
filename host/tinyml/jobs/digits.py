"""Handwritten digits in 8x8 pixels: a real low-resolution classification set, the one scikit-learn bundles
(`sklearn.datasets.load_digits`, nothing downloaded): the test part of UCI's "Optical Recognition of Handwritten
Digits", 1,797 images of 0-9 written by 13 people, each a 32x32 bitmap counted down to 8x8 blocks of 4x4 pixels,
so every pixel is an integer 0..16 (how many of its 16 pixels are ink).

The data are real, not synthetic. The split is fixed: 20 % of each digit held out (seed 0 of a stratified
permutation), the rest trained on. Training adds shifted and slightly rotated and scaled copies of the training
images (each copy resampled on the 8x8 grid and rounded back to 0..16), so the small CNN sees more than 1,437
images; held-out images are never augmented.

Model input: pixel / 16, [8, 8, 1]. On a board (no sensor: the images come from a file, a camera's 8x8
thumbnail or a touch pad grid), device/examples/digits_file.py reads frames of 64 values 0..16 and classifies
them with the same model.

The user's own images: DIR/<digit>/*.png (any size: converted to grey, ink dark on light, resized to 8x8 by
block means and scaled to 0..16) or *.npy ([8, 8] or [n, 8, 8] or [n, 64], values 0..16)."""

from pathlib import Path

import numpy as np

from .. import TinymlError
from .base import Dataset, Job, Sizes

CLASSES = tuple(str(d) for d in range(10))
LAYOUT = ("DIR/<digit>/*.png or *.npy, digit one of 0..9: PNG images (dark ink on light paper, any size) or arrays "
          "of 8x8 values 0..16")


def load_digits_arrays():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise TinymlError("scikit-learn is not installed (its bundled digits are this job's data): run `make setup`") \
            from None
    d = load_digits()
    return d.images.astype(np.float32), d.target.astype(int)


def held_out_split(y, fraction=0.2, seed=0):
    """Indices (train, test): `fraction` of each class held out."""
    rng = np.random.default_rng(seed)
    test = []
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        test += list(idx[:int(round(len(idx) * fraction))])
    test = np.array(sorted(test))
    return np.setdiff1d(np.arange(len(y)), test), test


def augment(images, rng, copies):
    """`copies` variants of each 8x8 image (0..16): shifted by up to a pixel, rotated by up to 12 degrees and
    scaled by 0.9-1.1, bilinear on the grid, rounded back to integers 0..16."""
    out = []
    yy, xx = np.mgrid[0:8, 0:8].astype(np.float32) - 3.5
    for img in images:
        for _ in range(copies):
            a, s = np.radians(rng.uniform(-12, 12)), rng.uniform(0.9, 1.1)
            dx, dy = rng.uniform(-1, 1, 2)
            c, si = np.cos(a) / s, np.sin(a) / s
            sx = c * xx - si * yy + 3.5 - dx
            sy = si * xx + c * yy + 3.5 - dy
            x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
            fx, fy = sx - x0, sy - y0
            pad = np.pad(img, 1)

            def at(yi, xi):
                return pad[np.clip(yi + 1, 0, 9), np.clip(xi + 1, 0, 9)]
            v = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy) +
                 at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy)
            out.append(np.clip(np.round(v), 0, 16))
    return np.array(out, np.float32)


class Digits(Job):
    def dataset(self, sizes, seed):
        """The bundled digits: a fixed held-out 20 %; the training part with `sizes.train` augmented copies
        added (sizes.test is ignored: the held-out part is what it is)."""
        x, y = load_digits_arrays()
        tr, te = held_out_split(y)
        rng = np.random.default_rng(seed)
        copies = max(0, sizes.train // len(tr) - 1)
        xa = augment(x[tr], rng, copies) if copies else np.zeros((0, 8, 8), np.float32)
        x_train = np.concatenate([x[tr], xa])
        y_train = np.concatenate([y[tr], np.repeat(y[tr], copies)])
        src = (f"scikit-learn's bundled digits (UCI optdigits test set, 1,797 real 8x8 images): {len(tr)} to train "
               f"(+{len(xa)} shifted/rotated copies), {len(te)} held out")
        groups = np.concatenate([tr, np.repeat(tr, copies)])     # a copy stays with its original in the split
        return (Dataset(x_train, y_train, CLASSES, groups, synthetic=False, source=src),
                Dataset(x[te], y[te], CLASSES, None, synthetic=False, source=src))

    def synthesize(self, n, seed):
        raise TinymlError("the digits job has no synthetic data: it uses scikit-learn's bundled digits")

    def load(self, data_dir) -> Dataset:
        return self.load_labelled(data_dir, (".png", ".npy"), read_images)

    def features(self, x):
        return (np.asarray(x, np.float32).reshape(-1, 8, 8, 1) / 16).astype(np.float32)

    def build_model(self, input_shape, n_classes, board):
        """A small CNN (about 460k MACs, 27 KB as int8)."""
        import tensorflow as tf
        L = tf.keras.layers
        return tf.keras.Sequential([
            tf.keras.Input(shape=input_shape),
            L.Conv2D(16, 3, padding="same", activation="relu"),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dropout(0.25),
            L.Dense(32, activation="relu"),
            L.Dense(n_classes, activation="softmax"),
        ])


def read_images(path: Path) -> np.ndarray:
    """One file of the user's digits as float32 [n, 8, 8] in 0..16."""
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False).astype(np.float32)
        a = a.reshape(-1, 8, 8) if a.size % 64 == 0 and a.shape[-1] in (8, 64) else None
        if a is None:
            raise TinymlError(f"{path}: expected [8, 8], [n, 8, 8] or [n, 64] values 0..16")
    else:
        import matplotlib.image as mpimg
        img = np.asarray(mpimg.imread(path), np.float32)
        if img.ndim == 3:
            img = img[..., :3].mean(axis=2)
        if img.max() > 1.0:
            img = img / 255.0
        ink = 1.0 - img                                # dark ink on light paper
        h, w = ink.shape
        if h < 8 or w < 8:
            raise TinymlError(f"{path}: {w}x{h} pixels, smaller than 8x8")
        ink = ink[:h - h % 8, :w - w % 8]
        a = ink.reshape(8, ink.shape[0] // 8, 8, ink.shape[1] // 8).mean(axis=(1, 3))[None] * 16
    if a.min() < 0 or a.max() > 16:
        raise TinymlError(f"{path}: values must be 0..16 (ink per 4x4 block), got {a.min()}..{a.max()}")
    return np.round(a).astype(np.float32)


JOB = Digits(
    name="digits", title="Handwritten digits (8x8, scikit-learn's bundled set)", metric="accuracy", target=0.95,
    quick=Sizes(train=1437, test=0, epochs=10), full=Sizes(train=1437 * 12, test=0, epochs=40),
    data_layout=LAYOUT, extra={"lr": 3e-3, "classes": CLASSES, "scale": 16})
