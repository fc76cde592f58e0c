"""The TFLM side of `tinyml bench` and of every comparison: its arena must fit the model. The wheel's default
(10x the model bytes) does not fit a 180x180 image model whose weights are small."""

import numpy as np

from m4diff.tflite_writer import INT32, ModelBuilder
from tinyml import oracle


def image_model(path):
    """One 3x3 CONV_2D over a 180x180x3 int8 image to 8 channels: 2 KB of model, 356 KB of activations."""
    b = ModelBuilder()
    x = b.tensor([1, 180, 180, 3], scale=0.02, zero_point=-1)
    w = b.tensor([8, 3, 3, 3], scale=[0.01] * 8, zero_point=[0] * 8,
                 data=np.random.default_rng(0).integers(-127, 128, (8, 3, 3, 3)).astype(np.int8))
    bias = b.tensor([8], INT32, scale=[0.0002] * 8, zero_point=[0] * 8, data=np.arange(8, dtype=np.int32))
    y = b.tensor([1, 180, 180, 8], scale=0.05, zero_point=2)
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", b.options("Conv2DOptions", padding=0, strideW=1, strideH=1))
    path.write_bytes(b.finish([x], [y]))
    return path


def test_tflm_arena_fits_a_large_image_model(tmp_path):
    path = image_model(tmp_path / "image.tflite")
    assert 10 * path.stat().st_size < 180 * 180 * 11  # the wheel's default would not hold the activations
    x = np.random.default_rng(1).integers(-128, 128, (1, 180, 180, 3)).astype(np.int8)
    assert oracle.time_invoke(path, [x], runs=1) > 0   # what `tinyml bench` calls
    out = oracle.invoke(path, [x])[0]
    assert out.shape == (1, 180, 180, 8) and len(np.unique(out)) > 10
    assert oracle.arena_used_bytes(path) >= 180 * 180 * 11
