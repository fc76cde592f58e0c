"""Keras -> full-int8 .tflite with the TF Lite converter (post-training quantization)."""

import os

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
