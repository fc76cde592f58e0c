#!/usr/bin/env python3
"""The fuzz campaign (`make fuzz`): libFuzzer + ASan + UBSan on the engine's parser, planner and kernels
(TARGET=engine, the default), or random call sequences on tinyml.Model inside MicroPython (TARGET=api).

    make fuzz                          10 minutes, 1 job, a fresh random seed (printed)
    make fuzz MINUTES=60 JOBS=2 SEED=1234
    make fuzz TARGET=api MINUTES=10

Engine target: the corpus persists across runs in ~/.cache/tinyml-mpy/fuzz-corpus/ and is seeded with
every model in shared/models, the op-test models cached by tests/opcheck.py (build/testmodels), the small
and multi-subgraph models of tools/fuzz_seeds.py, and tests/fuzz_corpus/. Crashers are copied to
tests/fuzz_corpus/ (commit them, with the fix). At the end it prints and writes (build/fuzz/report.md,
report.json) executions, exec/s, corpus size, libFuzzer's cov/ft, and line/branch coverage of the engine's
C sources from replaying the final corpus through a clang source-coverage build."""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "tools"))

from tinyml.fuzzing import CORPUS_CACHE, ENGINE, build_fuzzer, engine_sources, llvm_tool, write_dictionary  # noqa
from tinyml import progress  # noqa: E402
from tinyml.paths import BUILD  # noqa: E402

MODELS = Path(os.environ.get("TINYML_MODELS", REPO.parent / "shared" / "models"))
TESTMODELS = BUILD / "testmodels"  # tests/opcheck.py's cached_model
CRASHERS = REPO / "tests" / "fuzz_corpus"
OUT = BUILD / "fuzz"
MAX_LEN = 400_000  # every reference model fits (vww_96_int8 is 333 KB)
_STATUS = re.compile(r"#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)(?: .*?exec/s: (\d+))?")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def seed_corpus(corpus: Path):
    """Add every seed the corpus lacks (named by content hash, as libFuzzer names its own entries)."""
    from fuzz_seeds import make_seeds
    sources = sorted(MODELS.glob("*.tflite")) + sorted(TESTMODELS.glob("*.tflite")) + sorted(CRASHERS.glob("crash-*"))
    try:
        sources += sorted(make_seeds(log).glob("*.tflite"))
    except Exception as e:  # TensorFlow missing or broken: the other seeds still work
        log(f"fuzz: generated seeds unavailable ({type(e).__name__}: {e})")
    added = 0
    for src in sources:
        data = src.read_bytes()
        dst = corpus / hashlib.sha1(data).hexdigest()
        if not dst.exists():
            dst.write_bytes(data)
            added += 1
    log(f"fuzz: {len(sources)} seeds ({added} new) -> corpus {corpus}")


def corpus_stats(corpus: Path):
    files = [p for p in corpus.iterdir() if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def run_libfuzzer(exe, corpus, artifacts, seconds, seed, jobs, dictionary, logfile, on_status=None):
    """One libFuzzer process until `seconds` elapse; progress lines condensed to one a minute. on_status: called
    with each libFuzzer status line's match (_STATUS), for the progress bar."""
    args = [str(exe), str(corpus), f"-seed={seed}", f"-max_total_time={seconds}", f"-max_len={MAX_LEN}",
            "-use_value_profile=1", f"-dict={dictionary}", "-rss_limit_mb=4096", "-timeout=20",
            "-print_final_stats=1", "-reduce_inputs=1", f"-artifact_prefix={artifacts}/"]
    if jobs > 1:  # fork mode: JOBS processes, crashes recorded and fuzzing goes on
        args += [f"-fork={jobs}", "-ignore_crashes=1", "-ignore_ooms=1", "-ignore_timeouts=1"]
    log("fuzz: " + " ".join(args))
    last, last_print, stats = None, 0.0, {}
    with open(logfile, "a") as lf:
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=lf, text=True, errors="replace")
        for line in proc.stderr:
            lf.write(line)
            m = _STATUS.search(line)
            if m:
                last = m
                if on_status:
                    on_status(m)
                if time.time() - last_print > 60:
                    last_print = time.time()
                    log(f"fuzz: {m.group(1)} execs, cov {m.group(3)}, ft {m.group(4)}, corpus {m.group(5)} "
                        f"({m.group(6)}), exec/s {m.group(7)}")
            for key in ("number_of_executed_units", "average_exec_per_sec", "new_units_added", "peak_rss_mb"):
                if line.startswith(f"stat::{key}:"):
                    stats[key] = int(line.split(":")[-1])
            if line.startswith("==") and "ERROR" in line or line.startswith("SUMMARY:"):
                log("fuzz: " + line.strip())
        proc.wait()
    if last is not None:
        stats.setdefault("number_of_executed_units", int(last.group(1)))
        stats.update(cov=int(last.group(3)), ft=int(last.group(4)))
    return proc.returncode, stats


def coverage(corpus: Path, workdir: Path):
    """Replay the corpus through the source-coverage build; per-file line/branch coverage of the engine."""
    exe = build_fuzzer(workdir, coverage=True)
    raw = workdir / "cov.profraw"
    env = dict(os.environ, LLVM_PROFILE_FILE=str(raw))
    subprocess.run([str(exe), "-runs=0", f"-max_len={MAX_LEN}", "-rss_limit_mb=4096", str(corpus)], env=env,
                   capture_output=True, text=True, timeout=3600)
    prof = workdir / "cov.profdata"
    subprocess.run([llvm_tool("llvm-profdata"), "merge", "-sparse", str(raw), "-o", str(prof)], check=True)
    srcs = [str(s) for s in engine_sources()]
    out = subprocess.run([llvm_tool("llvm-cov"), "export", "-summary-only", str(exe), f"-instr-profile={prof}",
                          *srcs], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)["data"][0]
    rows = []
    for f in data["files"]:
        s = f["summary"]
        rows.append((str(Path(f["filename"]).relative_to(ENGINE)), s["lines"], s["branches"]))
    rows.sort()
    t = data["totals"]
    return rows, (t["lines"], t["branches"])


def pct(d):
    return f"{100.0 * d['covered'] / d['count']:.1f}%" if d["count"] else "-"


def coverage_table(rows, totals):
    lines = ["| file | lines | line cov | branches | branch cov |", "|---|---:|---:|---:|---:|"]
    for name, l, b in rows:
        lines.append(f"| {name} | {l['covered']}/{l['count']} | {pct(l)} | {b['covered']}/{b['count']} | {pct(b)} |")
    l, b = totals
    lines.append(f"| **total** | {l['covered']}/{l['count']} | **{pct(l)}** | {b['covered']}/{b['count']} | **{pct(b)}** |")
    return "\n".join(lines)


def fuzz_engine(args):
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = Path(args.corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts = OUT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    log("fuzz: building the libFuzzer + ASan + UBSan harness")
    exe = build_fuzzer(OUT)
    dictionary = write_dictionary(OUT / "tflite.dict")
    seed_corpus(corpus)
    n0, b0 = corpus_stats(corpus)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    log(f"fuzz: seed {seed} (repeat with SEED={seed}), {args.minutes} min, {args.jobs} job(s), corpus {n0} files")
    logfile = OUT / f"libfuzzer-{seed}.log"
    before = set(artifacts.iterdir())
    start = time.time()
    deadline = start + args.minutes * 60
    total, runs, finals = 0, 0, {}
    campaign = int(args.minutes * 60)
    # The bar counts the campaign's seconds (libFuzzer's own progress is time, not a count of steps); plain
    # lines once a minute, as often as the condensed libFuzzer lines above.
    with progress.task("Fuzzing the engine", total=campaign, interval=60) as bar:
        def on_status(m):
            bar.update(completed=min(int(time.time() - start), campaign),
                       note=f"{total + int(m.group(1)):,} execs, cov {m.group(3)}, corpus {m.group(5)}")

        while True:  # one job: libFuzzer stops at a crash; record it and go on with the next seed
            left = int(deadline - time.time())
            if left < 5:
                break
            rc, stats = run_libfuzzer(exe, corpus, artifacts, left, seed + runs, args.jobs, dictionary, logfile,
                                      on_status)
            runs += 1
            total += stats.get("number_of_executed_units", 0)
            finals = stats
            if rc == 0:
                break
            log(f"fuzz: libFuzzer exited with {rc}: a crasher (see {logfile}); continuing")
    elapsed = time.time() - start
    crashers = sorted(set(artifacts.iterdir()) - before)
    CRASHERS.mkdir(exist_ok=True)
    for c in crashers:
        shutil.copy(c, CRASHERS / c.name)
        log(f"fuzz: CRASHER {c.name} -> tests/fuzz_corpus/ (replay: {exe} {CRASHERS / c.name})")
    n1, b1 = corpus_stats(corpus)
    log(f"fuzz: replaying {n1} corpus entries through the source-coverage build")
    with progress.task("Coverage replay"):
        rows, totals = coverage(corpus, OUT / "cov")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    report = {
        "seed": seed, "minutes": args.minutes, "jobs": args.jobs, "seconds": round(elapsed), "commit": commit,
        "executions": total, "exec_per_s": round(total / elapsed) if elapsed else 0,
        "corpus_files_before": n0, "corpus_files": n1, "corpus_bytes": b1,
        "cov": finals.get("cov"), "ft": finals.get("ft"), "libfuzzer_runs": runs,
        "peak_rss_mb": finals.get("peak_rss_mb"), "crashers": [c.name for c in crashers],
        "line_coverage": totals[0], "branch_coverage": totals[1],
        "files": {name: {"lines": l, "branches": b} for name, l, b in rows},
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=1))
    summary = (f"duration {elapsed / 60:.1f} min, {total:,} executions, {report['exec_per_s']} exec/s, "
               f"corpus {n0} -> {n1} files ({b1 / 1e6:.1f} MB), cov {report['cov']} ft {report['ft']}, "
               f"lines {pct(totals[0])}, branches {pct(totals[1])}, crashers {len(crashers)}, seed {seed}, "
               f"commit {commit}")
    table = coverage_table(rows, totals)
    (OUT / "report.md").write_text(summary + "\n\n" + table + "\n")
    print(table)
    log("fuzz: " + summary)
    log(f"fuzz: report in {OUT / 'report.md'} and report.json, libFuzzer log {logfile}")
    return 1 if crashers else 0


def fuzz_api(args):
    sys.path.insert(0, str(REPO / "tests"))
    import fuzz_api
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    log(f"fuzz api: seed {seed} (repeat with SEED={seed}), {args.minutes} min")
    with progress.task(f"Fuzzing the device API ({args.minutes:g} min)"):
        failures = fuzz_api.campaign(seed, args.minutes * 60, log=log)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=("engine", "api"), default=os.environ.get("TARGET") or "engine")
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("MINUTES") or 10))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS") or 1))
    ap.add_argument("--seed", type=int, default=int(os.environ["SEED"]) if os.environ.get("SEED") else None)
    ap.add_argument("--corpus", default=str(CORPUS_CACHE))
    args = ap.parse_args()
    sys.exit(fuzz_engine(args) if args.target == "engine" else fuzz_api(args))


if __name__ == "__main__":
    main()
