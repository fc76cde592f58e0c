"""Models as Keras builds them by default: a dynamic batch dimension (Input without batch_size), so Flatten
lowers to SHAPE/STRIDED_SLICE/PACK/RESHAPE and dilated convolutions to SPACE_TO_BATCH_ND/CONV_2D/
BATCH_TO_SPACE_ND with placeholder shapes (a dilated Conv1D adds EXPAND_DIMS and RESHAPE with them); Conv1D;
GlobalAveragePooling."""

import numpy as np
import pytest

from m4diff.tflite_writer import INT32, ModelBuilder
from micropython_run import READ_FILE

from opcheck import assert_bitexact, cached_model
from tinyml.hostlib import HostEngine
from tinyml.model_info import read_model


def keras_default_model(recipe, layers, input_shape, dtype="int8"):
    """Sequential(layers) on keras.Input(input_shape) (dynamic batch), converted full-int8 or float32."""
    def make():
        import tensorflow as tf
        from tinyml.convert import to_float_tflite, to_int8_tflite
        tf.keras.backend.clear_session()  # a conversion depends only on its recipe, not on earlier models
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.Input(shape=input_shape)] + layers())
        if dtype == "float32":
            return to_float_tflite(model)
        rep = np.random.default_rng(0).uniform(-1, 1, (32, *input_shape)).astype(np.float32)
        return to_int8_tflite(model, rep)
    return cached_model(f"{recipe} {dtype}", make)


def tflite_reference(path, x):
    """TF Lite's interpreter (the converter's reference, which resizes dynamic shapes at run time) on input x,
    with its reference kernels: the default XNNPACK delegate sums float32 in another order."""
    import tensorflow as tf
    from tinyml.quiet import quiet
    with quiet():
        interp = tf.lite.Interpreter(str(path), experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def random_input(path, seed):
    t = read_model(path).inputs[0]
    rng = np.random.default_rng(seed)
    if t.dtype == np.int8:
        return rng.integers(-128, 128, t.shape).astype(np.int8)
    return rng.uniform(-2, 2, t.shape).astype(np.float32)


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


def dilated_conv2d_model():
    import tensorflow as tf
    return keras_default_model("keras default dilated conv flatten", lambda: [
        tf.keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu"),
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(5), tf.keras.layers.Softmax()], (8, 8, 2))


def dilated_conv1d_model(dtype):
    """Keras' dilated Conv1D and DepthwiseConv1D, dilation 2 and 3, padding same and valid. The Conv1D becomes
    SPACE_TO_BATCH_ND -> EXPAND_DIMS -> CONV_2D -> RESHAPE (the squeeze) -> BATCH_TO_SPACE_ND, the middle three
    written with batch 1 although they hold batch x block rows; the depthwise one EXPAND_DIMS first."""
    def layers():
        import tensorflow as tf
        L = tf.keras.layers
        return [L.Conv1D(6, 3, dilation_rate=2, padding="same", activation="relu"),
                L.DepthwiseConv1D(3, dilation_rate=3, padding="same"),
                L.Conv1D(5, 3, dilation_rate=3, activation="relu"),
                L.DepthwiseConv1D(3, dilation_rate=2, depth_multiplier=2)]
    return keras_default_model("keras default dilated conv1d", layers, (24, 4), dtype)


def test_dilated_conv_with_dynamic_batch_computes_tflite_result():
    """The converter stores batch 1 for SPACE_TO_BATCH_ND's output although it holds batch x block rows.
    TFLM keeps the stored shape and computes part of the output (the rest is whatever the arena held);
    the engine computes the real shape, as TF Lite does, and must give TF Lite's result exactly."""
    path = dilated_conv2d_model()
    assert "SPACE_TO_BATCH_ND" in read_model(path).op_names
    engine = HostEngine(path.read_bytes())
    for seed in range(4):
        x = random_input(path, seed)
        want = tflite_reference(path, x)
        assert engine.invoke([x], [(want.dtype, want.shape)])[0].tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_dilated_conv1d_with_dynamic_batch_computes_tflite_result(dtype):
    """EXPAND_DIMS and RESHAPE whose outputs are the dynamic batch's placeholder take their input's batch,
    as TF Lite computes them (TFLM keeps batch 1 and differs): the engine gives TF Lite's result exactly."""
    from tinyml.check import dilated_conv1d_with_dynamic_batch
    path = dilated_conv1d_model(dtype)
    assert dilated_conv1d_with_dynamic_batch(path)     # an EXPAND_DIMS reads SPACE_TO_BATCH_ND's output
    assert {"DEPTHWISE_CONV_2D", "CONV_2D", "BATCH_TO_SPACE_ND"} <= set(read_model(path).op_names)
    engine = HostEngine(path.read_bytes())
    for seed in range(3):
        x = random_input(path, seed)
        want = tflite_reference(path, x)
        assert engine.invoke([x], [(want.dtype, want.shape)])[0].tobytes() == want.tobytes(), f"seed {seed}"


def dilated_conv1d_head(dynamic=(True, True, True), expanded_length=18):
    """The start of Keras' dilated Conv1D under a dynamic batch as the converter writes it: SPACE_TO_BATCH_ND
    (block 2: batch 1 -> 2), then EXPAND_DIMS, whose output the converter writes with batch 1. `dynamic`: which
    of the input, SPACE_TO_BATCH_ND's output and EXPAND_DIMS' output have the dynamic batch (signature -1)."""
    b = ModelBuilder()
    q = dict(scale=0.05, zero_point=3)
    x = b.tensor([1, 32, 4], **q)
    block = b.tensor([1], INT32, data=np.array([2], np.int32))
    pads = b.tensor([1, 2], INT32, data=np.array([[2, 2]], np.int32))
    y = b.tensor([1 if dynamic[1] else 2, 18, 4], **q)     # a fixed batch is stored as computed
    axis = b.tensor([], INT32, data=np.array(1, np.int32))
    z = b.tensor([1, 1, expanded_length, 4], **q)
    for t, dyn in zip((x, y, z), dynamic):
        if dyn:
            b.tensors[t].shapeSignature = np.array([-1, *b.tensors[t].shape[1:]], np.int32)
    b.op("SPACE_TO_BATCH_ND", [x, block, pads], [y], "SpaceToBatchNDOptions", b.options("SpaceToBatchNDOptions"))
    b.op("EXPAND_DIMS", [y, axis], [z], "ExpandDimsOptions", b.options("ExpandDimsOptions"))
    return b.finish([x], [z])


def test_expand_dims_takes_the_dynamic_batch_only_when_consistent():
    """EXPAND_DIMS' placeholder batch 1 becomes SPACE_TO_BATCH_ND's batch 2 only when both are the dynamic batch
    and the rest of the shape holds one input batch exactly; anything else is a corrupt model, refused at load."""
    from tinyml import TinymlError
    HostEngine(dilated_conv1d_head())
    refused = r"operator 1 \(EXPAND_DIMS\): output \(%d bytes of int8\) differs from input \(144 bytes of int8\)$"
    for dynamic, length in [((False, False, False), 18), ((True, True, False), 18), ((True, False, True), 18),
                            ((True, True, True), 17), ((True, True, True), 9)]:
        with pytest.raises(TinymlError, match=refused % (length * 4)):
            HostEngine(dilated_conv1d_head(dynamic, length))


# ---- MicroPython: the unix port and the emulated Cortex-M4, every dilated model in one run each ------------

DEVICE_SCRIPT = READ_FILE + """for k in range(NMODELS):
    model = tinyml.Model(read_file('m%d.tflite' % k))
    model.set_input(0, read_file('in%d.bin' % k))
    model.invoke()
    open('out%d.bin' % k, 'wb').write(bytes(model.output(0)))
"""


@pytest.mark.parametrize("target", ["unix", "qemu-m4"])
def test_dilated_models_on_targets(target):
    """The full module (the one other tests build for these arches), so the run adds no build."""
    from tinyml.build import build_module
    from tinyml.targets import get_target
    models = [dilated_conv2d_model(), dilated_conv1d_model("int8"), dilated_conv1d_model("float32")]
    tgt = get_target(target)
    files = {"tinyml.mpy": build_module("x64" if target == "unix" else tgt.arch).read_bytes()}
    expected = []
    for k, path in enumerate(models):
        x = random_input(path, 10 + k)
        files[f"m{k}.tflite"], files[f"in{k}.bin"] = path.read_bytes(), x.tobytes()
        expected.append(tflite_reference(path, x).tobytes())
    result = tgt.run(DEVICE_SCRIPT.replace("NMODELS", str(len(models))), files,
                     [f"out{k}.bin" for k in range(len(models))])
    for k, path in enumerate(models):
        assert result.files[f"out{k}.bin"] == expected[k], f"{path.name} on {target} differs from TF Lite"
