"""The arena planner's arithmetic: sizes and offsets are unsigned and checked, so a model whose tensors alive
at once add up past TM_MAX_ARENA_BYTES (1 GiB) is refused with a clear error, never wrapped into a small
arena that kernels would then write past. (The reference models' arena sizes, which pin the planner's
results, are asserted in test_reference_models.py and test_qemu_engine.py.)"""

import pytest

from m4diff.tflite_writer import ModelBuilder
from tinyml.hostlib import HostEngine, TinymlError

FLOAT32 = 0


def _adds(n_inputs, elements):
    """n_inputs float32 inputs of `elements` values, summed by a chain of ADDs: all inputs are alive at the
    first ADD, together with its output."""
    b = ModelBuilder()
    xs = [b.tensor((elements,), FLOAT32) for _ in range(n_inputs)]
    acc = xs[0]
    for x in xs[1:]:
        y = b.tensor((elements,), FLOAT32)
        b.op("ADD", [acc, x], [y], "AddOptions", b.options("AddOptions", fusedActivationFunction=0))
        acc = y
    return b.finish(xs, [acc])


def test_arena_past_the_limit_is_refused():
    # 5 inputs + the first sum, 2^28 bytes each: 1.5 GiB alive at once
    with pytest.raises(TinymlError, match="needs more than 1073741824 bytes of tensor arena"):
        HostEngine(_adds(5, 1 << 26), ops=["ADD"])


def test_large_arena_within_the_limit_is_planned():
    # 3 inputs + sums of 2^24 bytes: planned without error (the host does not allocate it here)
    engine = HostEngine(_adds(3, 1 << 20), ops=["ADD"])
    assert engine.arena_bytes >= 4 * (1 << 22)
