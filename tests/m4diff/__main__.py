"""The long differential campaign on the emulated Cortex-M4 (`make fuzz-m4 MINUTES=20 SEED=...`):

    .venv/bin/python -m m4diff --minutes 20 [--seed N] [--batch 150] [--out build/m4diff]   (from tests/)

Cases are drawn round-robin over the fast paths (generate.PATHS), `--batch` per QEMU boot. Progress every
boot; at the end a table of cases per path, models TFLM refused, failures, throughput. Failing cases are
saved under --out/failures/<path>-<seed>-<index>/ (model.tflite, input*.npy, tflm*.npy, engine*.npy,
case.json); the summary goes to --out/summary.json. Exit status 1 if anything failed."""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "host"))

from m4diff import generate, harness  # noqa: E402


def batches(seed, batch, deadline, paths, limit=None):
    index = 0
    while time.monotonic() < deadline and (limit is None or index < limit):
        cases = []
        for _ in range(batch):
            path = paths[index % len(paths)]
            cases.append(generate.make_case(path, generate.case_seed(seed, index)))
            index += 1
        yield cases


def table(summary):
    lines = ["| path | cases | input sets | TFLM refused | failures |", "|---|---|---|---|---|"]
    for r in summary["rows"]:
        lines.append(f"| {r['path']} | {r['cases']} | {r['input_sets']} | {r['tflm_refused']} | {r['failures']} |")
    lines.append(f"| **total** | {summary['cases']} | {summary['input_sets']} | {summary['refused']} | "
                 f"{summary['failures']} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    ap.add_argument("--batch", type=int, default=150, help="cases per QEMU boot")
    ap.add_argument("--cases", type=int, default=None, help="stop after this many cases")
    ap.add_argument("--paths", default=",".join(generate.PATHS))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "build" / "m4diff"))
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    paths = [p for p in args.paths.split(",") if p]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    camp = harness.Campaign(out / "failures")
    print(f"m4diff: seed {seed}, {args.minutes:g} minutes, {args.batch} cases per boot, paths {','.join(paths)}",
          flush=True)
    reported = [0]

    def progress(c):
        s = c.summary()
        print(f"[{s['seconds'] / 60:5.1f} min] {s['cases']} cases ({s['cases_per_second']:.1f}/s), "
              f"{s['refused']} refused by TFLM, {s['failures']} failures", flush=True)
        for f in c.failures[reported[0]:]:
            print(f"  FAIL {f['path']} {f['kind']}: {str(f['detail'])[:200]} -> {f.get('saved')}", flush=True)
        reported[0] = len(c.failures)

    deadline = time.monotonic() + 60 * args.minutes
    harness.run_cases(camp, batches(seed, args.batch, deadline, paths, args.cases), progress)
    s = camp.summary()
    s["seed"] = seed
    s["failure_list"] = [{k: f[k] for k in ("path", "kind", "detail", "saved") if k in f} for f in camp.failures]
    (out / "summary.json").write_text(json.dumps(s, indent=1, default=str))
    print(table(s))
    print(f"seed {seed}: {s['cases']} cases, {s['input_sets']} input sets in {s['seconds']:.0f} s "
          f"({s['cases_per_second']:.1f} cases/s; QEMU waited on {s['device_seconds']:.0f} s), "
          f"{s['refused']} refused by TFLM, {s['failures']} failures", flush=True)
    return 1 if camp.failures else 0


if __name__ == "__main__":
    sys.exit(main())
