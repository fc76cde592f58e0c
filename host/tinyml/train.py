"""`tinyml train JOB --out DIR`: one recipe for every TinyML job, from data to a checked int8 model and a report.

  1. data       synthesized (host/tinyml/jobs/<job>.py says how, and the report says it is synthetic) or the
                user's recordings (--data DIR, the job's folder layout), split into train / validation / held-out
  2. features   computed by the job with the code the device runs
  3. model      a Keras model sized for the board, trained with a line of progress per epoch
  4. int8       full-int8 .tflite, calibrated on training samples (the TF Lite converter)
  5. check      `tinyml check` against the board: ops, arena, code size
  6. evaluate   on held-out data: the float Keras model, the int8 model in TFLM (and TF Lite's kernels), and the int8
                model in the engine itself (the C the board runs, built for this machine); plus how many of the
                engine's outputs equal TFLM's (the tflite-micro wheel) byte for byte
  7. latency    instructions per inference on the emulated Cortex-M4, turned into time at each board's clock
  8. report     DIR/report.json, DIR/report.md and the plots (host/tinyml/train_report.py)

DIR also gets model.tflite (what `tinyml pack` / `tinyml deploy` take), model.keras (the float model) and job.json (what the device app needs
to know: classes, rate, window, input quantization)."""

import contextlib
import importlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import TinymlError, progress

JOBS = ("gesture", "kws", "anomaly", "presence", "digits")


def get_job(name):
    if name not in JOBS:
        raise TinymlError(f"unknown job {name!r}: choose one of {', '.join(JOBS)}")
    return importlib.import_module(f".jobs.{name}", __package__).JOB


def _step(n, total, text):
    print(f"\n[{n}/{total}] {text}", flush=True)


def split(ds, seed, fraction):
    """(rest, held-out): whole recordings go to one side when the data set has groups."""
    rng = np.random.default_rng(seed)
    if ds.groups is not None:
        ids = np.unique(ds.groups)
        rng.shuffle(ids)
        n_out = max(1, int(round(len(ids) * fraction)))
        held = np.isin(ds.groups, ids[:n_out])
        if held.all():
            raise TinymlError("too few recordings to hold some out: record at least 5 per class")
        return ds.subset(np.flatnonzero(~held)), ds.subset(np.flatnonzero(held))
    idx = rng.permutation(len(ds))
    n_out = max(1, int(round(len(ds) * fraction)))
    return ds.subset(idx[n_out:]), ds.subset(idx[:n_out])


def quantize_inputs(x, scale, zero_point):
    """float -> int8 as the engine's predict() and TFLM's QUANTIZE do: float32 division, round half away from
    zero, clamp."""
    q = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float64)
    r = np.sign(q) * np.floor(np.abs(q) + 0.5)
    return np.clip(r + zero_point, -128, 127).astype(np.int8)


# Progress of the long steps (training, calibration, evaluation) goes to stdout, the log `tinyml train` writes:
# a rich bar on a terminal, plain lines in a pipe or a CI log (tinyml.progress decides by the stream).
PROGRESS_STREAM = sys.stdout

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def epoch_note(logs) -> str:
    """The metrics shown beside the training bar, e.g. 'loss 0.4120, accuracy 0.8810'."""
    logs = logs or {}
    return ", ".join(f"{k} {logs[k]:.4f}" for k in EPOCH_METRICS if k in logs)   # in this order, whatever Keras's


class EpochProgress:
    """A Keras callback advancing a tinyml.progress bar by one step per epoch, the epoch's metrics as its note.
    The bar comes from the caller's `with progress.task(...)`, which also ends it when fit() raises."""

    def __new__(cls, bar):
        import tensorflow as tf

        class _Progress(tf.keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                bar.update(completed=epoch + 1, note=epoch_note(logs))
        return _Progress()


class CountedSamples:
    """The calibration samples, advancing `bar` as the converter reads them (it may read them more than once;
    the bar stops at the number of samples)."""

    def __init__(self, samples, bar):
        self.samples, self.bar = samples, bar

    def __len__(self):
        return len(self.samples)

    def __iter__(self):
        for i, sample in enumerate(self.samples):
            yield sample
            self.bar.update(completed=min(i + 1, len(self.samples)))


def tflite_reference(model_bytes):
    """(TF Lite interpreter with its reference kernels, input index, output index), tensors allocated. Not the
    default XNNPACK delegate: it rounds some int8 convolutions differently from TFLM."""
    import warnings
    import tensorflow as tf
    with warnings.catch_warnings():     # "tf.lite.Interpreter is deprecated": it is still TF's int8 reference
        warnings.simplefilter("ignore")
        interp = tf.lite.Interpreter(model_content=model_bytes,
                                     experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    return interp, interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]


def evaluate(job, model_path, keras_model, x_test, y_test):
    """The job's metric on the held-out features: float Keras, int8 in TFLM, int8 in TF Lite's reference kernels,
    int8 in the engine; and how many of the engine's outputs equal TFLM's byte for byte."""
    from . import oracle
    from .hostlib import HostEngine
    from .model_info import read_model

    model_bytes = Path(model_path).read_bytes()
    info = read_model(model_path)
    tin, tout = info.inputs[0], info.outputs[0]
    xq = quantize_inputs(x_test, tin.scale, tin.zero_point).reshape((len(x_test),) + tuple(tin.shape[1:]))

    def dequant(q):
        return (q.astype(np.float32) - tout.zero_point) * np.float32(tout.scale)

    float_out = keras_model.predict(x_test, verbose=0, batch_size=256)
    interp, i_in, i_out = tflite_reference(model_bytes)
    tflite_q, engine_q, tflm_q = [], [], []
    engine = HostEngine(model_bytes, ops=info.op_names)
    tflm = oracle.interpreter(model_path)
    with progress.task("Evaluating int8 (TF Lite, engine, TFLM)", total=len(xq), stream=PROGRESS_STREAM) as bar:
        for x in xq:
            interp.set_tensor(i_in, x[None])
            interp.invoke()
            tflite_q.append(interp.get_tensor(i_out)[0].copy())
            engine_q.append(engine.invoke([x[None]], [(np.dtype(tout.dtype), tout.shape)])[0][0])
            tflm.set_input(x[None], 0)
            tflm.invoke()
            tflm_q.append(tflm.get_output(0)[0].copy())
            bar.advance()
    tflite_q, engine_q, tflm_q = np.stack(tflite_q), np.stack(engine_q), np.stack(tflm_q)
    engine.close()
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    # "int8" is the quantized model as TFLM (the tflite-micro runtime, the reference for microcontrollers) runs it;
    # TF Lite's own reference kernels round a few int8 cases differently (e.g. requantizing pools and SOFTMAX),
    # so they are reported beside it as "int8_tflite", for comparison with what TF users see.
    return {
        "float": job.score(flat(float_out), y_test),
        "int8": job.score(flat(dequant(tflm_q)), y_test),
        "int8_tflite": job.score(flat(dequant(tflite_q)), y_test),
        "engine": job.score(flat(dequant(engine_q)), y_test),
        "engine_identical_to_tflm": int((flat(engine_q) == flat(tflm_q)).all(axis=1).sum()),
        "held_out": int(len(y_test)),
        "decisions": {"float": job.decide(flat(float_out)), "int8": job.decide(flat(dequant(tflm_q))),
                      "int8_tflite": job.decide(flat(dequant(tflite_q))),
                      "engine": job.decide(flat(dequant(engine_q)))},
        "engine_outputs": flat(dequant(engine_q)),
        "model_path": str(model_path),     # for jobs whose report_extra runs the model further (kws: streams)
    }


# Emulated cores whose instruction counts stand for a board's arch; timing.core_timing turns them into time at
# each board's clock and cycles per instruction (boards/*.json "energy"), as `tinyml battery` does.
LATENCY_TARGETS = {"armv7emsp": ("qemu-m4", "Cortex-M4 instructions"), "armv7m": ("qemu-m3", "Cortex-M3 instructions"),
                   "xtensawin": ("qemu-xtensa", "Xtensa instructions (the xtensawin module on QEMU's LX core)")}


def latency(model_path, boards, arches=("armv7emsp", "armv7m", "xtensawin")):
    """Exact instructions per inference on the emulated cores, and what that is at each board's clock."""
    from .runner import bench
    counts, arena = {}, None
    for arch in arches:
        target, _ = LATENCY_TARGETS[arch]
        _, _, result = bench(model_path, target=target, runs=2)
        counts[arch] = result["instructions"]
        arena = arena or result["arena_bytes"]
    return {"instructions": {LATENCY_TARGETS[a][0]: n for a, n in counts.items()}, "arena_bytes": arena,
            "boards": board_latencies(counts, boards),
            "not_measured": sorted(b["id"] for b in boards.values() if b["arch"] not in counts)}


def board_latencies(counts, boards):
    """{board id: ms per inference and its basis} from instructions per inference by arch ({'armv7emsp': n})."""
    from .timing import core_timing
    per_board = {}
    for b in boards.values():
        # MicroPython's own clock on the board and the cycles per instruction that `tinyml battery` uses
        # (timing.core_timing: boards/*.json "energy", with sources, else the "mcu" clock at 1 per instruction)
        timing = core_timing(b) if b.get("arch") in counts else None
        if timing is None:
            continue
        per_board[b["id"]] = {"ms": round(timing.ms(counts[b["arch"]]), 3), "clock_mhz": round(timing.clock_hz / 1e6),
                              "basis": f"{LATENCY_TARGETS[b['arch']][1]}, emulated and exact, "
                                       f"{timing.basis()} (boards/{b['id']}.json"
                                       + (", an estimate)" if timing.estimate else ")")}
    return per_board


def train(job_name, out_dir, data_dir=None, board_id=None, quick=False, seed=0, measure_latency=True, sizes=None,
          latency_arches=("armv7emsp", "armv7m", "xtensawin")):
    """Run the recipe; returns the report dict (also written to out_dir/report.json). `sizes` overrides the
    job's quick/full sizes (the demo's)."""
    import tensorflow as tf
    from .boards import get_board, load_boards
    from .check import check
    from .model_info import read_model
    from .quiet import quiet
    from . import train_report

    job = get_job(job_name)
    board = get_board(board_id) if board_id else None
    sizes = sizes or (job.quick if quick else job.full)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total, t_start = 8, time.time()

    _step(1, total, f"{job.title}: data")
    if data_dir:
        ds = job.load(data_dir)
        train_ds, test_ds = split(ds, seed, 0.2)
        print(f"      {len(ds)} {job.unit} from {data_dir}: {len(train_ds)} to train, {len(test_ds)} held out "
              f"(whole recordings)")
    else:
        train_ds, test_ds = job.dataset(sizes, seed)
        print(f"      {'SYNTHETIC: ' if train_ds.synthetic else ''}{len(train_ds)} training and {len(test_ds)} "
              f"held-out {job.unit}; {train_ds.source}")
    if job.train_classes:   # one-class training (anomaly detection): the other classes are only held out
        keep = [train_ds.classes.index(c) for c in job.train_classes]
        train_ds = train_ds.subset(np.flatnonzero(np.isin(train_ds.y, keep)))
    counts = np.bincount(train_ds.y, minlength=len(train_ds.classes))
    print("      per class: " + ", ".join(f"{c} {n}" for c, n in zip(train_ds.classes, counts)))
    fit_ds, val_ds = split(train_ds, seed + 1, 0.1)

    _step(2, total, "Features, with the code the device runs")
    t0 = time.time()
    x_fit, x_val, x_test = (job.features(d.x) for d in (fit_ds, val_ds, test_ds))
    print(f"      input {x_fit.shape[1:]} float32 per {job.unit.rstrip('s')} ({time.time() - t0:.1f} s)")

    _step(3, total, f"Training ({sizes.epochs} epochs)" + (f" for {board['name']}" if board else ""))
    tf.keras.utils.set_random_seed(seed)
    with quiet():
        model = job.build_model(x_fit.shape[1:], len(train_ds.classes), board)
    t0 = time.time()
    # interval=0: in a log, one line per epoch (with its metrics), as a terminal shows the bar move
    with progress.task("Training", total=sizes.epochs, stream=PROGRESS_STREAM, interval=0) as bar:
        history = job.fit(model, x_fit, job.targets(fit_ds), x_val, job.targets(val_ds), sizes.epochs,
                          [EpochProgress(bar)])
    train_seconds = time.time() - t0
    model.save(out / "model.keras")     # the float model, to fine-tune or convert again later

    rep = job.representative(x_fit, np.random.default_rng(seed))
    _step(4, total, f"Full-int8 conversion (TF Lite converter, {len(rep)} calibration inputs)")
    with progress.task("Converting to int8 (calibration inputs)", total=len(rep), stream=PROGRESS_STREAM) as bar:
        tflite = job.convert(model, CountedSamples(rep, bar))
    model_path = out / "model.tflite"
    model_path.write_bytes(tflite)
    info = read_model(model_path)
    print(f"      {model_path}: {len(tflite)} bytes, {info.macs} MACs, ops {', '.join(sorted(set(info.op_names)))}")

    _step(5, total, "tinyml check" + (f" --board {board_id}" if board_id else ""))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ok = check(model_path, board_id=board_id) if board_id else check(model_path)
    check_text = buf.getvalue()
    print("      " + check_text.strip().replace("\n", "\n      "))
    if not ok:
        raise TinymlError(f"the model does not pass tinyml check{' for ' + board_id if board_id else ''}: "
                          "see above")

    _step(6, total, f"Evaluating on {len(test_ds)} held-out {job.unit}: float Keras, int8 in TFLM and TF Lite, int8 engine")
    t0 = time.time()
    ev = job.evaluate(model_path, model, x_test, test_ds.y)     # (kws: its clips streamed invoke by invoke)
    print(f"      {job.metric}: float {ev['float']:.4f}, int8 {ev['int8']:.4f} (TF Lite's kernels "
          f"{ev['int8_tflite']:.4f}), engine {ev['engine']:.4f} "
          f"({time.time() - t0:.1f} s); engine outputs identical to TFLM: {ev['engine_identical_to_tflm']}/"
          f"{ev['held_out']}")

    lat = None
    if measure_latency:
        _step(7, total, "Latency: instructions per inference on the emulated " +
              ", ".join(LATENCY_TARGETS[a][1].split()[0] for a in latency_arches) + " cores")
        lat = latency(model_path, load_boards(), latency_arches)
        print("      " + ", ".join(f"{k} {v:,} instructions" for k, v in lat["instructions"].items()) +
              f"; arena {lat['arena_bytes']} bytes")
        print("      " + ", ".join(f"{k} {v['ms']} ms" for k, v in lat["boards"].items()))
    else:
        _step(7, total, "Latency: skipped (--no-latency)")

    _step(8, total, "Report")
    report = {
        "job": job.name, "title": job.title, "board": board_id, "metric": job.metric,
        "float": round(ev["float"], 4), "int8": round(ev["int8"], 4), "engine": round(ev["engine"], 4),
        "int8_tflite": round(ev["int8_tflite"], 4),
        "target": job.target, "meets_target": bool(ev["engine"] >= job.target),
        "int8_within_1_point": bool(abs(ev["float"] - ev["int8"]) <= 0.01),
        "engine_equals_int8": bool(ev["engine"] == ev["int8"]),
        "engine_identical_to_tflm": ev["engine_identical_to_tflm"], "held_out": ev["held_out"],
        "synthetic": bool(train_ds.synthetic), "data": train_ds.source if data_dir is None else str(data_dir),
        "classes": list(train_ds.classes), "train_windows": len(fit_ds), "val_windows": len(val_ds),
        "epochs": sizes.epochs, "quick": bool(quick), "seed": seed,
        "model_bytes": len(tflite), "macs": info.macs,
        "arena_bytes": lat["arena_bytes"] if lat else None, "latency": lat,
        "train_seconds": round(train_seconds, 1), "total_seconds": None,
        "input": {"shape": list(info.inputs[0].shape), "dtype": np.dtype(info.inputs[0].dtype).name,
                  "scale": info.inputs[0].scale, "zero_point": info.inputs[0].zero_point},
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
        "check": check_text,
    }
    report.update(job.report_extra(ev, test_ds) if hasattr(job, "report_extra") else {})
    # settings only known after training (kws: the cutoff) go to the device through job.json, not the report
    learned = report.pop("job_json", {})
    (out / "job.json").write_text(json.dumps({"job": job.name, "classes": list(train_ds.classes),
                                              "input": report["input"], **{k: v for k, v in job.extra.items()
                                                                            if k != "lr"}, **learned},
                                             indent=1) + "\n")
    plots = train_report.plots(job, report, ev, test_ds, out)
    report["plots"] = plots
    report["total_seconds"] = round(time.time() - t_start, 1)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=_jsonable) + "\n")
    (out / "report.md").write_text(train_report.markdown(job, report))
    print(f"      {out / 'report.json'}, {out / 'report.md'}, " + ", ".join(plots))
    verdict = f"{'meets' if report['meets_target'] else 'MISSES'} the target {job.target}"
    if sizes != job.full and not data_dir:
        verdict = f"a smaller run than the full one, which the target {job.target} is for"
    print(f"\nDone in {report['total_seconds']:.0f} s: {job.metric} {report['engine']:.4f} on the engine "
          f"({verdict}). Next: tinyml deploy {out} --port PORT, or tinyml pack {model_path} --arch ARCH -o model.mpy")
    return report


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(type(v))
