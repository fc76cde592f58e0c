"""`tinyml report`: one self-contained HTML page about a model (no network: inline CSS, JS and SVG).

The page shows
- the graph: every subgraph's ops in execution order, their input and output tensors (shape, dtype,
  quantization), which op produced each input;
- the arena timeline: the engine's own memory plan (read back from the engine through hostlib.memory_plan,
  not recomputed here), one rectangle per tensor or scratch buffer, x = op index, y = arena offset;
- per-op MACs (model_info) and, when a target is given, the measured cost per op (runner.bench:
  instructions on qemu-m4, microseconds on unix);
- module bytes per arch (build.model_module + module_sizes) and the arena bytes;
- with a plan arch (`--arch`'s first, or the board's with `--board`): the timeline is that arch's own plan, read
  back on its emulated board from a module built with tinyml.plan() (build_module(plan_dump=True)), with the
  host plan's total and the difference beside it.

Why the plans differ per arch (the planner, tm_planner.c, is the same C everywhere, 16-byte aligned):
- scratch: an arch's kernel folder asks for its own scratch (kernels/cortex_m4/conv_2d.c and
  depthwise_conv_2d.c's arch_scratch_bytes: widened int16 rows, interleaved filter words), so the activation
  offsets move where those buffers sit;
- persistent per-op data: the arch's params (TM_ARCH_PARAMS, packed requantization) change the op's kept bytes;
- descriptors: tensor and op descriptors hold pointers, 8 bytes on the host, 4 on the microcontrollers.
Both plans come from the same export (engine/tm_plan.c): the host library's, and tinyml.plan() on the board.

collect() gathers the numbers (this is where the time goes: builds and the optional measurement); render()
turns them into the page. The page's script draws the timeline from the embedded JSON and wires up hover and
highlighting; when it has run it sets body[data-report-ready], and an error anywhere sets
body[data-report-error] (tests/test_report_html.py checks both in headless Chromium).
"""

import html
import json
from pathlib import Path

import numpy as np

from . import TinymlError, progress
from .build import ARCHES, model_module, module_sizes
from .hostlib import memory_plan
from .model_info import read_model, schema

TARGETS = ("unix", "qemu-m4")
# The emulated board that runs each arch's own module (qemu-m3 also loads armv6m modules), to read back the
# arena that arch's engine plans; x64 is the host library's own plan.
ARCH_BOARDS = {"armv7emsp": "qemu-m4", "armv7m": "qemu-m3", "armv6m": "qemu-m3", "xtensawin": "qemu-xtensa"}
PLAN_SCRIPT = """\
import os
import tinyml
with open("model.tflite", "rb") as f:
    plan = tinyml.plan(f.read(os.stat("model.tflite")[6]))
with open("plan.bin", "wb") as f:
    f.write(plan)
"""


def arch_plan(model_path, info, arch: str, chip=None) -> dict:
    """The memory plan `arch`'s own engine makes (hostlib.memory_plan's dict), read back on its emulated board
    from a module built with tinyml.plan() (on xtensawin for the ESP32-family `chip`, whose MAC16 kernels plan
    their own scratch), plus 'arch' and 'target'."""
    from .build import build_module
    from .hostlib import decode_plan
    from .targets import TargetError, get_target
    if arch not in ARCH_BOARDS:
        raise TinymlError(f"--arch {arch}: no emulated board runs it to read its arena back; the plan can be "
                          f"compared for {', '.join(ARCH_BOARDS)} (x64 is the host plan itself)")
    target = get_target(ARCH_BOARDS[arch])
    module = build_module(arch, info.op_names, float_kernels=info.computes_in_float, plan_dump=True,
                          chip=chip if arch == "xtensawin" else None)
    files = {"model.tflite": Path(model_path).read_bytes(), "tinyml.mpy": module.read_bytes()}
    with progress.task(f"Reading the {arch} plan back on {target.name}"):
        try:
            words = target.run(PLAN_SCRIPT, files, ["plan.bin"]).files["plan.bin"]
        except TargetError as exc:
            raise TinymlError(f"reading the {arch} arena on {target.name}: {exc}") from None
    return {**decode_plan(np.frombuffer(words, "<i4").tolist()), "arch": arch, "target": target.name}


def collect(model_path, archs=tuple(ARCHES), target=None, runs=3, plan_arch=None, plan_chip=None):
    """Everything the page shows, as plain data (the page embeds it as JSON). target: None (no
    measurement), 'unix' or 'qemu-m4'. plan_arch: an arch whose own plan the timeline shows (else the host's),
    read back on its emulated board, with the host plan's total beside it; plan_chip: on xtensawin, the
    ESP32-family chip whose build makes that plan (tinyml.build.XTENSA_CHIPS; None: the portable build)."""
    unknown = [a for a in archs if a not in ARCHES]
    if unknown:
        raise TinymlError(f"unknown arch '{', '.join(unknown)}': choose from {', '.join(ARCHES)}")
    if target is not None and target not in TARGETS:
        raise TinymlError(f"cannot measure on target '{target}': choose {' or '.join(TARGETS)} (or leave out "
                          f"--target to skip the measurement)")
    info = read_model(model_path)   # checks that the file is a .tflite, with a one-line error
    data = Path(model_path).read_bytes()
    plan = memory_plan(data, ops=info.op_names)   # the planner's result does not depend on other kernels
    host_total = plan["totals"]["arena_bytes"] + plan["totals"]["metadata_bytes"]
    plan_arch = plan_arch if plan_arch != "x64" else None
    if plan_arch:
        plan = arch_plan(model_path, info, plan_arch, plan_chip)
    report = _graph(data, plan, info)
    report["model"] = {"name": Path(model_path).name, "bytes": len(data), "macs": info.macs,
                       "subgraphs": info.subgraphs}
    report["arena"] = dict(plan["totals"])
    report["variables"] = plan["variables"]
    report["sizes"] = []
    with progress.task("Module sizes per arch", total=len(archs)) as bar:
        for arch in archs:
            sizes = module_sizes(model_module(arch, info))
            report["sizes"].append({"arch": arch, **{k: sizes[k] for k in ("text", "rodata", "bss", "file")}})
            bar.advance(note=arch)
    report["measured"] = None
    if target is not None:
        from .runner import bench
        with progress.task(f"Measuring on {target}"):
            _, _, result = bench(model_path, target, runs=runs)
        unit = "instructions" if "instructions" in result else "us"
        per_op = result["per_op"]
        if len(per_op) != len(report["ops"]):
            raise TinymlError(f"the benchmark on {target} reported {len(per_op)} ops, the model has "
                              f"{len(report['ops'])}")
        for op, cost in zip(report["ops"], per_op):
            op["cost"] = cost[unit]
        report["measured"] = {"target": target, "unit": unit, "arena_bytes": result["arena_bytes"],
                              "per_invoke": result["instructions"] if unit == "instructions"
                              else result["engine_us"], "runs": runs}
    report["plan_arch"] = None
    if plan_arch:
        a = report["arena"]
        report["plan_arch"] = {"arch": plan["arch"], "target": plan["target"],
                               "arena_bytes": a["arena_bytes"] + a["metadata_bytes"], "host_arena_bytes": host_total}
    return report


def _graph(data, plan, info):
    """Ops and tensors of every subgraph, numbered as the engine numbers them (subgraph by subgraph), joined
    with the engine's plan for each."""
    s = schema()
    model = s.ModelT.InitFromPackedBuf(bytearray(data), 0)
    type_names = {v: k.lower() for k, v in vars(s.TensorType).items() if not k.startswith("_")}
    tensors, ops, subgraphs = [], [], []
    ptensors, pnodes = plan["tensors"], plan["nodes"]
    for si, g in enumerate(model.subgraphs):
        base = len(tensors)
        for ti, t in enumerate(g.tensors or []):
            p = ptensors[base + ti]
            q = t.quantization
            scales = list(q.scale) if q is not None and q.scale is not None else []
            zps = list(q.zeroPoint) if q is not None and q.zeroPoint is not None else []
            tensors.append({
                "id": base + ti, "subgraph": si, "name": _text(t.name) or f"tensor {ti}",
                "shape": [int(d) for d in (t.shape if t.shape is not None else ())],
                "dtype": type_names.get(t.type, f"type {t.type}"),
                "scale": float(scales[0]) if scales else None, "zero_point": int(zps[0]) if zps else None,
                "channels": len(scales), "axis": int(q.quantizedDimension) if q is not None and len(scales) > 1
                else None,
                "const": bool(p["is_const"]), "bytes": p["bytes"], "offset": p["offset"], "alias": p["alias"],
                "first": p["first_use"], "last": p["last_use"], "producer": None, "role": None})
        first_node = len(ops)
        for oi, op in enumerate(g.operators or []):
            nid = first_node + oi
            name, version = info.ops[nid]
            pn = pnodes[nid]
            ins = [base + int(i) for i in (op.inputs if op.inputs is not None else ()) if i >= 0]
            outs = [base + int(i) for i in (op.outputs if op.outputs is not None else ())]
            for t in outs:
                tensors[t]["producer"] = nid
            ops.append({"id": nid, "subgraph": si, "name": name, "version": version, "inputs": ins,
                        "outputs": outs, "macs": info.op_macs[nid], "cost": None, "first": pn["first"],
                        "last": pn["last"], "calls": [c for c in (pn["calls"], pn["calls_too"]) if c >= 0],
                        "scratch": {"offset": pn["scratch_offset"], "bytes": pn["scratch_bytes"]},
                        "persistent": {"offset": pn["persistent_offset"], "bytes": pn["persistent_bytes"]}})
        for role, ids in (("input", g.inputs), ("output", g.outputs)):
            for t in ids if ids is not None else ():
                tensors[base + int(t)]["role"] = tensors[base + int(t)]["role"] or role
        subgraphs.append({"index": si, "name": _text(g.name) or ("main" if si == 0 else f"subgraph {si}"),
                          "first_node": first_node, "n_nodes": len(g.operators or []),
                          "inputs": [base + int(t) for t in (g.inputs if g.inputs is not None else ())],
                          "outputs": [base + int(t) for t in (g.outputs if g.outputs is not None else ())],
                          "called_by": []})
    for op in ops:
        for called in op["calls"]:
            subgraphs[called]["called_by"].append(op["id"])
    return {"tensors": tensors, "ops": ops, "subgraphs": subgraphs, "steps": subgraphs[0]["n_nodes"]}


def _text(value):
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# ---------------------------------------------------------------------------------------------------------
# The page

def render(report) -> str:
    """The HTML page for collect()'s data: static HTML for the graph and the tables, the timeline drawn by
    the page's script from the embedded JSON."""
    model = report["model"]
    esc = html.escape
    # "</" inside a script element would end it: a tensor named "</script>" must stay data.
    payload = json.dumps(report, separators=(",", ":")).replace("</", "<\\/")
    return _PAGE.format(
        title=esc(f"tinyml report: {model['name']}"),
        css=_CSS, js=_JS, payload=payload,
        summary=_summary(report), graph=_graph_html(report), ops_table=_ops_table(report),
        sizes=_sizes_table(report), arena=_arena_table(report), plan_note=_plan_note(report))


def write(model_path, out_path, archs=tuple(ARCHES), target=None, runs=3, plan_arch=None, plan_chip=None):
    """collect() + render() into out_path; returns the report data."""
    out = Path(out_path)
    if out.is_dir():
        raise TinymlError(f"{out} is a directory: give a file name such as report.html")
    if not out.parent.exists():
        raise TinymlError(f"the folder {out.parent} does not exist: create it or choose another -o path")
    report = collect(model_path, archs, target, runs, plan_arch, plan_chip)
    out.write_text(render(report), encoding="utf-8")
    return report


def _n(v):
    return f"{v:,}"


def _quant(t):
    if t["scale"] is None:
        return ""
    if t["channels"] > 1:
        return f"per-channel ({t['channels']} scales, axis {t['axis']})"
    return f"scale {t['scale']:.6g}, zero point {t['zero_point']}"


def _shape(t):
    return "(" + ", ".join(map(str, t["shape"])) + ")"


def _chip(report, tid, current_op):
    t = report["tensors"][tid]
    esc = html.escape
    where = "weights in the model" if t["const"] else (
        f"arena @ {_n(t['offset'])}" if t["offset"] >= 0 else "not in the arena")
    origin = ""
    if t["producer"] is not None and t["producer"] != current_op:
        origin = f' <a class="from" href="#op-{t["producer"]}">from #{t["producer"]}</a>'
    elif t["role"] == "input" and not t["const"]:
        origin = ' <span class="from">model input</span>' if t["subgraph"] == 0 else \
            ' <span class="from">subgraph input</span>'
    title = f"{t['name']}: {_shape(t)} {t['dtype']}, {_n(t['bytes'])} bytes, {where}"
    quant = _quant(t)
    kind = "const" if t["const"] else "act"
    return (f'<span class="t {kind}" data-tensor="{tid}" title="{esc(title)}">'
            f'<span class="tn">{esc(t["name"])}</span> <span class="ts">{esc(_shape(t))} {esc(t["dtype"])}'
            f'{"; " + esc(quant) if quant else ""}</span>{origin}</span>')


def _graph_html(report):
    parts = []
    ops = report["ops"]
    unit = report["measured"]["unit"] if report["measured"] else None
    for sg in report["subgraphs"]:
        called = ""
        if sg["called_by"]:
            called = " (run by " + ", ".join(f'<a href="#op-{o}">#{o}</a>' for o in sg["called_by"]) + ")"
        parts.append(f'<section class="subgraph" id="subgraph-{sg["index"]}"><h3>Subgraph {sg["index"]}: '
                     f'{html.escape(sg["name"])} &middot; {sg["n_nodes"]} ops{called}</h3>')
        ins = " ".join(_chip(report, t, None) for t in sg["inputs"])
        parts.append(f'<div class="io-row">inputs: {ins or "none"}</div>')
        for op in ops[sg["first_node"]:sg["first_node"] + sg["n_nodes"]]:
            facts = []
            if op["macs"]:
                facts.append(f"{_n(op['macs'])} MACs")
            if op["cost"] is not None:
                facts.append(f"{_n(op['cost'])} {'instructions' if unit == 'instructions' else 'µs'}")
            if op["scratch"]["bytes"]:
                facts.append(f"scratch {_n(op['scratch']['bytes'])} B")
            if op["calls"]:
                facts.append("runs " + " and ".join(f'<a href="#subgraph-{c}">subgraph {c}</a>' for c in op["calls"]))
            parts.append(
                f'<div class="arrow">&darr;</div><div class="op" id="op-{op["id"]}" data-op="{op["id"]}">'
                f'<div class="op-head"><span class="idx">#{op["id"]}</span> <b>{html.escape(op["name"])}</b>'
                f' <span class="ver">v{op["version"]}</span> <span class="facts">{" &middot; ".join(facts)}'
                f'</span></div><div class="io"><div>in: '
                + (" ".join(_chip(report, t, op["id"]) for t in op["inputs"]) or "none")
                + '</div><div>out: ' + (" ".join(_chip(report, t, op["id"]) for t in op["outputs"]) or "none")
                + '</div></div></div>')
        outs = " ".join(_chip(report, t, None) for t in sg["outputs"])
        parts.append(f'<div class="arrow">&darr;</div><div class="io-row">outputs: {outs}</div></section>')
    return "\n".join(parts)


def _ops_table(report):
    measured = report["measured"]
    unit = measured["unit"] if measured else None
    total = sum(op["cost"] or 0 for op in report["ops"]) or 1
    head = "<tr><th>#</th><th>op</th><th>MACs</th>"
    if measured:
        head += f"<th>{'instructions' if unit == 'instructions' else 'µs'}</th><th>share</th>"
        if unit == "instructions":
            head += "<th>instructions/MAC</th>"
    head += "<th>output bytes</th></tr>"
    rows = []
    for op in report["ops"]:
        out_bytes = sum(report["tensors"][t]["bytes"] for t in op["outputs"])
        row = (f'<tr data-op="{op["id"]}"><td>{op["id"]}</td><td>{html.escape(op["name"])}</td>'
               f'<td class="num">{_n(op["macs"])}</td>')
        if measured:
            share = 100.0 * (op["cost"] or 0) / total
            row += (f'<td class="num">{_n(op["cost"])}</td><td class="share"><span class="bar" '
                    f'style="width:{share:.1f}px"></span> {share:.1f}%</td>')
            if unit == "instructions":
                row += f'<td class="num">{op["cost"] / op["macs"]:.2f}</td>' if op["macs"] else "<td></td>"
        rows.append(row + f'<td class="num">{_n(out_bytes)}</td></tr>')
    note = ""
    if measured:
        what = "instructions (exact, emulated Cortex-M4)" if unit == "instructions" else \
            "microseconds on the MicroPython unix port (this machine's speed)"
        note = (f"<p>Measured on <b>{html.escape(measured['target'])}</b> in {what}: "
                f"{_n(measured['per_invoke'])} per invoke.</p>")
    else:
        note = "<p>Not measured: run <code>tinyml report ... --target unix</code> or <code>--target qemu-m4</code>" \
               " for the cost of each op.</p>"
    return note + f'<table class="ops">{head}{"".join(rows)}</table>'


def _sizes_table(report):
    if not report["sizes"]:
        return "<p>No arch built (--arch).</p>"
    rows = "".join(
        f'<tr><td>{s["arch"]}</td><td class="num">{_n(s["text"])}</td><td class="num">{_n(s["rodata"])}</td>'
        f'<td class="num">{_n(s["bss"])}</td><td class="num">{_n(s["text"] + s["rodata"] + s["bss"])}</td>'
        f'<td class="num">{_n(s["file"])}</td></tr>' for s in report["sizes"])
    return ("<table><tr><th>arch</th><th>text</th><th>rodata</th><th>bss</th><th>loaded on the device</th>"
            "<th>.mpy file</th></tr>" + rows + "</table><p>Bytes of the engine module with only this model's "
            "kernels (<code>tinyml pack</code> adds the model itself).</p>")


def _arena_table(report):
    a = report["arena"]
    rows = [("intermediate tensors and scratch (the timeline)", a["activation_bytes"]),
            ("persistent per-op data", a["persistent_bytes"] - a["state_bytes"]),
            ("state (resource variables)", a["state_bytes"]),
            ("arena", a["arena_bytes"]),
            ("descriptors (tensors, ops)", a["metadata_bytes"]),
            ("model.arena_bytes (arena + descriptors)", a["arena_bytes"] + a["metadata_bytes"])]
    body = "".join(f'<tr><td>{k}</td><td class="num">{_n(v)}</td></tr>' for k, v in rows)
    return f"<table>{body}</table>"


def _plan_note(report):
    a, m = report["arena"], report["measured"]
    host = a["arena_bytes"] + a["metadata_bytes"]
    note = ("The plan is the engine's own (tm_planner.c, read back from the host build of the same C, which "
            "the unix port's module shares). ")
    p = report.get("plan_arch")
    if p:
        diff = p["arena_bytes"] - p["host_arena_bytes"]
        return (f"<b>This is {html.escape(p['arch'])}'s own plan</b>, read back from its module on "
                f"{html.escape(p['target'])} (tinyml.plan(), the planner's result in that arch's build): "
                f"model.arena_bytes <b>{_n(p['arena_bytes'])}</b> bytes. The host build of the same C plans "
                f"{_n(p['host_arena_bytes'])}"
                + (f": {_n(abs(diff))} bytes {'more' if diff < 0 else 'fewer'}. That arch's kernels ask for other "
                   f"scratch and per-op data, and its descriptors hold 4-byte pointers (8 on the host), so its "
                   f"offsets differ where those buffers sit." if diff else ", the same."))
    if m is None:
        return note + ("Other archs plan the same way; their scratch and per-op data can differ (the "
                       "Cortex-M4 fast paths ask for more scratch, 32-bit pointers make descriptors smaller).")
    if m["arena_bytes"] == host:
        return note + f"On {html.escape(m['target'])} the model reported the same {_n(host)} bytes."
    return note + (f"On {html.escape(m['target'])} the model reported {_n(m['arena_bytes'])} bytes "
                   f"(this plan: {_n(host)}): that arch's kernels ask for other scratch or per-op sizes, so its "
                   f"offsets differ where those buffers sit.")


def _summary(report):
    m, a = report["model"], report["arena"]
    ops = report["ops"]
    kinds = sorted({op["name"] for op in ops})
    items = [("model", html.escape(m["name"])), ("file", f"{_n(m['bytes'])} bytes"),
             ("ops", f"{len(ops)} in {m['subgraphs']} subgraph{'s' if m['subgraphs'] > 1 else ''}: "
                     + html.escape(", ".join(kinds))),
             ("MACs", _n(m["macs"])),
             ("model.arena_bytes", f"{_n(a['arena_bytes'] + a['metadata_bytes'])} bytes")]
    if report["measured"]:
        mm = report["measured"]
        unit = "instructions" if mm["unit"] == "instructions" else "µs"
        items.append((f"per invoke on {html.escape(mm['target'])}", f"{_n(mm['per_invoke'])} {unit}"))
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<script>
// Installed first, so that an error in any later script is caught and shown (and tests can see it).
window.onerror = function (msg, src, line) {{
  document.documentElement.setAttribute("data-report-error", msg + " (line " + line + ")");
  var b = document.getElementById("script-error");
  if (b) {{ b.textContent = "This page's script failed: " + msg + " (line " + line + ")"; b.hidden = false; }}
}};
</script>
<style>{css}</style></head>
<body>
<div id="script-error" hidden></div>
<h1>{title}</h1>
{summary}
<nav><a href="#graph">Graph</a> &middot; <a href="#timeline-section">Arena timeline</a> &middot;
<a href="#cost">Per-op cost</a> &middot; <a href="#sizes">Sizes</a></nav>
<h2 id="timeline-section">Arena timeline</h2>
<p>Each rectangle is a tensor (or an op's scratch buffer) in the arena: x = ops from its first to its last use,
y = its offset. Hover for its name and size; hover an op in the graph to see its tensors here.
{plan_note}</p>
<div id="timeline"></div>
<div id="tooltip" hidden></div>
<h2>Arena bytes</h2>
{arena}
<h2 id="graph">Graph</h2>
<div class="graph">{graph}</div>
<h2 id="cost">Per-op MACs and cost</h2>
{ops_table}
<h2 id="sizes">Module size per arch</h2>
{sizes}
<footer>Generated by <code>tinyml report</code>. Self-contained: no network needed.</footer>
<script type="application/json" id="report-data">{payload}</script>
<script>{js}</script>
</body></html>
"""

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .6em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.share { white-space: nowrap; }
.bar { display: inline-block; height: .7em; background: #4a7fd4; vertical-align: middle; }
.op { border: 1px solid #bbb; border-radius: 6px; padding: .4em .6em; background: #fafcff; }
.op.hl, tr.hl { outline: 2px solid #e07b00; }
.op-head .idx { color: #888; } .op-head .ver { color: #888; font-size: .85em; } .facts { color: #555; }
.io > div { margin: .15em 0; }
.arrow { text-align: center; color: #999; line-height: 1.1; }
.io-row { color: #555; }
.t { display: inline-block; border-radius: 4px; padding: 0 .35em; margin: .1em 0; background: #eef3e8;
     max-width: 100%; overflow-wrap: anywhere;
     border: 1px solid #cfdcc2; }
.t.const { background: #f1f1f1; border-color: #ddd; color: #666; }
.t .ts { color: #555; font-size: .88em; } .from { font-size: .85em; color: #777; }
#timeline svg { border: 1px solid #ddd; background: #fff; max-width: 100%; height: auto; }
#timeline rect.item { stroke: #333; stroke-width: .5; cursor: pointer; }
#timeline rect.item.scratch { fill-opacity: .45; stroke-dasharray: 2 2; }
#timeline rect.item.hl { stroke: #e07b00; stroke-width: 2.5; }
#timeline text { font-size: 10px; fill: #555; } #timeline text.in-rect { fill: #111; pointer-events: none; }
#tooltip { position: fixed; background: #222; color: #fff; padding: .3em .5em; border-radius: 4px;
           font-size: 12px; pointer-events: none; max-width: 420px; }
#script-error { background: #c00; color: #fff; padding: .5em; }
footer { margin-top: 3em; color: #888; font-size: .9em; }
"""

_JS = r"""
(function () {
  "use strict";
  var R = JSON.parse(document.getElementById("report-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";  // a namespace name, not a download
  var steps = R.steps;                      // subgraph 0's ops; a lifetime runs from -1 (before) to steps (after)
  var fmt = function (n) { return n.toLocaleString("en-US"); };

  // What lives in the activation part of the arena: tensors that own storage (aliases share their root's)
  // and per-op scratch buffers.
  var items = [];
  R.tensors.forEach(function (t) {
    if (t.const || t.offset < 0 || t.alias >= 0 || t.first < -1 || t.offset >= R.arena.activation_bytes) return;
    var sharers = R.tensors.filter(function (u) { return u.alias === t.id; }).map(function (u) { return u.name; });
    items.push({kind: "tensor", tensor: t.id, name: t.name, offset: t.offset, bytes: t.bytes,
                first: t.first, last: t.last,
                detail: t.dtype + " (" + t.shape.join(", ") + ")" +
                        (sharers.length ? "; shared with " + sharers.join(", ") : "")});
  });
  R.ops.forEach(function (op) {
    if (op.scratch.bytes > 0) {
      items.push({kind: "scratch", op: op.id, name: "scratch of #" + op.id + " " + op.name,
                  offset: op.scratch.offset, bytes: op.scratch.bytes, first: op.first, last: op.last,
                  detail: "working memory while the op runs"});
    }
  });

  var top = Math.max(R.arena.activation_bytes, 1);
  var W = 1000, H = 420, left = 70, right = 10, upper = 10, lower = 40;
  var cols = steps + 2;
  var cw = (W - left - right) / cols;
  var x = function (step) { return left + (step + 1) * cw; };
  var y = function (offset) { return upper + (H - upper - lower) * (1 - offset / top); };

  var svg = document.createElementNS(SVGNS, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H); svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  var add = function (tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (parent || svg).appendChild(e);
    return e;
  };
  // axes: offsets on the left, op indices below
  for (var k = 0; k <= 4; k++) {
    var off = Math.round(top * k / 4);
    add("line", {x1: left - 4, x2: W - right, y1: y(off), y2: y(off), stroke: "#eee"});
    add("text", {x: left - 6, y: y(off) + 3, "text-anchor": "end"}).textContent = fmt(off);
  }
  var every = Math.max(1, Math.ceil(cols / 40));
  for (var s = -1; s <= steps; s++) {
    if ((s + 1) % every !== 0 && s !== steps) continue;
    var label = s < 0 ? "in" : (s === steps ? "out" : String(s));
    add("text", {x: x(s) + cw / 2, y: H - lower + 14, "text-anchor": "middle"}).textContent = label;
  }
  add("text", {x: left + (W - left - right) / 2, y: H - 6, "text-anchor": "middle"}).textContent =
      "op index (in = before the first op, out = after the last)";

  var hue = function (i) { return "hsl(" + ((i * 137.5) % 360).toFixed(1) + ",60%,62%)"; };
  var tip = document.getElementById("tooltip");
  var rects = [];
  items.forEach(function (it, i) {
    var y0 = y(it.offset + it.bytes), y1 = y(it.offset);
    var r = add("rect", {x: x(it.first) + 1, width: Math.max(x(it.last + 1) - x(it.first) - 2, 2),
                         y: y0, height: Math.max(y1 - y0, 2), fill: hue(it.tensor !== undefined ? it.tensor : i),
                         "class": "item " + it.kind, "data-offset": it.offset, "data-bytes": it.bytes,
                         "data-first": it.first, "data-last": it.last});
    if (it.kind === "tensor") r.setAttribute("data-tensor", it.tensor); else r.setAttribute("data-op", it.op);
    var opName = function (s) { return s < 0 ? "the model's start" : (s >= steps ? "the end" :
                                       "#" + s + " " + R.ops[s].name); };
    var text = it.name + ": " + fmt(it.bytes) + " bytes at offset " + fmt(it.offset) + ", alive from " +
               opName(it.first) + " to " + opName(it.last) + "; " + it.detail;
    add("title", {}, r).textContent = text;   // the browser's own tooltip, also without this script's help
    var rw = +r.getAttribute("width"), rh = +r.getAttribute("height");
    if (rw > 70 && rh > 14) {                 // name the big ones in place
      var label = add("text", {x: +r.getAttribute("x") + 4, y: y0 + 12, "class": "in-rect"});
      var room = Math.floor((rw - 8) / 6);
      label.textContent = it.name.length > room ? it.name.slice(0, room - 1) + "\u2026" : it.name;
    }
    r.addEventListener("mousemove", function (ev) {
      tip.textContent = text; tip.hidden = false;
      tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
    });
    r.addEventListener("mouseleave", function () { tip.hidden = true; });
    rects.push(r);
  });
  document.getElementById("timeline").appendChild(svg);

  // Hovering an op (graph box or table row) outlines its tensors and scratch in the timeline, and the other
  // way round: hovering a tensor's rectangle outlines the ops that use it.
  var ownTensor = function (id) { var t = R.tensors[id]; return t.alias >= 0 ? t.alias : id; };
  var highlight = function (opId, on) {
    var op = R.ops[opId]; if (!op) return;
    var mine = op.inputs.concat(op.outputs).map(ownTensor);
    rects.forEach(function (r) {
      var t = r.getAttribute("data-tensor"), o = r.getAttribute("data-op");
      var hit = (t !== null && mine.indexOf(+t) >= 0) || (o !== null && +o === opId);
      r.classList.toggle("hl", on && hit);
    });
  };
  document.querySelectorAll("[data-op]").forEach(function (el) {
    if (el.tagName === "rect") return;
    var id = +el.getAttribute("data-op");
    el.addEventListener("mouseenter", function () { highlight(id, true); el.classList.add("hl"); });
    el.addEventListener("mouseleave", function () { highlight(id, false); el.classList.remove("hl"); });
  });
  rects.forEach(function (r) {
    var t = r.getAttribute("data-tensor");
    if (t === null) return;
    var users = R.ops.filter(function (op) {
      return op.inputs.concat(op.outputs).map(ownTensor).indexOf(+t) >= 0;
    });
    r.addEventListener("mouseenter", function () {
      users.forEach(function (op) { document.getElementById("op-" + op.id).classList.add("hl"); });
    });
    r.addEventListener("mouseleave", function () {
      users.forEach(function (op) { document.getElementById("op-" + op.id).classList.remove("hl"); });
    });
  });

  // Done: tests (and curious readers) can tell the script ran to the end, and what it drew.
  document.documentElement.setAttribute("data-report-ready", String(rects.length));
})();
"""
