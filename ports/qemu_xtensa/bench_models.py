"""Instructions per MAC of every reference model on the emulated Xtensa core, through the xtensawin module as
MicroPython loads it (`make bench-xtensa`; the table goes in docs/benchmarks.md).

Each model runs `tinyml bench --target qemu-xtensa` (device/bench.py: warm-up, then RUNS invokes counted with
board.instructions(), each emulated MULSH/MULUH counted as one instruction). Prints a Markdown table.
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tests"))

from refmodels import MODELS  # noqa: E402
from tinyml.runner import bench  # noqa: E402

ORDER = ["hello_world", "micro_speech", "ad01_int8", "kws_ref_model", "str_ww_ref_model", "vww_96_int8",
         "person_detection", "pretrainedResnet_quant"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="invokes counted per model (the count is exact: 2 suffice)")
    ap.add_argument("models", nargs="*", default=ORDER)
    args = ap.parse_args()
    rows = []
    for name in args.models:
        t0 = time.monotonic()
        info, _, result = bench(MODELS / f"{name}.tflite", target="qemu-xtensa", runs=args.runs)
        ipm = result["instructions"] / info.macs if info.macs else float("nan")
        rows.append((name, info.macs, result["instructions"], ipm, result["module_bytes"], result["arena_bytes"]))
        print(f"{name}: {result['instructions']} instructions, {ipm:.2f}/MAC ({time.monotonic() - t0:.0f} s)",
              file=sys.stderr)
    print("| model | MACs | instructions per invoke | instructions/MAC | module bytes | arena bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, macs, insns, ipm, module, arena in rows:
        print(f"| {name} | {macs:,} | {insns:,} | {ipm:.2f} | {module:,} | {arena:,} |")


if __name__ == "__main__":
    main()
