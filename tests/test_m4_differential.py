"""A seeded slice of the differential campaign of tests/m4diff/ (`make fuzz-m4` runs the long one): random
int8 models aimed at every Cortex-M4 fast path of the engine (CONV_2D channel pairs, constant-channel plans
including every channel constant, first-layer windows, DEPTHWISE 3x3 / K x 1 / one-input-channel paths,
FULLY_CONNECTED's four-unit path, ADD/SUB, and the three requantization forms at and beyond their stated
limits), a few hundred cases in one QEMU boot, every output compared with the TFLM wheel bit for bit.
Failing cases are saved under build/m4diff-quick/failures/ with their model, inputs and TFLM's outputs.
Each fast path was broken on purpose once to see this test fail (docs/testing.md lists how)."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "host"))

from m4diff import generate, harness  # noqa: E402

SEED = 20261203
PER_PATH = 22                     # 14 paths: about 300 cases, 3 input sets each


@pytest.fixture(scope="module")
def firmware():
    from tinyml.targets import qemu
    return qemu.build_firmware()


def _report(camp):
    lines = []
    for f in camp.failures[:20]:
        op = [{k: v for k, v in o.items() if k in ("op", "in", "out", "k", "stride", "dil", "same", "dm", "groups",
                                                   "act", "shift_min", "shift_max", "units", "channel_kinds", "a", "b",
                                                   "out_shift")}
              for o in f["params"].get("ops", [])]
        lines.append(f"{f['path']} seed {f['params'].get('seed')}: {f['kind']}: {str(f['detail'])[:160]} "
                     f"{json.dumps(op, default=str)[:400]} -> {f.get('saved')}")
    return "\n".join(lines)


def test_fast_paths_match_tflm_on_m4(firmware):
    import shutil
    fail_dir = REPO / "build" / "m4diff-quick" / "failures"
    shutil.rmtree(fail_dir, ignore_errors=True)
    camp = harness.Campaign(fail_dir)
    cases = [generate.make_case(path, generate.case_seed(SEED, i * len(generate.PATHS) + k))
             for i in range(PER_PATH) for k, path in enumerate(generate.PATHS)]
    harness.run_cases(camp, [cases])
    s = camp.summary()
    print("\n" + "\n".join(f"{r['path']}: {r['cases']} cases, {r['tflm_refused']} refused by TFLM, "
                           f"{r['failures']} failures" for r in s["rows"]))
    # Every path really ran (a generator that TFLM rejects wholesale would test nothing).
    for path in generate.PATHS:
        assert camp.cases[path] >= PER_PATH * 0.8, f"{path}: only {camp.cases[path]} cases ran"
    assert not camp.failures, f"{len(camp.failures)} cases differ from TFLM on the M4:\n{_report(camp)}"
