"""The `tinyml` command line: one subcommand per job, errors as one line and a non-zero exit status."""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from . import TinymlError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _load_inputs(path):
    path = Path(path)
    if not path.exists():
        raise TinymlError(f"input file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise TinymlError(f"cannot read {path} as .npy/.npz: {exc}") from None
    if isinstance(data, np.ndarray):
        return [data]
    keys = sorted(data.files, key=lambda k: int(k.rsplit("_", 1)[-1]) if k.rsplit("_", 1)[-1].isdigit() else 0)
    if not all(k.startswith("input_") for k in keys):
        raise TinymlError(f"{path}: an .npz needs keys input_0, input_1, ...; found {', '.join(data.files)}")
    return [data[k] for k in keys]


def _save_outputs(path, outputs):
    path = Path(path)
    if len(outputs) == 1 and path.suffix != ".npz":
        np.save(path, outputs[0])
    else:
        with open(path, "wb") as f:  # keep the exact name given
            np.savez(f, **{f"output_{i}": o for i, o in enumerate(outputs)})


def cmd_invoke(args):
    from .runner import invoke
    outputs = invoke(args.model, _load_inputs(args.input), args.target, args.port, small=args.small)
    _save_outputs(args.output, outputs)
    print(f"wrote {len(outputs)} output(s) to {args.output}: "
          + ", ".join(f"{o.shape} {o.dtype}" for o in outputs))


def cmd_stream(args):
    from .stream import stream
    outputs = stream(args.model, _load_inputs(args.input), args.target, args.port, small=args.small)
    _save_outputs(args.output, outputs)
    print(f"streamed {outputs[0].shape[0]} steps through one model instance; wrote {len(outputs)} output(s) to "
          f"{args.output}: " + ", ".join(f"{o.shape} {o.dtype}" for o in outputs))


def cmd_bench(args):
    from .runner import bench
    from . import oracle
    info, inputs, result = bench(args.model, args.target, args.port, args.runs, small=args.small)
    tflm_us = oracle.time_invoke(args.model, inputs, runs=max(args.runs, 5))
    result.update(model=Path(args.model).name, target=args.target if not args.port else args.port,
                  tflm_us=round(tflm_us, 1), macs=info.macs)
    if "instructions" in result:
        # Emulated board: its time is virtual, so compare instructions with TFLM+CMSIS-NN on the same
        # emulated Cortex-M4 when that figure is known (the M7 runs the same instructions; the M3 does not).
        from .reference import TFLM_CMSIS_NN_M4
        ref = TFLM_CMSIS_NN_M4.get(Path(args.model).stem, (None, None))[0]
        if args.target not in ("qemu-m4", "qemu-m7"):
            ref = None
        result["tflm_cmsis_nn_instructions"] = ref
        result["ratio"] = round(result["instructions"] / ref, 3) if ref else None
        result["ratio_basis"] = "instructions vs TFLM+CMSIS-NN on the same emulated Cortex-M4"
        if info.macs:
            result["instructions_per_mac"] = round(result["instructions"] / info.macs, 3)
    else:
        result["ratio"] = round(result["engine_us"] / tflm_us, 3) if tflm_us else None
        result["ratio_basis"] = "time vs the TFLM runtime (tflite-micro wheel) on this machine"
    if args.json:
        print(json.dumps(result))
        return
    if "instructions" in result:
        print(f"{result['model']} on {result['target']}: {result['instructions']} instructions per invoke, "
              f"{info.macs} MACs, {result.get('instructions_per_mac')} instructions/MAC")
        ref = result["tflm_cmsis_nn_instructions"]
        print(f"  TFLM+CMSIS-NN on the same emulated core: {ref if ref else 'no count for this model/core'}"
              + (f", ratio {result['ratio']}" if ref else ""))
    else:
        print(f"{result['model']} on {result['target']}: engine {result['engine_us']} us per invoke, "
              f"TFLM (tflite-micro wheel, this machine) {tflm_us:.0f} us, ratio {result['ratio']}")
    unit = "instructions" if "instructions" in result else "us"
    print(f"  import {result[f'import_{unit}']} {unit}, Model() {result[f'load_{unit}']} {unit}, "
          f"Python call overhead {result[f'python_call_overhead_{unit}']} {unit} per invoke")
    print(f"  arena {result['arena_bytes']} bytes, module {result['module_bytes']} bytes")
    for row in result["per_op"]:
        print(f"    {row['op']:<22} {row[unit]:>10} {unit}  {row['output_bytes']:>8} bytes out")


def cmd_check(args):
    from .check import check
    ok = check(args.model, args.arch, args.board, small=args.small, keep_inputs=args.keep_inputs)
    if not ok:
        sys.exit(1)


def cmd_pack(args):
    from .pack import pack, pack_target
    arch, chip = pack_target(args.arch, args.board)
    out = pack(args.model, arch, args.output, small=args.small, features=args.features or (), chip=chip)
    print(f"wrote {out} ({out.stat().st_size} bytes): on the board, `import {out.stem}; "
          f"{out.stem}.model.predict(x)`")


def _band_pairs(text, kind, convert):
    try:
        return [tuple(convert(v) for v in pair.split(":")) for pair in text.split(",")] if text else None
    except ValueError:
        raise TinymlError(f"--{kind} {text}: expected LO:HI pairs separated by commas, e.g. 0.5:3,3:8") from None


def cmd_motion_features(args):
    from .motion import feature_names, run_motion
    x = np.load(args.input)
    if x.dtype not in (np.float32, np.int16) or x.ndim not in (2, 3):
        raise TinymlError(f"{args.input}: expected float32 or int16 windows [windows, n, channels] or [n, channels]; "
                          f"got {x.dtype} {x.shape}")
    bands, bins = _band_pairs(args.bands, "bands", float), _band_pairs(args.bins, "bins", int)
    if any(len(b) != 2 for b in (bands or []) + (bins or [])):
        raise TinymlError("each band is LO:HI")
    feats, cost, resolved = run_motion(x, args.target, rate=args.rate, bands=bands, bins=bins, scale=args.scale)
    np.save(args.output, feats)
    unit = {"host": "", "unix": " us", "qemu-m4": " instructions"}[args.target]
    per = f", {cost / len(feats):.0f}{unit} per window" if cost is not None and len(feats) else ""
    names = feature_names(x.shape[-1], resolved)
    print(f"wrote {args.output}: {feats.shape[0]} windows x {feats.shape[1]} float32 (on {args.target}{per}); "
          f"bands as FFT bins [k0, k1): {resolved}")
    print("  features: " + ", ".join(names[:4 + len(resolved)]) + (", ... per channel" if x.shape[-1] > 1 else ""))


def cmd_features(args):
    if args.kind == "motion":
        return cmd_motion_features(args)
    from .features import run_audio
    pcm = np.load(args.input)
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise TinymlError(f"{args.input}: expected int16 PCM at 16 kHz, one dimension; got {pcm.dtype} {pcm.shape}")
    frames, cost = run_audio(pcm, args.target, args.config)
    np.save(args.output, frames)
    unit = {"host": "", "unix": " us", "qemu-m4": " instructions"}[args.target]
    per = f", {cost / len(frames):.0f}{unit} per frame" if cost is not None and len(frames) else ""
    print(f"wrote {args.output}: {len(frames)} frames x 40 uint16 ({args.config}, on {args.target}{per})")


def cmd_build(args):
    from .build import build_module
    import shutil
    mpy = build_module(args.arch)
    out = Path(args.output or f"tinyml-{args.arch}.mpy")
    shutil.copyfile(mpy, out)
    print(f"wrote {out} ({out.stat().st_size} bytes): copy it to the board as tinyml.mpy")


def cmd_demo(args):
    from .demo import run
    run(port=args.port)


def cmd_train(args):
    from .train import train
    train(args.job, args.out, data_dir=args.data, board_id=args.board, quick=args.quick, seed=args.seed,
          measure_latency=not args.no_latency)


def cmd_boards(args):
    from .boards import load_boards
    for b in load_boards().values():
        print(f"{b['id']:<18} {b['arch']:<10} {b['name']}")


def cmd_run(args):
    """A device script on the simulated board (boot after boot across deep sleeps) or on a real board."""
    files = []
    for spec in args.file or []:
        src, _, dest = spec.partition(":")
        files.append((src, dest or Path(src).name))
    if args.port:
        from .device_run import run_on_port
        run_on_port(args.port, args.script, files, as_main=args.main)
        return
    if args.board != "unix-sim":
        raise TinymlError(f"--board {args.board}: only unix-sim is simulated; give --port for a real board")
    from .simboard import run_script, SimError
    sim = json.loads(Path(args.sim).read_text() if Path(args.sim).exists() else args.sim) if args.sim else None
    try:
        run = run_script(args.script, data=_data_streams(args.data), data_rate=args.data_rate, boots=args.boots, files=files,
                         sim=sim, clock=args.clock, fs_dir=args.fs, engine=not args.no_engine, echo=print,
                         power_loss=tuple(args.power_loss_after or ()))
    except SimError as exc:
        sys.stderr.write(exc.traceback)
        raise
    last = run.boots[-1]
    print(f"[unix-sim] {len(run.boots)} boot(s); the last ended in {last.ended}")


def _data_streams(specs):
    """--data FILE (the IMU's stream) or --data NAME=FILE[@RATE], repeatable -> run_script's data."""
    if not specs:
        return None
    if len(specs) == 1 and "=" not in specs[0]:
        return specs[0]
    out = {}
    for spec in specs:
        name, _, path = spec.rpartition("=") if "=" in spec else ("imu", "", spec)
        rate = None
        if "@" in path:
            path, _, r = path.rpartition("@")
            rate = float(r)
        out[name] = (path, rate) if rate else path
    return out


def cmd_device_package(args):
    from .device_package import write_boards, package_json
    for path in write_boards():
        print(f"wrote {path}")
    if args.package_json:
        Path(args.package_json).write_text(json.dumps(package_json(), indent=1) + "\n")
        print(f"wrote {args.package_json}")


def cmd_report(args):
    from .boards import get_board
    from .build import ARCHES
    from .report_html import write
    archs = list(ARCHES) if not args.arch else [a.strip() for spec in args.arch for a in spec.split(",") if a.strip()]
    # The arch whose own plan the page draws (read back on its emulated board): the board's, else the first --arch.
    plan_arch = get_board(args.board)["arch"] if args.board else (archs[0] if args.arch else None)
    if args.board and plan_arch not in archs:
        archs.append(plan_arch)
    # An ESP32-family board's plan is its chip's build's (the ESP32's MAC16 kernels plan more scratch).
    from .pack import board_chip
    plan_chip = board_chip(get_board(args.board)) if args.board else None
    report = write(args.model, args.output, archs=archs, target=args.target, runs=args.runs, plan_arch=plan_arch,
                   plan_chip=plan_chip)
    measured = f", measured on {args.target}" if args.target else ""
    p = report["plan_arch"]
    compared = f"; {p['arch']} arena {p['arena_bytes']} bytes (on {p['target']})" if p else ""
    print(f"wrote {args.output}: {len(report['ops'])} ops, arena {report['arena']['arena_bytes']} bytes, "
          f"sizes for {', '.join(archs) or 'no arch'}{measured}{compared}")


def cmd_flash(args):
    """MicroPython onto an ESP32-family board with esptool, or the exact steps for any other board."""
    from .boards import get_board
    from .flash import flash, guidance
    if args.board:
        esptool_board = (get_board(args.board).get("flash") or {}).get("method") == "esptool"
        if not esptool_board or not args.port:    # steps to follow by hand (and an ESP32 board's, without --port)
            print(guidance(args.board, port=args.port, firmware=args.firmware))
            return
    if not args.port or not args.firmware:
        raise TinymlError("give --port and --firmware to flash an ESP32-family board, or --board B for the steps "
                          "of any board (e.g. tinyml flash --board pico)")
    flash(args.port, args.firmware, board=args.board, chip=args.chip, erase=not args.no_erase, baud=args.baud)


def cmd_deploy(args):
    from .deploy import deploy
    deploy(args.source, port=args.port, target=args.target, board_id=args.board, app=args.app, name=args.name,
           small=args.small, dist=args.dist)


def cmd_mip_dist(args):
    from .mip_dist import DIST_ARCHES, clean, make_dist
    archs = [a.strip() for spec in (args.arch or []) for a in spec.split(",") if a.strip()] or list(DIST_ARCHES)
    clean(args.dir)
    make_dist(args.dir, archs=archs, model=args.model, small=args.small, source=args.source)
    print(f"serve {args.dir} (any static web host); on a board: `mpremote mip install URL/package.json` for the "
          f"runtime, and `tinyml deploy MODEL.tflite --port P --dist URL` picks the engine's URL for the board")


def cmd_battery(args):
    from .battery import format_report, run
    report = run(args.board, args.model, every=args.every, battery_names=args.battery, bare_module=args.bare_module,
                 sensor_ms=args.sensor_ms, sensor_ma=args.sensor_ma, boot_ms=args.boot_ms, plot_path=args.plot)
    if args.json:
        print(json.dumps(report))
        return
    print(format_report(report))
    if args.plot:
        print(f"wrote {args.plot}")


def cmd_collect(args):
    """A labelled recording from a board's sensor into the dataset layout `tinyml train JOB --data DIR` reads."""
    from .collect import collect_takes
    if args.port and args.board:
        raise TinymlError("give --port (a real board) or --board unix-sim (the simulated one), not both")
    takes = dict(takes=args.takes, pause_s=args.pause, name=args.name)
    if args.port:
        collect_takes(args.port, args.job, args.label, args.seconds, args.out, **takes)
        return
    if args.board != "unix-sim":
        raise TinymlError("give --port PORT (e.g. /dev/ttyUSB0) for a real board, or --board unix-sim --data FILE "
                          "to try it on the simulated board")
    import tempfile
    from .sim_serial import serve_pty
    with tempfile.TemporaryDirectory(prefix="tinyml-collect-") as fs, \
            serve_pty(fs, data=_data_streams(args.data)) as port:
        print(f"[unix-sim] the simulated board is on {port}")
        collect_takes(port, args.job, args.label, args.seconds, args.out, **takes)


SMALL_HELP = "engine built for code size (-Os, no Cortex-M4 assembly paths): slower, a third of the code"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written where a line is indented (the examples: one command a line, never
    rewrapped) and wrapped to the terminal elsewhere (the long one-line descriptions)."""

    def _fill_text(self, text, width, indent):
        import textwrap
        return "\n".join(line if line.startswith(" ") or not line else
                         textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                         for line in text.splitlines())


def examples(*commands):
    """The epilog of a command's --help: its examples, one a line (tests/test_cli_help.py requires one)."""
    return "examples:\n" + "\n".join(f"  {c}" for c in commands)


def build_parser():
    """The whole command line: one subparser per command (tools/cli_reference.py writes docs/cli.md from it)."""
    parser = argparse.ArgumentParser(
        prog="tinyml", formatter_class=HelpFormatter,
        description="TinyML models on MicroPython boards: train a model, check that it fits a board, pack it with "
        "the int8 engine (bit-exact with TFLM) into one .mpy, deploy it and measure it. `tinyml COMMAND --help` "
        "says what a command does, with examples; docs/cli.md has them all.",
        epilog=examples("tinyml demo", "tinyml check model.tflite --board esp32",
                        "tinyml deploy model.tflite --port /dev/ttyUSB0"))
    # Each command's --help: its help line as the description (unless it has a longer one), its examples kept
    # as written (epilog).
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=lambda **kw: argparse.ArgumentParser(formatter_class=HelpFormatter, **kw))

    p = sub.add_parser("demo", help="train, quantize, build and run the gesture demo end to end",
                       epilog=examples("tinyml demo", "tinyml demo --port /dev/ttyUSB0"))
    p.add_argument("--port", help="serial port of a real board (default: the MicroPython unix port)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a model for a TinyML job, quantize it, check it and write a report; "
                       "e.g. `tinyml train gesture --out runs/gesture --board esp32`",
                       description="Data (synthesized, or --data DIR), features as the device computes them, a Keras "
                       "model for the board, full-int8 conversion, tinyml check, evaluation on held-out data (float, "
                       "int8, and the engine itself), latency on emulated cores, and DIR/report.md with plots.",
                       epilog=examples("tinyml train gesture --out runs/gesture --board esp32",
                                       "tinyml train kws --out runs/kws --quick"))
    p.add_argument("job", help="gesture, or kws (\"Hey IoT\" keyword spotting: `tinyml train kws --out runs/kws`), "
                   "anomaly (motor vibration, trained on normal only), presence (8x8 thermal frames) or digits "
                   "(scikit-learn's 8x8 handwritten digits): e.g. `tinyml train anomaly --out runs/anomaly`")
    p.add_argument("--out", required=True, help="output folder: model.tflite, job.json, report.json, report.md, *.png")
    p.add_argument("--data", help="your recordings instead of synthetic data (the folder layout is in the job's "
                   "tutorial, docs/tutorials/JOB.md)")
    p.add_argument("--board", help="a board id from `tinyml boards`: sizes the model and checks it against the board")
    p.add_argument("--quick", action="store_true", help="little data and few epochs (about a minute): for tests")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-latency", action="store_true", help="skip the instruction counts on the emulated cores")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("invoke", help="one inference of a model inside MicroPython through the native engine",
                       epilog=examples("tinyml invoke model.tflite --input in.npy --output out.npy",
                                       "tinyml invoke model.tflite --input in.npz --output out.npz --target qemu-m4"))
    p.add_argument("model")
    p.add_argument("--input", required=True, help=".npy (one input) or .npz with input_0, input_1, ...")
    p.add_argument("--output", required=True, help=".npy (one output) or .npz")
    p.add_argument("--target", default="unix",
                   help="unix (default), qemu-m4, qemu-m7, qemu-m3, qemu-xtensa (the xtensawin module on an emulated "
                        "ESP32-like core)")
    p.add_argument("--port", help="serial port of a real board instead of --target")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.set_defaults(func=cmd_invoke)

    p = sub.add_parser("stream", help="run a sequence of inputs through one model instance, step after step (a "
                       "streaming model keeps its state between steps); outputs stacked per step",
                       epilog=examples("tinyml stream okay_nabu.tflite --input frames.npy --output outs.npy",
                                       "tinyml stream model.tflite --input frames.npz --output outs.npz --target qemu-m4"))
    p.add_argument("model")
    p.add_argument("--input", required=True, help=".npy shaped (steps, *input_shape), or .npz with input_0, "
                   "input_1, ... each shaped so")
    p.add_argument("--output", required=True, help=".npy (one output) or .npz: (steps, *output_shape) each")
    p.add_argument("--target", default="unix", help="unix (default), qemu-m4, qemu-m7, qemu-m3, qemu-xtensa")
    p.add_argument("--port", help="serial port of a real board instead of --target")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("bench", help="time per invoke of the engine vs the TFLM runtime",
                       epilog=examples("tinyml bench model.tflite", "tinyml bench model.tflite --target qemu-m4 --json"))
    p.add_argument("model")
    p.add_argument("--target", default="unix",
                   help="unix (default), or an emulated board counting instructions: qemu-m4, qemu-m7, qemu-m3, "
                        "qemu-xtensa (e.g. `tinyml bench kws.tflite --target qemu-xtensa --json`)")
    p.add_argument("--port")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("check", help="pre-flight: will this model run on that board?",
                       description="Lists the model's ops (unsupported ones with the fix), measures the engine's "
                       "arena and code size for the arch, and compares RAM with the board's budget.",
                       epilog=examples("tinyml check model.tflite --board esp32",
                                       "tinyml check model.tflite --arch armv6m --small"))
    p.add_argument("model", help="the .tflite model")
    p.add_argument("--arch", help="x64, armv6m, armv7m, armv7emsp, xtensawin")
    p.add_argument("--board", help="a board id from `tinyml boards` (sets the arch and RAM budget)")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.add_argument("--keep-inputs", action="store_true",
                   help="count the arena as Model(buf, keep_inputs=True) plans it: invoke() never overwrites inputs")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("pack", help="one .mpy with the engine (only this model's kernels) and the model",
                       epilog=examples("tinyml pack model.tflite --board esp32 -o gesture.mpy",
                                       "tinyml pack model.tflite --board esp32s2 -o gesture.mpy",
                                       "tinyml pack kws.tflite --arch armv7emsp -o kws.mpy --features audio"))
    p.add_argument("model")
    p.add_argument("--arch", help="the MicroPython native arch to build for (xtensawin, armv6m, armv7m, armv7emsp, "
                   "x64); --board gives it")
    p.add_argument("--board", help="build for this board (boards/*.json): its arch and, on the ESP32 family, its "
                   "chip (esp32/esp32s3: MAC16 kernels; esp32s2: no FPU, soft float)")
    p.add_argument("-o", "--output", required=True, help="NAME.mpy: `import NAME` on the board")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.add_argument("--features", action="append", choices=["audio", "motion"],
                   help="also compile in a feature pipeline: audio = tinyml.AudioFrontend (TFLM's audio frontend), "
                   "motion = tinyml.MotionFeatures (statistics and FFT band energies, CMSIS-DSP)")
    p.set_defaults(func=cmd_pack)

    p = sub.add_parser("features", help="compute a model's input features on a target (audio: TFLM's frontend; "
                       "motion: statistics and FFT band energies)",
                       epilog=examples("tinyml features audio speech.npy -o frames.npy --target qemu-m4",
                                       "tinyml features motion windows.npy -o features.npy --rate 50 --bands 0.5:3,3:8"))
    p.add_argument("kind", choices=["audio", "motion"])
    p.add_argument("input", help="audio: int16 PCM at 16 kHz, .npy of one dimension; motion: float32 or int16 "
                   "windows [windows, n, channels]")
    p.add_argument("-o", "--output", required=True, help=".npy: audio: uint16 frames [n, 40]; motion: float32 "
                   "[windows, channels x (4 + bands)]")
    p.add_argument("--target", default="host", choices=["host", "unix", "qemu-m4"],
                   help="host (the same C through ctypes, default), unix (x64 module), qemu-m4 (emulated M4)")
    p.add_argument("--config", default="microwakeword", choices=["microwakeword", "micro_speech"],
                   help="microwakeword: 30 ms windows every 10 ms (default); micro_speech: every 20 ms")
    p.add_argument("--rate", type=float, help="motion: samples per second (needed for --bands in Hz)")
    p.add_argument("--bands", help="motion: bands in Hz, LO:HI,... (e.g. 0.5:3,3:8,8:20): bins k with LO <= k*rate/n < HI")
    p.add_argument("--bins", help="motion: bands as FFT bin ranges K0:K1,... (half-open)")
    p.add_argument("--scale", type=float, default=1.0, help="motion: each sample is taken times this (e.g. int16 "
                   "counts to g)")
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("build", help="the generic engine module (all kernels) for an arch",
                       epilog=examples("tinyml build --arch xtensawin -o tinyml.mpy"))
    p.add_argument("--arch", default="x64")
    p.add_argument("-o", "--output")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("boards", help="list the supported boards", epilog=examples("tinyml boards"))
    p.set_defaults(func=cmd_boards)

    p = sub.add_parser("run", help="run a device script on the simulated board (unix-sim) or a real one (--port)",
                       epilog=examples("tinyml run app.py --data imu.npy --boots 5",
                                       "tinyml run app.py --port /dev/ttyUSB0 --main"))
    p.add_argument("script")
    p.add_argument("--board", default="unix-sim", help="unix-sim (default): the simulated ESP32-like board")
    p.add_argument("--port", help="serial port of a real board: copies tinyml_device and the files, then mpremote run")
    p.add_argument("--data", action="append",
                   help="sensor data: FILE for the simulated IMUs (.npy/.npz/.csv rows of ax,ay,az [g] (+gx,gy,gz)), "
                   "or NAME=FILE[@RATE] for the stream NAME (thermal: 64 pixels in C; adc: volts; mic: 16-bit "
                   "mono .wav/.npy); repeatable")
    p.add_argument("--data-rate", type=float, help="rows per second in --data (default 50, or `rate` in an .npz)")
    p.add_argument("--boots", type=int, default=1, help="boots to run: each deep sleep ends one (default 1)")
    p.add_argument("--file", "-f", action="append", help="SRC[:NAME] copied to the device's filesystem (repeatable)")
    p.add_argument("--sim", help="JSON overriding the board's simulation (e.g. {\"devices\": []})")
    p.add_argument("--clock", default="hybrid", choices=["hybrid", "virtual"],
                   help="hybrid: real compute time, sleeps skipped (default); virtual: only sleeps move time")
    p.add_argument("--fs", help="keep the device's filesystem in this directory (default: a fresh temporary one)")
    p.add_argument("--no-engine", action="store_true", help="do not put tinyml.mpy (x64, all kernels) on the device")
    p.add_argument("--power-loss-after", type=int, action="append", metavar="N",
                   help="cut the power while boot N sleeps: RTC memory and sensor state are lost, files are kept, "
                   "the next boot is a power-on (repeatable; e.g. --boots 6 --power-loss-after 3)")
    p.add_argument("--main", action="store_true", help="--port: install the script as main.py and reset (what a "
                   "deep-sleeping script needs: the board runs main.py after each wake)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("device-package", help="regenerate tinyml_device/boards/ from boards/*.json",
                       epilog=examples("tinyml device-package --package-json device/package.json"))
    p.add_argument("--package-json", help="also write a package.json for `mpremote mip install`")
    p.set_defaults(func=cmd_device_package)

    p = sub.add_parser("flash", help="write a MicroPython firmware to an ESP32-family board with esptool (chip "
                       "detected, erased, written at its offset, verified), or print the steps for another board; "
                       "e.g. `tinyml flash --port /dev/ttyUSB0 --firmware ESP32_GENERIC-v1.28.0.bin` or "
                       "`tinyml flash --board pico`",
                       description="ESP32 family: esptool detects the chip, checks that the firmware is built for it, "
                       "erases the flash, writes the firmware at the chip's offset (ESP32 and S2 0x1000, S3/C3/C6 0x0) "
                       "and verifies its MD5. Pico, Nano 33 BLE, Nucleo and pyboard: their exact steps (UF2 drive, "
                       "bossac, st-flash, dfu-util) and firmware page. See docs/flash.md.",
                       epilog=examples("tinyml flash --port /dev/ttyUSB0 --firmware ESP32_GENERIC-v1.28.0.bin",
                                       "tinyml flash --board pico"))
    p.add_argument("--port", help="the board's serial port (/dev/ttyUSB0, /dev/ttyACM0, COM4)")
    p.add_argument("--firmware", help="the MicroPython firmware downloaded from micropython.org/download "
                   "(ESP32 family: the .bin)")
    p.add_argument("--board", help="a board id from `tinyml boards`: checks the firmware is for its chip; boards "
                   "not flashed with esptool (pico, nano33ble, nucleo-f446re, pyboard) get their exact steps")
    p.add_argument("--chip", default="auto", help="auto (default: esptool detects it), esp32, esp32s2, esp32s3, "
                   "esp32c3, esp32c6, ...")
    p.add_argument("--no-erase", action="store_true", help="write without erasing the rest of the flash first (faster; "
                   "the filesystem then keeps what the old firmware left there)")
    p.add_argument("--baud", type=int, default=460800, help="serial speed while writing (default 460800; "
                   "115200 if a write fails partway)")
    p.set_defaults(func=cmd_flash)

    p = sub.add_parser("report", help="one self-contained HTML page about a model: its graph, the engine's arena "
                       "timeline, MACs and measured cost per op, module bytes per arch; e.g. `tinyml report "
                       "model.tflite -o report.html --target qemu-m4`",
                       description="Writes one HTML page that needs no network. Example: `tinyml report "
                       "model.tflite -o report.html --target unix --arch x64,armv6m` (sizes for two archs, cost per "
                       "op in microseconds on the unix port). Without --target nothing is run on a target.",
                       epilog=examples("tinyml report model.tflite -o report.html",
                                       "tinyml report model.tflite -o report.html --target qemu-m4 --arch armv7emsp"))
    p.add_argument("model", help="the .tflite model")
    p.add_argument("-o", "--output", required=True, help="the .html file to write (opens offline in any browser)")
    p.add_argument("--target", choices=["unix", "qemu-m4"],
                   help="also measure the cost of each op: unix (microseconds, a second or two) or qemu-m4 "
                   "(exact instructions on the emulated Cortex-M4, longer); default: no measurement")
    p.add_argument("--arch", action="append",
                   help="archs to build for the size table, comma-separated or repeated (default: x64, armv6m, "
                   "armv7m, armv7emsp, xtensawin; builds are cached); the first one's own arena is read back on its "
                   "emulated board and compared with the host plan (e.g. --arch armv7emsp: on qemu-m4)")
    p.add_argument("--board", help="compare the plan with this board's arch instead (e.g. --board esp32: "
                   "xtensawin on qemu-xtensa)")
    p.add_argument("--runs", type=int, default=3, help="invokes timed per measurement (default 3)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("deploy", help="put a model on a board and run one inference there: checks the firmware, "
                       "picks the arch, checks memory, copies with mpremote; e.g. `tinyml deploy gesture.tflite "
                       "--port /dev/ttyUSB0 --app app.py` or `tinyml deploy runs/gesture --target qemu-m4`",
                       description="Asks the board for sys.implementation (_mpy, version), refuses firmware that "
                       "cannot run native modules safely (ESP32 before 1.24), picks the arch, checks free heap (and "
                       "the ESP32's executable heap) against the module and its arena, copies the module, the "
                       "tinyml_device files the app imports and the app (as main.py) with mpremote, then times one "
                       "inference on the board. See docs/deploy.md.",
                       epilog=examples("tinyml deploy gesture.tflite --port /dev/ttyUSB0 --app app.py",
                                       "tinyml deploy runs/gesture --target qemu-m4"))
    p.add_argument("source", help="MODEL.tflite, MODEL.mpy (from tinyml pack) or a JOB_DIR (tinyml train --out: "
                   "model.tflite, report.json, app.py)")
    p.add_argument("--port", help="serial port of the board, e.g. /dev/ttyUSB0")
    p.add_argument("--target", help="an emulated board instead: qemu-m4, qemu-m7, qemu-m3 (a rehearsal)")
    p.add_argument("--board", help="a board id from `tinyml boards` (default: from the job's report.json, or "
                   "recognised from the board's sys.implementation._machine)")
    p.add_argument("--app", help="SCRIPT.py installed as main.py, with the tinyml_device modules it imports")
    p.add_argument("--name", help="module name on the board (default: the model's or the job's name)")
    p.add_argument("--dist", help="a `tinyml mip-dist` folder or its URL: the engine comes from there (a URL via "
                   "`mpremote mip install`), the model is copied as NAME.tflite")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("mip-dist", help="a folder for `mpremote mip install`: the device runtime's package.json and "
                       "the engine per arch as ARCH_6.3/tinyml.mpy; e.g. `tinyml mip-dist dist --arch armv6m,xtensawin`",
                       epilog=examples("tinyml mip-dist dist --arch armv6m,xtensawin",
                                       "tinyml mip-dist dist --model model.tflite"))
    p.add_argument("dir", help="output folder (its package.json, tinyml_device/ and *_6.3/ are replaced)")
    p.add_argument("--arch", action="append", help="archs to build, comma-separated (default: armv6m, armv7m, "
                   "armv7emsp, xtensawin)")
    p.add_argument("--model", help="engines with only this .tflite's kernels (smaller) instead of every kernel")
    p.add_argument("--small", action="store_true", help=SMALL_HELP)
    p.add_argument("--source", action="store_true", help="ship the runtime as .py (default: bytecode .mpy)")
    p.set_defaults(func=cmd_mip_dist)

    p = sub.add_parser("battery", help="expected battery life of a board that wakes, runs the model once and sleeps, "
                       "with every assumption and its source; e.g. `tinyml battery --board esp32 --model "
                       "model.tflite --every 60s --battery cr2032,2xAA --plot life.png`",
                       description="Wake energy from the board's figures (boards/B.json \"energy\") and instructions "
                       "measured on an emulated board (import, model load, inference), sleep current of the board as "
                       "sold or of the bare module, battery capacity derated by load, self-discharge, shelf life and "
                       "pulse limits (host/tinyml/data/batteries.json). See docs/battery.md.",
                       epilog=examples("tinyml battery --board esp32 --model model.tflite --every 60s",
                                       "tinyml battery --board pico --model runs/gesture --battery 2xAA --plot life.png"))
    p.add_argument("--board", required=True, help="a board id with current figures: esp32, esp32s3, "
                   "xiao-esp32s3-sense, pico, pyboard")
    p.add_argument("--model", required=True, help="M.tflite, or a JOB_DIR from `tinyml train` (its model.tflite)")
    p.add_argument("--every", default="60s", help="wake interval: 500ms, 60s, 5min, 1h, 1d (default 60s)")
    p.add_argument("--battery", action="append", help="cr2032, 2xAA, lipo-1000; comma-separated or repeated "
                   "(default: all three)")
    p.add_argument("--bare-module", action="store_true", help="the module's own sleep current instead of the dev "
                   "board's (a DevKitC draws mA asleep through its regulator and USB bridge, the module uA)")
    p.add_argument("--sensor-ms", type=float, default=0.0, help="sensor on-time per wake, ms, with the board awake "
                   "(default 0)")
    p.add_argument("--sensor-ma", type=float, default=0.0, help="the sensor's own current while on, mA (default 0)")
    p.add_argument("--boot-ms", type=float, help="your measured boot-to-main.py time, ms, instead of the board's "
                   "figure (e.g. 70 for an ESP32 firmware with a frozen _boot.py)")
    p.add_argument("--plot", help="FILE.png: current over one cycle and life against wake interval")
    p.add_argument("--json", action="store_true", help="print one JSON object (every number with its source)")
    p.set_defaults(func=cmd_battery)

    p = sub.add_parser("collect", help="record a labelled example from a board's sensor into the folder layout "
                       "`tinyml train JOB --data DIR` reads, over mpremote; resumes after a dropped link; e.g. "
                       "`tinyml collect --port /dev/ttyUSB0 --job gesture --label wing --seconds 2 --out data/`",
                       description="Copies a sampler to the board, samples the job's sensor there from timer "
                       "callbacks into RAM and streams it as numbered, CRC-checked lines; if the link drops the "
                       "board keeps sampling and the host asks again from the last frame it has. Writes "
                       "DIR/LABEL/LABEL-DATE.csv|npy|wav. See docs/collect.md.",
                       epilog=examples("tinyml collect --port /dev/ttyUSB0 --job gesture --label wing --seconds 2 "
                                       "--out data/",
                                       "tinyml collect --board unix-sim --data imu.npy --job gesture --label idle "
                                       "--seconds 2 --out data/"))
    p.add_argument("--port", help="the board's serial port (/dev/ttyUSB0, /dev/ttyACM0, COM3)")
    p.add_argument("--board", help="unix-sim: the simulated board on a pseudo-terminal (with --data), no hardware")
    p.add_argument("--data", action="append", help="with --board unix-sim: what its sensors play back, as in "
                   "`tinyml run` (FILE for the IMU, or thermal=FILE, mic=FILE.wav, adc=FILE)")
    p.add_argument("--job", required=True, help="gesture (MPU6050, 50 Hz, CSV in g), presence (AMG8833, 10 fps, "
                   "NPY in degC), kws (INMP441, 16 kHz WAV) or anomaly (ADC pin, 1 kHz, CSV in volts)")
    p.add_argument("--label", required=True, help="the class this example is: a folder name the job's training "
                   "reads (gesture: idle, circle, wing, slope, shake)")
    p.add_argument("--seconds", type=float, required=True, help="how long to record, e.g. 2")
    p.add_argument("--out", required=True, help="the dataset folder (DIR of `tinyml train JOB --data DIR`)")
    p.add_argument("--name", help="file name without suffix (default LABEL-YYYYmmdd-HHMMSS; with --takes, NAME-K)")
    p.add_argument("--takes", type=int, default=1, help="record this many examples in a row, one file each, e.g. "
                   "--takes 20 for twenty gestures (default 1)")
    p.add_argument("--pause", type=float, default=3.0, help="with --takes: seconds of countdown before each take "
                   "(default 3)")
    p.set_defaults(func=cmd_collect)

    for action in sub._choices_actions:  # a command without a description: its help line says what it does
        command = sub.choices[action.dest]
        command.description = command.description or action.help
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except TinymlError as exc:
        print(f"tinyml: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
