"""Fuzz the model parser, planner and kernels (host build) with libFuzzer under AddressSanitizer and UBSan,
seeded with the real reference models, for a bounded time. Crashers found are kept in tests/fuzz_corpus/
and replayed on every run as regression tests."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MODELS, REPO
from tinyml.fuzzing import boundary_seeds, build_fuzzer as _build, write_dictionary

CORPUS = REPO / "tests" / "fuzz_corpus"
FUZZ_SECONDS = int(os.environ.get("TINYML_FUZZ_SECONDS", "25"))


def build_fuzzer(tmp_path) -> Path:
    """The libFuzzer + ASan + UBSan harness, built as `make fuzz` builds it (tinyml/fuzzing.py)."""
    return _build(tmp_path)


def test_fuzz_parser_planner_kernels(tmp_path):
    exe = build_fuzzer(tmp_path)
    # Regression first: every input that once crashed must now be handled (one process, each file once).
    crashers = sorted(CORPUS.glob("crash-*"))
    if crashers:
        proc = subprocess.run([str(exe), *map(str, crashers)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"a kept crasher crashes again:\n{proc.stderr[-3000:]}"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for model in sorted(MODELS.glob("*.tflite")):
        if model.stat().st_size < 120_000:  # small models keep iterations fast
            shutil.copy(model, seeds)
    for crasher in crashers:
        shutil.copy(crasher, seeds)
    # Stateful models (subgraphs, CALL_ONCE, resource variables): tests/test_streaming_models.py's ring model.
    # seed-lstm.tflite: a tf_keras LSTM(4), 3 steps (tests/test_ops_lstm.py): the fused LSTM, variable tensors.
    for seed in sorted(CORPUS.glob("seed-*")):
        shutil.copy(seed, seeds)
    # Boundary variants of the smallest model: they reach the bounds checks on the first pass.
    for name, data in boundary_seeds((MODELS / "hello_world.tflite").read_bytes()).items():
        (seeds / name).write_bytes(data)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    dictionary = write_dictionary(tmp_path / "tflite.dict")
    proc = subprocess.run([str(exe), str(seeds), f"-max_total_time={FUZZ_SECONDS}", "-seed=1",
                           "-use_value_profile=1", f"-dict={dictionary}",
                           "-max_len=120000", "-rss_limit_mb=4096", "-timeout=20",
                           f"-artifact_prefix={artifacts}/"], capture_output=True, text=True,
                          timeout=FUZZ_SECONDS + 300)
    found = sorted(artifacts.glob("*"))
    if proc.returncode != 0 or found:
        CORPUS.mkdir(exist_ok=True)
        for f in found:
            shutil.copy(f, CORPUS / f.name)
        pytest.fail(f"the fuzzer found {len(found)} crashing input(s), copied to {CORPUS} (commit them):\n"
                    + proc.stderr[-4000:])
    assert "Done" in proc.stderr or "INFO:" in proc.stderr
