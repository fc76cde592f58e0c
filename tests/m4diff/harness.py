"""Batches of generated cases on the emulated Cortex-M4 (one QEMU boot, one import of the armv7emsp engine, many
models), compared with the TFLM wheel. A case TFLM refuses is counted and skipped; an engine error, a crash,
a hang or any differing byte is a failure, saved with its model, inputs and TFLM's outputs for reproduction."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .generate import Case

REPO = Path(__file__).resolve().parents[2]
DEVICE_SCRIPT = Path(__file__).with_name("device_batch.py")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def engine_module():
    """The full armv7emsp engine (every kernel, with the Cortex-M4 assembly paths), built once and cached.
    Others edit the engine's core in the same working tree; if it does not build right now, the committed core
    (git HEAD) is used with the working tree's kernels, which are what this harness tests."""
    from tinyml import TinymlError, build
    if os.environ.get("M4DIFF_NATIVE"):      # another copy of native_modules (break-on-purpose checks)
        saved = build.NATIVE
        build.NATIVE = Path(os.environ["M4DIFF_NATIVE"])
        try:
            return build.build_module("armv7emsp")
        finally:
            build.NATIVE = saved
    try:
        return build.build_module("armv7emsp")
    except TinymlError as exc:
        first_error = str(exc).splitlines()[0]
    snap = Path(build.BUILD) / "m4diff-native"
    if snap.exists():
        subprocess.run(["rm", "-rf", str(snap)], check=True)
    snap.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "native_modules"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(snap)], input=archive, check=True)
    kernels = REPO / "native_modules" / "engine" / "kernels"     # with its arch folders (cortex_m4/)
    shutil.copytree(kernels, snap / "native_modules" / "engine" / "kernels", dirs_exist_ok=True)
    saved = build.NATIVE
    build.NATIVE = snap / "native_modules"
    try:
        module = build.build_module("armv7emsp")
    finally:
        build.NATIVE = saved
    print(f"m4diff: the working tree's engine does not build ({first_error}); using git HEAD's core with "
          "the working tree's kernels")
    return module


def tflm_outputs(case: Case):
    """TFLM's outputs per input set, or None if TFLM refuses the model (an exception at load or invoke)."""
    from tflite_micro.python.tflite_micro import runtime
    try:
        interp = runtime.Interpreter.from_bytes(case.model, arena_size=1 << 20)
        result = []
        for xs in case.inputs:
            for i, x in enumerate(xs):
                interp.set_input(x, i)
            interp.invoke()
            result.append([interp.get_output(j).copy() for j in range(len(case.output_shapes))])
        return result
    except (RuntimeError, ValueError) as exc:
        case.params["tflm_refused"] = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "refused"
        return None


def pack_cases(cases):
    parts = []
    for c in cases:
        parts.append(len(c.model).to_bytes(4, "little") + len(c.inputs).to_bytes(2, "little")
                     + len(c.input_shapes).to_bytes(2, "little") + c.model)
        for xs in c.inputs:
            for x in xs:
                data = np.ascontiguousarray(x).tobytes()
                parts.append(len(data).to_bytes(4, "little") + data)
    return b"".join(parts)


def parse_results(data, cases):
    """Per case, in order, as far as the device got: ('ok', [[outputs] per set]) or ('error', message)."""
    out, pos = [], 0
    for c in cases:
        if pos >= len(data):
            break
        status = data[pos]
        if status == 0:
            sizes = [int(np.prod(s)) for s in c.output_shapes]
            need = 1 + len(c.inputs) * sum(sizes)
            if pos + need > len(data):
                break
            p = pos + 1
            sets = []
            for _ in c.inputs:
                outs = []
                for shape, n in zip(c.output_shapes, sizes):
                    outs.append(np.frombuffer(data[p:p + n], dtype=np.int8).reshape(shape))
                    p += n
                sets.append(outs)
            out.append(("ok", sets))
            pos += need
        else:
            n = data[pos + 1] | (data[pos + 2] << 8)
            msg = data[pos + 3:pos + 3 + n].decode("utf-8", "replace")
            out.append(("error", ("load: " if status == 1 else "invoke: ") + msg))
            pos += 3 + n
    return out


class DeviceRun:
    """One QEMU boot over a list of cases, started in the background (so the host can prepare the next batch)."""

    def __init__(self, cases, module_bytes, timeout=600):
        from tinyml.targets import qemu
        self.cases = cases
        self.tmp = tempfile.TemporaryDirectory(prefix="m4diff-")
        work = Path(self.tmp.name)
        (work / "cases.bin").write_bytes(pack_cases(cases))
        (work / "tinyml.mpy").write_bytes(module_bytes)
        (work / "main.py").write_text(DEVICE_SCRIPT.read_text())
        target = qemu.QemuTarget("qemu-m4")
        firmware = qemu.build_firmware()
        cmd = target._command(firmware, "-nographic", "-append", "main.py")
        self.work = work
        self.deadline = time.monotonic() + timeout
        self.proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)

    def wait(self):
        """[(status, payload)] for every case: a crash or hang marks the case that caused it, and the cases
        after it are run again in a fresh boot."""
        try:
            stdout, _ = self.proc.communicate(timeout=max(1.0, self.deadline - time.monotonic()))
            reason = None
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, _ = self.proc.communicate()
            reason = "hang (QEMU timed out)"
        text = stdout.decode("utf-8", "replace")
        results_path = self.work / "results.bin"
        data = results_path.read_bytes() if results_path.exists() else b""
        results = parse_results(data, self.cases)
        module_bytes = (self.work / "tinyml.mpy").read_bytes()
        self.tmp.cleanup()
        if len(results) == len(self.cases) and "BATCH DONE" in text:
            return results
        if reason is None:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            reason = "crash: " + (lines[-1].strip() if lines else f"QEMU exited {self.proc.returncode}")
        if not results and "BATCH DONE" not in text and "Traceback" in text and not data:
            # the script itself failed before any case (e.g. the module did not import)
            raise RuntimeError(f"the device script failed: {text[-500:]}")
        results.append(("crash", reason))
        rest = self.cases[len(results):]
        if rest:
            results += DeviceRun(rest, module_bytes).wait()
        return results


class Campaign:
    """Counts and failures over many batches."""

    def __init__(self, fail_dir=None):
        self.cases = Counter()          # per path: cases run on both sides
        self.sets = Counter()           # per path: input sets compared
        self.refused = Counter()        # per path: models TFLM refused
        self.failures = []              # dicts: path, params, kind, detail, saved
        self.per_path_failures = Counter()
        self.fail_dir = Path(fail_dir) if fail_dir else None
        self.device_seconds = 0.0
        self.started = time.monotonic()
        self.module = engine_module().read_bytes()
        self.kinds = defaultdict(Counter)

    def prepare(self, cases):
        """TFLM's outputs for each case; the refused ones are counted and dropped."""
        keep, expected = [], []
        for c in cases:
            want = tflm_outputs(c)
            if want is None:
                self.refused[c.path] += 1
                continue
            keep.append(c)
            expected.append(want)
        return keep, expected

    def start(self, cases):
        return DeviceRun(cases, self.module) if cases else None

    def finish(self, run, cases, expected):
        if run is None:
            return []
        t0 = time.monotonic()
        results = run.wait()
        self.device_seconds += time.monotonic() - t0
        new = []
        for c, want, (status, payload) in zip(cases, expected, results):
            self.cases[c.path] += 1
            self.sets[c.path] += len(c.inputs)
            if status == "ok":
                bad = []
                for k, (g, w) in enumerate(zip(payload, want)):
                    for j, (gj, wj) in enumerate(zip(g, w)):
                        diff = np.flatnonzero(gj.ravel() != wj.ravel())
                        if diff.size:
                            d = np.abs(gj.ravel()[diff].astype(int) - wj.ravel()[diff].astype(int))
                            bad.append(f"set {k} output {j}: {diff.size}/{gj.size} values differ "
                                       f"(max |diff| {d.max()}, first at {int(diff[0])})")
                if not bad:
                    continue
                kind, detail, got = "mismatch", "; ".join(bad), payload
            else:
                kind, detail, got = status if status == "crash" else "engine_error", payload, None
            new.append(self._record(c, want, got, kind, detail))
        return new

    def _record(self, c, want, got, kind, detail):
        self.per_path_failures[c.path] += 1
        f = {"path": c.path, "kind": kind, "detail": detail, "params": c.params}
        if self.fail_dir:
            seed = c.params.get("seed")
            name = f"{c.path}-{'-'.join(map(str, seed)) if isinstance(seed, list) else seed}"
            d = self.fail_dir / name
            d.mkdir(parents=True, exist_ok=True)
            (d / "model.tflite").write_bytes(c.model)
            for k, xs in enumerate(c.inputs):
                for i, x in enumerate(xs):
                    np.save(d / f"input{k}_{i}.npy", x)
                for j, w in enumerate(want[k]):
                    np.save(d / f"tflm{k}_{j}.npy", w)
                if got is not None:
                    for j, g in enumerate(got[k]):
                        np.save(d / f"engine{k}_{j}.npy", g)
            (d / "case.json").write_text(json.dumps({k: v for k, v in f.items()}, indent=1, default=str))
            f["saved"] = str(d)
        self.failures.append(f)
        return f

    def total(self):
        return sum(self.cases.values())

    def summary(self):
        elapsed = time.monotonic() - self.started
        rows = []
        for path in sorted(set(self.cases) | set(self.refused)):
            rows.append({"path": path, "cases": self.cases[path], "input_sets": self.sets[path],
                         "tflm_refused": self.refused[path], "failures": self.per_path_failures[path]})
        return {"rows": rows, "cases": self.total(), "input_sets": sum(self.sets.values()),
                "refused": sum(self.refused.values()), "failures": len(self.failures), "seconds": elapsed,
                "cases_per_second": self.total() / elapsed if elapsed else 0.0,
                "device_seconds": self.device_seconds}


def run_cases(campaign, case_batches, progress=None):
    """Runs batches (an iterable of lists of cases) with the next batch's TFLM work overlapping QEMU."""
    pending = None
    for batch in case_batches:
        cases, expected = campaign.prepare(batch)
        if pending:
            campaign.finish(*pending)
            if progress:
                progress(campaign)
        pending = (campaign.start(cases), cases, expected)
    if pending:
        campaign.finish(*pending)
        if progress:
            progress(campaign)
    return campaign
