"""Models as Keras builds them by default: a dynamic batch dimension (Input without batch_size), so Flatten
lowers to SHAPE/STRIDED_SLICE/PACK/RESHAPE and dilated convolutions to SPACE_TO_BATCH_ND/CONV_2D/
BATCH_TO_SPACE_ND with placeholder shapes; Conv1D; GlobalAveragePooling."""

import numpy as np

from opcheck import assert_bitexact, cached_model
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model
from tinyml.runner import invoke


def keras_default_model(recipe, layers, input_shape):
    def make():
        import tensorflow as tf
        from tinyml.convert import to_int8_tflite
        tf.keras.backend.clear_session()  # a conversion depends only on its recipe, not on earlier models
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.Input(shape=input_shape)] + layers())
        rep = np.random.default_rng(0).uniform(-1, 1, (32, *input_shape)).astype(np.float32)
        return to_int8_tflite(model, rep)
    return cached_model(recipe, make)


def test_flatten_dense_with_dynamic_batch_matches_tflm():
    import tensorflow as tf
    path = keras_default_model("keras default flatten dense", lambda: [
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(8, activation="relu"), tf.keras.layers.Dense(3)],
        (4, 5))
    ops = read_model(path).op_names
    assert {"SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"} <= set(ops), ops
    assert_bitexact(path, n_inputs=5)


def test_conv1d_global_average_pooling_matches_tflm():
    import tensorflow as tf
    path = keras_default_model("keras default conv1d gap", lambda: [
        tf.keras.layers.Conv1D(6, 3, activation="relu"), tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(3)], (20, 3))
    assert_bitexact(path, n_inputs=5)


def test_dilated_conv_with_dynamic_batch_computes_tflite_result():
    """The converter stores batch 1 for SPACE_TO_BATCH_ND's output although it holds batch x block rows.
    TFLM keeps the stored shape and computes part of the output (the rest is whatever the arena held);
    the engine computes the real shape, as TF Lite does, and must give TF Lite's result exactly."""
    import tensorflow as tf
    path = keras_default_model("keras default dilated conv flatten", lambda: [
        tf.keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu"),
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(5), tf.keras.layers.Softmax()], (8, 8, 2))
    assert "SPACE_TO_BATCH_ND" in read_model(path).op_names
    interp = tf.lite.Interpreter(str(path))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    engine = HostEngine(path.read_bytes())
    for seed in range(4):
        x = np.random.default_rng(seed).integers(-128, 128, inp["shape"]).astype(np.int8)
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        want = interp.get_tensor(out["index"])
        assert engine.invoke([x], [(np.int8, want.shape)])[0].tobytes() == want.tobytes()
    assert invoke(path, [x])[0].tobytes() == want.tobytes()   # the shipped .mpy inside MicroPython too
