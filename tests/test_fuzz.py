"""Fuzz the model parser, planner and kernels (host build) with libFuzzer under AddressSanitizer and UBSan,
seeded with the real reference models, for a bounded time. Crashers found are kept in tests/fuzz_corpus/
and replayed on every run as regression tests."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MODELS, REPO
from tinyml.ops import kernel_sources, ops_header, KERNELS

CORPUS = REPO / "tests" / "fuzz_corpus"
FUZZ_SECONDS = int(os.environ.get("TINYML_FUZZ_SECONDS", "45"))


def build_fuzzer(tmp_path) -> Path:
    clang = shutil.which("clang-22") or shutil.which("clang")
    assert clang, "clang is needed for fuzzing: apt-get install clang-22"
    engine = REPO / "native_modules" / "engine"
    (tmp_path / "tm_ops.h").write_text(ops_header())
    srcs = sorted(engine.glob("tm_*.c")) + [engine / "kernels" / k for k in kernel_sources(KERNELS)]
    exe = tmp_path / "fuzz_model"
    cmd = [clang, "-std=c99", "-g", "-O1", "-fwrapv", "-fsanitize=fuzzer,address,undefined",
           "-fno-sanitize-recover=undefined", f"-I{tmp_path}", f"-I{engine}", "-o", str(exe),
           str(REPO / "native_modules" / "hostlib" / "fuzz_model.c"), *map(str, srcs)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return exe


def test_fuzz_parser_planner_kernels(tmp_path):
    exe = build_fuzzer(tmp_path)
    # Regression first: every input that once crashed must now be handled.
    for crasher in sorted(CORPUS.glob("*")):
        proc = subprocess.run([str(exe), str(crasher)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{crasher.name} crashes again:\n{proc.stderr[-3000:]}"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for model in sorted(MODELS.glob("*.tflite")):
        if model.stat().st_size < 120_000:  # small models keep iterations fast
            shutil.copy(model, seeds)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    proc = subprocess.run([str(exe), str(seeds), f"-max_total_time={FUZZ_SECONDS}", "-seed=1",
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
