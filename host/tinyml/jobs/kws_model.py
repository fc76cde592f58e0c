"""The keyword model in microWakeWord's form: trained on whole clips as a Keras model, run on the device as a
stateful streaming .tflite (convert.to_streaming_int8) that takes 30 ms of features per invoke and keeps what
it still needs of the past in int8 ring buffers (tf.Variable -> VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE,
as ESPHome's models do).

Layers (time runs in 30 ms steps after the first):
    Conv1D `first` filters x 5 frames, stride 3 (STEP_FRAMES), ReLU   -- one row per invoke
    4 x [DepthwiseConv1D BLOCKS[i] taps, Conv1D 1x1 `width`, ReLU]    -- 4+8+12+20 past rows
    Conv1D 1x1 -> sigmoid: the probability that the keyword has just ended
A receptive field of 137 frames (1.37 s). Every layer is VALID and only the first is strided, so the Keras
model applied to a whole clip gives, at once, every output the streaming model gives one invoke at a time:
output m of `keras_model(clip)` is the streaming model's output at invoke m + FIRST_FULL_INVOKE when the clip
is streamed from its first frame, equal in float up to rounding (tests/test_train_kws.py). Training therefore
sees every 30 ms step of every clip (a label per step: kws.step_labels), and the converter the streaming form.

Cost per invoke, with 96/48 filters (kws.WIDTHS): 46 k MACs every 30 ms, against 0.57 M every 100 ms for the
window model over the whole second that this replaced."""

import numpy as np

CHANNELS = 40
STEP_FRAMES = 3                 # frames (10 ms each) per invoke
FIRST_TAPS = 5                  # frames the first convolution sees
BLOCKS = (5, 9, 13, 21)         # depthwise taps, in steps, of the four blocks
PAST_STEPS = sum(k - 1 for k in BLOCKS)             # rows of the past the blocks keep: 44
RECEPTIVE_FRAMES = STEP_FRAMES * PAST_STEPS + FIRST_TAPS   # 137 frames: 1.37 s
# Invoke s brings frames 3s..3s+2, and the first convolution sees 3s-2..3s+2 (its ring holds two). Dropping
# OFFSET frames from a clip makes the Keras model's first-conv windows the same: its window i is invoke i + 1's.
OFFSET = -(FIRST_TAPS - STEP_FRAMES) % STEP_FRAMES     # 1
FIRST_FULL_INVOKE = PAST_STEPS + 1                  # the first invoke whose rings hold only real features


def build(width, first):
    """The Keras model (float features [batch, frames, 40] -> [batch, steps, 1] probabilities): `first` filters
    in the first convolution, `width` in the pointwise ones."""
    import tensorflow as tf
    L = tf.keras.layers
    inp = tf.keras.Input((None, CHANNELS))
    x = L.Cropping1D((OFFSET, 0), name="align")(inp)    # (only aligns the steps; not part of the streaming form)
    x = L.Conv1D(first, FIRST_TAPS, strides=STEP_FRAMES, activation="relu", name="first")(x)
    for i, taps in enumerate(BLOCKS):
        x = L.DepthwiseConv1D(taps, name=f"depthwise{i}")(x)
        x = L.Conv1D(width, 1, activation="relu", name=f"pointwise{i}")(x)
    out = L.Conv1D(1, 1, activation="sigmoid", name="head")(x)
    return tf.keras.Model(inp, out)


def output_end_frames(n_frames):
    """For a clip of n_frames fed to the Keras model: the index of the last frame each output has seen."""
    n = n_frames - OFFSET
    m = (n - FIRST_TAPS) // STEP_FRAMES + 1 - PAST_STEPS
    return OFFSET + STEP_FRAMES * (np.arange(max(m, 0)) + PAST_STEPS) + FIRST_TAPS - 1


def streaming_module(keras_model):
    """A tf.Module whose `step` is one invoke: (1, 3, 40) float features -> (1, 1) probability, with the
    rings of past rows in tf.Variables (zeros at the start, as CALL_ONCE sets them on the device)."""
    import tensorflow as tf
    from ..convert import ring_window
    get = {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer in keras_model.layers}
    module = tf.Module()
    first_w, first_b = get["first"]                                  # (taps, 40, filters)
    first_f = tf.constant(first_w[:, None])                          # -> HWIO (taps, 1, 40, filters)
    blocks = []
    for i, taps in enumerate(BLOCKS):
        dw, db = get[f"depthwise{i}"]                                # (taps, C, 1)
        pw, pb = get[f"pointwise{i}"]                                # (1, C, width)
        blocks.append((tf.constant(dw[:, None]), db, tf.constant(pw[:, None]), pb))
    head_w, head_b = get["head"]
    module.rings = [tf.Variable(tf.zeros((1, FIRST_TAPS - STEP_FRAMES, 1, CHANNELS)), trainable=False,
                                name="ring_features")]
    module.rings += [tf.Variable(tf.zeros((1, taps - 1, 1, blocks[i][0].shape[2])), trainable=False,
                                 name=f"ring_block{i}") for i, taps in enumerate(BLOCKS)]

    @tf.function(input_signature=[tf.TensorSpec((1, STEP_FRAMES, CHANNELS), tf.float32)])
    def step(features):
        x = ring_window(module.rings[0], tf.reshape(features, (1, STEP_FRAMES, 1, CHANNELS)))
        x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, first_f, (1, STEP_FRAMES, 1, 1), "VALID"), first_b))
        for ring, (dw, db, pw, pb) in zip(module.rings[1:], blocks):
            x = tf.nn.bias_add(tf.nn.depthwise_conv2d(ring_window(ring, x), dw, (1, 1, 1, 1), "VALID"), db)
            x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, pw, (1, 1, 1, 1), "VALID"), pb))
        x = tf.reshape(x, (1, -1))
        return tf.sigmoid(tf.matmul(x, head_w[0]) + head_b)

    module.step = step
    return module
