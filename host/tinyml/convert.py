"""Keras -> full-int8 .tflite with the TF Lite converter (post-training quantization)."""

import os
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def to_int8_tflite(model, representative, int8_io=True) -> bytes:
    """Quantize weights and activations to int8, calibrated on `representative` (array of samples, or a
    list of lists of arrays for several inputs, in the Keras model's input order; the .tflite orders its
    inputs by name). With int8_io the model takes and gives int8 tensors
    (what microcontrollers want); otherwise float I/O wrapped in QUANTIZE/DEQUANTIZE."""
    import tensorflow as tf

    # The converter orders a model's inputs by name; give it each sample's arrays in that order (Keras'
    # automatic names such as input_layer_10 and input_layer_9 do not sort in creation order).
    order = sorted(range(len(model.inputs)), key=lambda i: model.inputs[i].name)

    def samples():
        for x in representative:
            xs = x if isinstance(x, (list, tuple)) else [x]
            yield [np.asarray(xs[i], dtype=np.float32)[None, ...] for i in order]

    from .quiet import quiet
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = samples
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    with quiet():
        return conv.convert()


def to_float_tflite(model) -> bytes:
    import tensorflow as tf
    from .quiet import quiet
    with quiet():
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def ring_window(ring, x):
    """In a streaming module's step: the rows a temporal convolution sees, its ring's (a tf.Variable of past
    rows) then the new one(s); the ring keeps the newest for the next invoke. Converted, this is READ_VARIABLE,
    CONCATENATION, STRIDED_SLICE and ASSIGN_VARIABLE, as in ESPHome's streaming models."""
    import tensorflow as tf
    window = tf.concat([ring, x], axis=1)
    ring.assign(window[:, -ring.shape[1]:])
    return window


def to_streaming_int8(module, calibration_steps) -> bytes:
    """A stateful streaming .tflite from a tf.Module whose `step` tf.function is one invoke and whose state is in
    tf.Variables: full int8 with an int8 input and a uint8 output, as ESPHome's microWakeWord and microVAD
    models are. `calibration_steps`: float inputs in stream order (calibration runs them through one
    interpreter, so the state evolves as on the device). Settings (TF 2.21): a SavedModel of the module,
    resource variables on, and `_experimental_variable_quantization` (without it the variables stay float32
    with a QUANTIZE/DEQUANTIZE around each)."""
    import tensorflow as tf
    from .quiet import quiet
    with tempfile.TemporaryDirectory() as saved:
        tf.saved_model.save(module, saved, signatures=module.step.get_concrete_function())
        conv = tf.lite.TFLiteConverter.from_saved_model(saved)
        conv.experimental_enable_resource_variables = True
        conv._experimental_variable_quantization = True
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([np.asarray(x, np.float32)] for x in calibration_steps)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.uint8
        with quiet():
            return conv.convert()
