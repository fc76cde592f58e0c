"""What every TinyML job gives the training recipe (host/tinyml/train.py), and the helpers they share.

A job is a module of host/tinyml/jobs/ with a `JOB` object, a subclass of `Job`. The recipe asks it for data
(synthesized, or the user's recordings in a documented folder layout), turns samples into model inputs with
the same code the device runs (`features`), builds and fits a Keras model sized for the board, and scores it
(`score`) on held-out data three times: the float Keras model, the int8 .tflite in the TF Lite interpreter, and
the int8 model in the engine itself (the C the board runs, built for the host).

Sizes: `--quick` (tests, < 2 minutes) and the full run (< 15 minutes on two cores) differ only in how much data
is synthesized and how many epochs are trained."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import TinymlError


@dataclass
class Dataset:
    """Samples as the sensor gives them (x: [n, ...] float32), integer labels, and the class names. `groups`
    (optional, [n]) keeps windows of one recording together when splitting, so held-out data are new
    recordings, not neighbours of training windows. `marks` (optional, [n]): where in each sample its event
    ends (kws: the frame in which the keyword ends, -1 for none), for jobs that label every step of a clip."""
    x: np.ndarray
    y: np.ndarray
    classes: tuple
    groups: np.ndarray = None
    synthetic: bool = True
    source: str = ""
    marks: np.ndarray = None

    def subset(self, idx):
        return Dataset(self.x[idx], self.y[idx], self.classes, None if self.groups is None else self.groups[idx],
                       self.synthetic, self.source, None if self.marks is None else self.marks[idx])

    def __len__(self):
        return len(self.y)


@dataclass
class Sizes:
    train: int          # windows synthesized for training (validation is carved out of these)
    test: int           # held-out windows, from another seed
    epochs: int


@dataclass
class Job:
    name: str
    title: str
    metric: str = "accuracy"                 # or "auc" (anomaly detection)
    quick: Sizes = None
    full: Sizes = None
    target: float = 0.95                     # the bar on held-out data
    data_layout: str = ""                    # how --data DIR must look (shown in errors and the tutorial)
    extra: dict = field(default_factory=dict)
    train_classes: tuple = ()                # only these classes are trained on (anomaly: normal); () = all
    unit: str = "windows"                    # what one sample is called in reports ("3 s clips" for kws)

    # --- data -------------------------------------------------------------------------------------------
    def synthesize(self, n, seed) -> Dataset:
        raise NotImplementedError

    def dataset(self, sizes, seed):
        """(training, held-out) data without --data: synthesized from two seeds. A job with a real bundled
        data set (digits) splits that instead."""
        return self.synthesize(sizes.train, seed=1000 + seed), self.synthesize(sizes.test, seed=2000 + seed)

    def load(self, data_dir: Path) -> Dataset:
        raise NotImplementedError

    def load_labelled(self, data_dir: Path, suffixes, reader) -> Dataset:
        """The user's recordings in DIR/<class>/*.<suffix> (labelled_files: classes from extra["classes"], the
        errors naming data_layout): `reader(path)` gives a file's samples ([k, ...]); each file is one group,
        so that a recording's samples stay on one side of the held-out split."""
        xs, ys, groups = [], [], []
        files = labelled_files(Path(data_dir), self.extra["classes"], suffixes, self.data_layout)
        for g, (path, label) in enumerate(files):
            samples = reader(path)
            xs.append(samples)
            ys += [label] * len(samples)
            groups += [g] * len(samples)
        return Dataset(np.concatenate(xs), np.array(ys), self.extra["classes"], np.array(groups), synthetic=False,
                       source=str(data_dir))

    # --- features and model ------------------------------------------------------------------------------
    def features(self, x) -> np.ndarray:
        """Model inputs (float32, [n, *input_shape]) from sensor samples, as the device computes them."""
        raise NotImplementedError

    def build_model(self, input_shape, n_classes, board):
        raise NotImplementedError

    def targets(self, ds: Dataset):
        """What fit() is given as `y` for a data set: its labels (a streaming job: a label per step)."""
        return ds.y

    def fit(self, model, x, y, x_val, y_val, epochs, callbacks):
        """Train `model` (batch dimension free); returns Keras' History."""
        import tensorflow as tf
        model.compile(optimizer=tf.keras.optimizers.Adam(self.extra.get("lr", 3e-3)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=0,
                         callbacks=callbacks, shuffle=True)

    def representative(self, x_fit, rng):
        """The inputs the int8 converter calibrates ranges on: 300 training windows. A job whose held-out
        inputs leave the training range (anomalies) widens it here, or int8 would clip them to normal."""
        return x_fit[rng.permutation(len(x_fit))[:300]]

    def convert(self, model, samples) -> bytes:
        """The trained Keras model as a full-int8 .tflite that takes one sample per invoke, calibrated on
        `samples` (what representative() chose). A streaming job converts another form of the model here."""
        import tensorflow as tf
        from ..convert import to_int8_tflite
        inp = tf.keras.Input(shape=model.input_shape[1:], batch_size=1)   # the board runs one window at a time
        return to_int8_tflite(tf.keras.Model(inp, model(inp)), samples)

    def evaluate(self, model_path, keras_model, x_test, y_test) -> dict:
        """The metric on held-out inputs: float Keras, int8 in TFLM and in TF Lite, int8 on the engine, one invoke
        per sample (train.evaluate). A streaming job streams its held-out clips into the model here instead."""
        from ..train import evaluate
        return evaluate(self, model_path, keras_model, x_test, y_test)

    # --- scoring -----------------------------------------------------------------------------------------
    def decide(self, outputs) -> np.ndarray:
        """Model outputs [n, k] (float, dequantized) -> the decision per sample (class index)."""
        return np.asarray(outputs).argmax(axis=1)

    def score(self, outputs, y) -> float:
        """The job's metric on held-out data from the model's (dequantized) outputs."""
        return float((self.decide(outputs) == y).mean())


# --- the user's recordings -------------------------------------------------------------------------------

def read_table(path: Path, columns: int) -> np.ndarray:
    """A recording as float32 [rows, columns]: .npy ([rows, columns]) or .csv (numbers; a header line of names
    is allowed and skipped; extra columns, such as a timestamp first, are an error naming what is expected)."""
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False)
    elif path.suffix == ".csv":
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r and not r[0].lstrip().startswith("#")]
        if rows and not _is_number(rows[0][0]):
            rows = rows[1:]
        try:
            a = np.array([[float(v) for v in r] for r in rows], np.float32)
        except ValueError as exc:
            raise TinymlError(f"{path}: not a table of numbers ({exc})") from None
    else:
        raise TinymlError(f"{path}: expected a .csv or .npy recording")
    a = np.asarray(a, np.float32)
    if a.ndim != 2 or a.shape[1] != columns:
        raise TinymlError(f"{path}: expected rows of {columns} values, got an array of shape {a.shape}")
    return a


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def labelled_files(data_dir: Path, classes, suffixes, layout):
    """[(path, label index)] from DIR/<label>/*.<suffix>; every folder must be a known class, and every class
    needs at least one file."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise TinymlError(f"--data {data_dir}: no such folder. Expected: {layout}")
    out = []
    for sub in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        if sub.name not in classes:
            raise TinymlError(f"--data {data_dir}: folder {sub.name!r} is not a class of this job "
                              f"({', '.join(classes)}). Expected: {layout}")
        files = sorted(p for p in sub.iterdir() if p.suffix in suffixes)
        out += [(p, classes.index(sub.name)) for p in files]
    missing = [c for c in classes if not any(classes[k] == c for _, k in out)]
    if missing:
        raise TinymlError(f"--data {data_dir}: no recordings for {', '.join(missing)}. Expected: {layout}")
    return out


def windows(recording, length, hop):
    """Windows of `length` rows every `hop` rows (a recording shorter than one window gives none)."""
    n = (len(recording) - length) // hop + 1
    return [recording[i * hop:i * hop + length] for i in range(max(n, 0))]
