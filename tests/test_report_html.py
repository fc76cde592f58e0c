"""`tinyml report`: the page renders in a real headless browser (Chromium from Debian) with no script error, and
what it draws is the engine's own memory plan; and host/tinyml/progress.py's two modes.

Cost: one report of ad01 (x64 size only; the x64 module and the host library with its one kernel are those
test_cli.py and test_reference_models.py build) measured on the unix port, and three Chromium runs."""

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, REPO
from tinyml import TinymlError, progress
from tinyml.hostlib import HostEngine, memory_plan
from tinyml.model_info import read_model
from tinyml.report_html import write

AD01 = MODELS / "ad01_int8.tflite"


def chromium_dom(page: Path, tmp: Path) -> str:
    """The DOM after the page's scripts ran, as headless Chromium serialises it."""
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("chromium is not installed (the headless browser these tests render the report in): run "
                    "`make setup`")
    # --no-sandbox: Chromium refuses to sandbox as root (CI containers); the page is our own file.
    proc = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp / 'chromium'}",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def page_state(dom: str) -> dict:
    """The attributes the page's scripts set on <html>: data-report-ready (the script ran to its end: the
    number of rectangles it drew) and data-report-error (window.onerror caught an error)."""
    tag = re.search(r"<html[^>]*>", dom).group(0)
    return dict(re.findall(r'(data-report-\w+)="([^"]*)"', tag))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    page = tmp / "ad01.html"
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "report", str(AD01), "-o", str(page),
                           "--target", "unix", "--arch", "x64"],
                          capture_output=True, text=True, cwd=tmp,
                          env={"PYTHONPATH": str(REPO / "host"), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3",
                               "HOME": str(Path.home())})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {page}: 10 ops"), proc.stdout
    # Not a terminal here: the progress helper wrote plain lines (build and measurement) to stderr.
    assert "Measuring on unix: done" in proc.stderr, proc.stderr
    html = page.read_text()
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html,
                                re.S).group(1).replace("<\\/", "</"))
    return tmp, page, html, data


def test_page_renders_the_engines_plan_without_script_errors(report):
    tmp, page, html, data = report
    dom = chromium_dom(page, tmp)
    state = page_state(dom)
    assert "data-report-error" not in state, state
    assert "data-report-ready" in state, "the page's script did not run to its end"
    # The drawn rectangles are the engine's plan, read back from the engine (not recomputed).
    info = read_model(AD01)
    # (with only the model's kernels, as test_reference_models.py builds the host library: no second build)
    plan = memory_plan(AD01.read_bytes(), ops=info.op_names)
    want = {(i, t["offset"], t["bytes"], t["first_use"], t["last_use"]) for i, t in enumerate(plan["tensors"])
            if not t["is_const"] and t["alias"] < 0 and t["offset"] >= 0 and t["first_use"] >= -1}
    want |= {(f"op{i}", n["scratch_offset"], n["scratch_bytes"], n["first"], n["last"])
             for i, n in enumerate(plan["nodes"]) if n["scratch_bytes"]}
    got = set()
    for attrs in re.findall(r"<rect ([^>]*class=\"item[^>]*)>", dom):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        key = int(a["data-tensor"]) if "data-tensor" in a else f"op{a['data-op']}"
        got.add((key, int(a["data-offset"]), int(a["data-bytes"]), int(a["data-first"]), int(a["data-last"])))
    assert got == want and int(state["data-report-ready"]) == len(want) > 3
    # What it shows holds: nothing alive at the same time overlaps, and all fits in the activation bytes.
    items = sorted(got, key=str)
    for i, (_, o1, b1, f1, l1) in enumerate(items):
        assert o1 + b1 <= data["arena"]["activation_bytes"]
        for _, o2, b2, f2, l2 in items[i + 1:]:
            assert not (f1 <= l2 and f2 <= l1 and o1 < o2 + b2 and o2 < o1 + b1)
    # The arena figure is the one the module reports, on the host build and measured on the unix port.
    arena = data["arena"]["arena_bytes"] + data["arena"]["metadata_bytes"]
    assert arena == HostEngine(AD01.read_bytes(), ops=info.op_names).arena_bytes == data["measured"]["arena_bytes"]
    assert f">{arena:,} bytes<" in dom
    # Graph, MACs, cost, sizes: every op box, MACs from model_info, a measured cost per op, the x64 size.
    assert [op["macs"] for op in data["ops"]] == info.op_macs and sum(info.op_macs) > 0
    assert all(f'id="op-{i}"' in dom for i in range(len(info.ops)))
    assert all(isinstance(op["cost"], int) for op in data["ops"]) and data["measured"]["unit"] == "us"
    assert [s["arch"] for s in data["sizes"]] == ["x64"] and data["sizes"][0]["text"] > 1000
    # Self-contained: nothing to fetch.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|<link|@import|url\(""", html, re.I)


def test_the_timeline_is_the_m4s_own_plan(tmp_path, capsys):
    """`tinyml report --arch armv7emsp`: the timeline is the plan the Cortex-M4's own engine makes, read back on
    qemu-m4 with tinyml.plan() (a PLAN_DUMP module), not the host's; the host plan's total is beside it."""
    from tinyml import cli
    from tinyml.runner import bench
    page = tmp_path / "m4.html"
    cli.main(["report", str(AD01), "-o", str(page), "--arch", "armv7emsp"])
    assert capsys.readouterr().out.rstrip().endswith("(on qemu-m4)")
    html = page.read_text()
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html,
                                re.S).group(1).replace("<\\/", "</"))
    m4 = data["plan_arch"]
    assert (m4["arch"], m4["target"]) == ("armv7emsp", "qemu-m4")
    # The plan the dump module reports is the one a user's module makes: its total is what bench's Model says.
    assert m4["arena_bytes"] == data["arena"]["arena_bytes"] + data["arena"]["metadata_bytes"]
    assert m4["arena_bytes"] == bench(AD01, "qemu-m4", runs=1)[2]["arena_bytes"]
    host = memory_plan(AD01.read_bytes(), ops=read_model(AD01).op_names)
    assert m4["host_arena_bytes"] == host["totals"]["arena_bytes"] + host["totals"]["metadata_bytes"]
    assert m4["arena_bytes"] != m4["host_arena_bytes"]      # 4-byte descriptors, the M4 kernels' own data
    # What the page draws holds on the M4 too: nothing alive at the same time overlaps, all within the arena.
    live = [(t["offset"], t["bytes"], t["first"], t["last"]) for t in data["tensors"]
            if not t["const"] and t["alias"] < 0 and t["offset"] >= 0 and t["first"] >= -1]
    assert len(live) > 3
    for i, (o1, b1, f1, l1) in enumerate(live):
        assert o1 + b1 <= data["arena"]["activation_bytes"]
        for o2, b2, f2, l2 in live[i + 1:]:
            assert not (f1 <= l2 and f2 <= l1 and o1 < o2 + b2 and o2 < o1 + b1)
    diff = abs(m4["arena_bytes"] - m4["host_arena_bytes"])
    assert (f"This is armv7emsp's own plan</b>, read back from its module on qemu-m4" in html
            and f"plans {m4['host_arena_bytes']:,}: {diff:,} bytes" in html)


def test_the_plan_dump_on_the_unix_port_equals_the_host_library():
    """tinyml.plan() in the x64 module, run in the MicroPython unix port, gives the host library's plan word
    for word (the same C loads the model in both)."""
    from tinyml.build import build_module
    from tinyml.hostlib import decode_plan
    from tinyml.report_html import PLAN_SCRIPT
    from tinyml.targets import get_target
    info = read_model(AD01)
    module = build_module("x64", info.op_names, float_kernels=info.computes_in_float, plan_dump=True)
    run = get_target("unix").run(PLAN_SCRIPT, {"model.tflite": AD01.read_bytes(), "tinyml.mpy": module.read_bytes()},
                                 ["plan.bin"])
    got = decode_plan(np.frombuffer(run.files["plan.bin"], "<i4").tolist())
    assert got == memory_plan(AD01.read_bytes(), ops=info.op_names) and len(got["tensors"]) > 10


def test_a_script_error_in_the_page_is_caught(report):
    """The check above would see a failing script: break the page's script on purpose."""
    tmp, _, html, _ = report
    broken = tmp / "broken.html"
    broken.write_text(html.replace('"use strict";', '"use strict"; null.boom;', 1))
    dom = chromium_dom(broken, tmp)
    state = page_state(dom)
    assert "TypeError" in state.get("data-report-error", "") and "data-report-ready" not in state, state


def test_bad_input_gives_one_line(tmp_path):
    (tmp_path / "x.tflite").write_bytes(b"not a model at all")
    proc = subprocess.run([sys.executable, "-m", "tinyml.cli", "report", str(tmp_path / "x.tflite"), "-o",
                           str(tmp_path / "r.html")], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO / "host"), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "tinyml: error:" in proc.stderr
    assert "is not a TensorFlow Lite model" in proc.stderr
    with pytest.raises(TinymlError, match="unknown arch 'arm9'"):
        write(AD01, tmp_path / "r.html", archs=["arm9"])
    with pytest.raises(TinymlError, match="choose unix or qemu-m4"):
        write(AD01, tmp_path / "r.html", archs=[], target="esp32")
    with pytest.raises(TinymlError, match="does not exist"):
        write(AD01, tmp_path / "no" / "r.html", archs=[])
    assert not (tmp_path / "r.html").exists()


def test_progress_plain_lines_when_not_a_terminal(monkeypatch):
    monkeypatch.delenv("TINYML_PROGRESS", raising=False)
    out = io.StringIO()   # not a TTY
    with progress.task("Training", total=3, stream=out, interval=3600) as bar:
        for epoch in range(3):
            bar.advance(note=f"loss {1.0 / (epoch + 1):.2f}")
    lines = out.getvalue().splitlines()
    # Start and end only: within the interval, steps print nothing (logs stay short).
    assert lines[0].startswith("Training: started 0/3") and len(lines) == 2
    assert re.match(r"Training: done 3/3 \d+\.\ds loss 0.33$", lines[1])
    out = io.StringIO()
    with pytest.raises(RuntimeError):
        with progress.task("Fuzzing", total=10, stream=out, interval=0) as bar:
            bar.advance(4)
            raise RuntimeError("stop")
    assert out.getvalue().splitlines()[1:] == [l for l in out.getvalue().splitlines()[1:] if "Fuzzing" in l]
    assert re.search(r"Fuzzing: 4/10 ", out.getvalue()) and "Fuzzing: failed 4/10" in out.getvalue()
    monkeypatch.setenv("TINYML_PROGRESS", "off")
    out = io.StringIO()
    with progress.task("Quiet", total=1, stream=out) as bar:
        bar.advance()
    assert out.getvalue() == ""


def test_progress_bar_on_a_terminal_with_nested_tasks(monkeypatch):
    monkeypatch.setenv("TINYML_PROGRESS", "bar")   # as on a TTY
    out = io.StringIO()
    with progress.task("Benchmarks", total=2, stream=out) as outer:
        for name in ("ad01", "kws"):
            with progress.task(f"Building {name}", stream=out):
                pass
            outer.advance(note=name)
    text = out.getvalue()
    assert "Benchmarks" in text and "2/2" in text and "kws" in text
    assert progress._live is None   # the one live display is closed with the outermost task


def test_control_flow_ops_name_both_subgraphs_they_run(tmp_path):
    """IF runs its then and else subgraphs, WHILE its condition and body: the page links both (the plan's
    calls and calls_too), and each subgraph says which op runs it."""
    model = REPO / "tests" / "fuzz_corpus" / "seed-while-if.tflite"
    data = write(model, tmp_path / "cf.html", archs=[])
    runners = {op["name"]: op["calls"] for op in data["ops"] if op["calls"]}
    assert set(runners) >= {"WHILE", "IF"}, runners
    assert all(len(calls) == 2 and calls[0] != calls[1] for calls in runners.values()), runners
    html = (tmp_path / "cf.html").read_text()
    for calls in runners.values():
        assert f'runs <a href="#subgraph-{calls[0]}">subgraph {calls[0]}</a> and <a href="#subgraph-{calls[1]}">' in html
    called = {s["index"] for s in data["subgraphs"] if s["called_by"]}
    assert called == {c for calls in runners.values() for c in calls}
