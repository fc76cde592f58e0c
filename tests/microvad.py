"""microVAD, ESPHome's streaming voice-activity model, built with the TF Lite converter from its own weights.

The `pymicro-vad` packages on PyPI ship microVAD only as C arrays of float32 weights (micro_vad/model.h in the
sdist, the same file in every release from 1.0.0 to 2.1.0) run by their own C++ over a 74-frame window: no
.tflite. ESPHome runs the same network as a streaming int8 .tflite (the `vad` model of
esphome/micro-wake-word-models, not on PyPI). Its structure, which the model built here reproduces:

- input (1, 3, 40) int8: three 10 ms frames of microWakeWord features (TFLM's audio frontend) per invoke;
- CONV_2D 32x(5x1) stride 3 + ReLU, DEPTHWISE 5 taps, CONV_2D 1x1 48 + ReLU, DEPTHWISE 8, CONV_2D 1x1 48 + ReLU,
  DEPTHWISE 13, CONV_2D 1x1 48 + ReLU, FULLY_CONNECTED 1, LOGISTIC, then QUANTIZE int8 -> uint8;
- each temporal convolution streams: READ_VARIABLE its ring buffer of past rows, CONCATENATE the new row(s),
  convolve over the whole window (VALID), STRIDED_SLICE the newest rows and ASSIGN_VARIABLE them back. Four
  int8 rings: (1, 2, 1, 40), (1, 4, 1, 32), (1, 7, 1, 48), (1, 12, 1, 48): 1120 bytes of state;
- subgraph 1, run once by CALL_ONCE, assigns the rings their initial values (zeros).

The converter settings that give that form (TF 2.21): a SavedModel of a tf.Module with tf.Variable rings,
`experimental_enable_resource_variables = True`, full-int8 with a representative dataset that streams real
features in order, and `_experimental_variable_quantization = True` (without it the rings stay float32, with a
QUANTIZE/DEQUANTIZE around each one); int8 input, uint8 output."""

import re
from pathlib import Path

import numpy as np

from opcheck import cached_model
from tinyml.convert import ring_window, to_streaming_int8
from speech import RATE, say

FRAMES_PER_STEP = 3          # 30 ms of features per invoke, as ESPHome feeds microVAD
CHANNELS = 40
FEATURE_SCALE = 0.0390625    # microWakeWord's float features: the frontend's uint16 values times 5/128
# (name of the depthwise layer's weights in model.h, its taps): the rings hold taps - 1 rows
DEPTHWISE = [("DEPTHWISE_CONV_2D_2", 5), ("DEPTHWISE_CONV_2D_4", 8), ("DEPTHWISE_CONV_2D_6", 13)]


def model_h() -> Path:
    """micro_vad/model.h of the pymicro-vad sdist, fetched from PyPI once into the cache (`make setup` does it;
    tools/fetch_microvad.sh)."""
    from tinyml import sdist
    tree, _ = sdist.fetch("fetch_microvad.sh", "microVAD's weights (pymicro-vad sdist)")
    return tree / "micro_vad" / "model.h"


def weights(path=None) -> dict:
    """model.h's arrays by name, float32, in the shapes it declares (TF Lite's layouts: OHWI for CONV_2D,
    1HWC for DEPTHWISE, (out, in) for FULLY_CONNECTED)."""
    text = Path(path or model_h()).read_text()
    out = {}
    decl = re.compile(r"static const Array\dd<float, ([\d, ]+)> (\w+) = (\{.*?\});", re.S)
    for m in decl.finditer(text):
        shape = [int(d) for d in m.group(1).split(",")]
        values = np.array(re.findall(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?", m.group(3)), dtype=np.float32)
        assert values.size == np.prod(shape), f"model.h: {m.group(2)} has {values.size} values for {shape}"
        out[m.group(2)] = values.reshape(shape)
    assert len(out) == 16, f"model.h: {len(out)} arrays, microVAD has 16 (8 layers' weights and biases)"
    return out


def streaming_module(w):
    """A tf.Module whose `step` is one invoke of streaming microVAD: (1, 3, 40) float features -> (1, 1)
    probability, the rings of past rows in tf.Variables."""
    import tensorflow as tf
    module = tf.Module()
    conv1 = tf.constant(w["CONV_2D_1_filter"].transpose(1, 2, 3, 0))               # OHWI -> HWIO
    pointwise = [tf.constant(w[f"CONV_2D_{i}_filter"].transpose(1, 2, 3, 0)) for i in (3, 5, 7)]
    depthwise = [tf.constant(w[name + "_filter"][0][..., None]) for name, _ in DEPTHWISE]   # -> HWC1
    module.rings = [tf.Variable(tf.zeros((1, 5 - FRAMES_PER_STEP, 1, CHANNELS)), trainable=False, name="ring_input")]
    module.rings += [tf.Variable(tf.zeros((1, taps - 1, 1, w[name + "_bias"].size)), trainable=False,
                                 name=f"ring_{name.lower()}") for name, taps in DEPTHWISE]

    @tf.function(input_signature=[tf.TensorSpec((1, FRAMES_PER_STEP, CHANNELS), tf.float32)])
    def step(features):
        x = tf.reshape(features, (1, FRAMES_PER_STEP, 1, CHANNELS))
        x = ring_window(module.rings[0], x)
        x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, conv1, (1, 3, 1, 1), "VALID"), w["CONV_2D_1_bias"]))
        for ring, dw, (name, _), pw, i in zip(module.rings[1:], depthwise, DEPTHWISE, pointwise, (3, 5, 7)):
            x = ring_window(ring, x)
            x = tf.nn.bias_add(tf.nn.depthwise_conv2d(x, dw, (1, 1, 1, 1), "VALID"), w[name + "_bias"])
            x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, pw, (1, 1, 1, 1), "VALID"), w[f"CONV_2D_{i}_bias"]))
        x = tf.reshape(x, (1, 48))
        return tf.sigmoid(tf.matmul(x, w["FULLY_CONNECTED_8_weights"].T) + w["FULLY_CONNECTED_8_bias"])

    module.step = step
    return module


# ---- speech and its features ---------------------------------------------------------------------------------

SENTENCES = [("en-us+m1", "turn on the light in the kitchen please"), ("en+f3", "what is the weather tomorrow"),
             ("en+m3", "set a timer for ten minutes")]


def speech_with_pauses(seed=0):
    """(int16 PCM at 16 kHz, per-sample bool: speech): 1 s of room noise, then each sentence followed by 1 s of
    noise; noise (sigma 30) throughout."""
    rng = np.random.default_rng(seed)
    pause = np.zeros(RATE)
    parts, labels = [pause], [np.zeros(RATE, bool)]
    for voice, text in SENTENCES:
        s = say(text, voice, speed=150)
        parts += [s, pause]
        labels += [np.abs(s) > 0, np.zeros(RATE, bool)]
    x = np.concatenate(parts)
    x = x + 30 * rng.standard_normal(x.size)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16), np.concatenate(labels)


def feature_steps(pcm) -> np.ndarray:
    """microVAD's float inputs for `pcm`: microWakeWord features (host/tinyml/features.py: TFLM's frontend as
    the pymicro-features wheel computes it, bit-exact with the device's), (steps, 3, 40) float32."""
    from tinyml.features import wheel_frames
    frames = wheel_frames(pcm).astype(np.float32) * FEATURE_SCALE
    n = len(frames) // FRAMES_PER_STEP * FRAMES_PER_STEP
    return frames[:n].reshape(-1, 1, FRAMES_PER_STEP, CHANNELS)


def quantize_input(steps, info) -> np.ndarray:
    """Float feature steps as the model's int8 input, (steps, 1, 3, 40)."""
    t = info.inputs[0]
    return np.clip(np.round(steps / t.scale + t.zero_point), -128, 127).astype(np.int8)


def microvad_tflite() -> Path:
    """The converter-built microVAD .tflite, cached under build/testmodels (rebuilt when this recipe, the
    weights, TensorFlow or Keras change)."""
    w = weights()
    pcm, _ = speech_with_pauses(seed=1)

    def make():
        return to_streaming_int8(streaming_module(w), feature_steps(pcm))
    return cached_model("microvad streaming int8", make)
