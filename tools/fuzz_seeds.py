"""Seed models for the fuzz campaign (tools/fuzz.py) that are not in shared/models: small Keras-built int8 and
float32 models covering most of the engine's ops, and multi-subgraph graphs (the engine runs subgraph 0 and
must ignore, or reject, the rest). Built once with TensorFlow and cached in ~/.cache/tinyml-mpy/fuzz-seeds/."""

import copy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml.paths import CACHE  # noqa: E402

SEEDS = CACHE / "fuzz-seeds"
STAMP = SEEDS / ".v1"


def _keras_builds():
    import tensorflow as tf
    L = tf.keras.layers

    def conv(x):
        x = L.Conv2D(3, 3, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(x)
        x = L.MaxPooling2D(2)(x)
        return L.Dense(3, activation="softmax")(L.Flatten()(x))

    def pools(x):
        a = L.AveragePooling2D(2)(x)
        b = L.MaxPooling2D(2)(x)
        y = L.Concatenate()([a, b])
        y = L.ZeroPadding2D(1)(y)
        return L.GlobalAveragePooling2D()(y)

    def elementwise(x):
        a = L.Dense(6)(L.Flatten()(x))
        b = L.Dense(6, activation="tanh")(a)
        c = L.Dense(6, activation="sigmoid")(a)
        y = L.Add()([b, c])
        y = L.Multiply()([y, a])
        y = L.Subtract()([y, b])
        y = L.LeakyReLU(0.2)(y)
        y = L.ELU()(y)
        return L.Reshape((2, 3))(y)

    def shapes(x):
        y = L.Permute((2, 1, 3))(x)
        y = L.Reshape((4, 8))(y)
        y = L.Cropping1D((1, 1))(y)
        y = tf.keras.layers.Lambda(lambda t: tf.nn.relu6(t) * tf.nn.relu6(t + 3) / 6)(y)  # hard swish
        return L.Dense(2)(y)

    def conv1d(x):
        y = L.Reshape((16, 2))(L.Flatten()(x))
        y = L.Conv1D(4, 3, dilation_rate=2, padding="same")(y)
        return L.GlobalMaxPooling1D()(y)

    return {"conv": conv, "pools": pools, "elementwise": elementwise, "shapes": shapes, "conv1d": conv1d}


def _multi_subgraph(data: bytes, n_extra: int) -> bytes:
    """The same model with n_extra more copies of its subgraph appended."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    for _ in range(n_extra):
        model.subgraphs.append(copy.deepcopy(model.subgraphs[0]))
    b = flatbuffers.Builder(len(data) * (n_extra + 2))
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def make_seeds(log=print) -> Path:
    """Build the seeds if they are not cached; return their directory."""
    if STAMP.exists():
        return SEEDS
    SEEDS.mkdir(parents=True, exist_ok=True)
    log("fuzz: building seed models with TensorFlow (once; cached in %s)" % SEEDS)
    import numpy as np
    import tensorflow as tf
    from tinyml.convert import to_float_tflite, to_int8_tflite
    rng = np.random.default_rng(0)
    made = []
    for name, build in _keras_builds().items():
        tf.keras.backend.clear_session()
        tf.keras.utils.set_random_seed(0)
        inp = tf.keras.Input(shape=(8, 4, 1), batch_size=1)
        model = tf.keras.Model(inp, build(inp))
        calib = [rng.uniform(-2, 2, size=(8, 4, 1)).astype(np.float32) for _ in range(8)]
        for kind, data in (("int8", lambda: to_int8_tflite(model, calib)),
                           ("int8_floatio", lambda: to_int8_tflite(model, calib, int8_io=False)),
                           ("float", lambda: to_float_tflite(model))):
            try:
                blob = data()
            except Exception as e:  # a layer the converter cannot quantize: skip that seed
                log(f"fuzz: seed {name}_{kind} skipped: {type(e).__name__}: {e}"[:200])
                continue
            (SEEDS / f"{name}_{kind}.tflite").write_bytes(blob)
            made.append((name, kind, blob))
    hello = REPO.parent / "shared" / "models" / "hello_world.tflite"
    bases = [(f"{n}_{k}", b) for n, k, b in made if k == "int8"][:2]
    if hello.exists():
        bases.append(("hello_world", hello.read_bytes()))
    for name, blob in bases:
        for extra in (1, 2):
            (SEEDS / f"{name}_subgraphs{extra + 1}.tflite").write_bytes(_multi_subgraph(blob, extra))
    STAMP.write_text("ok\n")
    log(f"fuzz: {len(list(SEEDS.glob('*.tflite')))} seed models in {SEEDS}")
    return SEEDS


if __name__ == "__main__":
    print(make_seeds())
