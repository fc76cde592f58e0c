#!/usr/bin/env python3
"""Draw docs/img/model-journey.svg: how a model travels from Keras to the chip (docs/architecture.md, "From
Keras to the chip"). Plain SVG written by hand from the table below, no plotting library, so the picture is
small, diffable and the same on every machine. tests/test_journey_diagram.py checks that the committed picture
is what this script draws.

    python3 tools/journey_diagram.py          # rewrite docs/img/model-journey.svg
"""

from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "img" / "model-journey.svg"

# Each step: (title, lines under it, where it runs). The steps run left to right, one row per place.
PLACES = {
    "laptop": ("On your computer: the tinyml CLI (host/tinyml)", "#eef4fb", "#4a78b0"),
    "board": ("On the board: MicroPython 1.24+ (or an emulated board)", "#eef8ee", "#4c9a55"),
}
STEPS = [
    ("laptop", "1. Data + Keras", ["tinyml train JOB", "jobs/*.py: data, features", "as the device computes", "them, a small model"]),
    ("laptop", "2. Full int8 .tflite", ["convert.py: TF Lite", "converter, calibrated on", "real samples", "-> model.tflite"]),
    ("laptop", "3. tinyml check", ["check.py: every op has", "a kernel; arena planned", "by the engine itself;", "code and RAM vs boards/B"]),
    ("laptop", "4. tinyml pack", ["build.py: the C engine with", "only this model's kernels,", "per arch (dynruntime.mk,", "mpy_ld) + the model bytes"]),
    ("laptop", "5. tinyml deploy", ["deploy.py over mpremote:", "firmware >= 1.24, arch,", "free heap / IRAM checked,", "then NAME.mpy copied"]),
    ("board", "6. import NAME", ["the native module loads;", "its code stays in the heap", "(Arm) or goes to IRAM", "(ESP32)"]),
    ("board", "7. Model(buf)", ["tm_model.c: flatbuffer", "bounds-checked, graph", "order, kernels' init,", "one arena planned"]),
    ("board", "8. predict(x)", ["quantize the input, each", "op's eval in order,", "dequantize: the same", "integers as TFLM"]),
]
CHECKS = ["the TFLM runtime (tflite-micro wheel) runs the same .tflite",
          "on the same inputs: every output must be identical;",
          "emulated Cortex-M0+/M3/M4/M7 and ESP32 boards (QEMU)",
          "run 6-8 and count instructions; a fuzzer feeds 7 bad models"]
BOX_W, BOX_H, GAP, MARGIN = 178, 104, 26, 20
ROW_Y = {"laptop": 58, "board": 262}
TITLE_Y = {"laptop": 40, "board": 244}


def _text(x, y, s, size=12, weight="normal", anchor="middle", fill="#222"):
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
            f'fill="{fill}">{escape(s)}</text>')


def draw() -> str:
    n_laptop = sum(1 for s in STEPS if s[0] == "laptop")
    width = MARGIN * 2 + n_laptop * BOX_W + (n_laptop - 1) * GAP
    height = 400
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">',
           '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
           '<path d="M0,0 L10,4 L0,8 z" fill="#555"/></marker></defs>',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>']
    for place, (title, bg, edge) in PLACES.items():
        y0 = TITLE_Y[place] - 24
        out.append(f'<rect x="{MARGIN / 2}" y="{y0}" width="{width - MARGIN}" height="{BOX_H + 56}" rx="10" '
                   f'fill="{bg}" stroke="{edge}" stroke-width="1.2"/>')
        out.append(_text(MARGIN, TITLE_Y[place] - 4, title, 14, "bold", "start", edge))
    boxes = {}
    col = {"laptop": 0, "board": 0}
    for place, title, lines in STEPS:
        # The board's steps sit under the last laptop steps, so the deploy arrow goes straight down.
        start = 0 if place == "laptop" else n_laptop - 3
        x = MARGIN + (start + col[place]) * (BOX_W + GAP)
        y = ROW_Y[place]
        col[place] += 1
        edge = PLACES[place][2]
        out.append(f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="white" stroke="{edge}" '
                   f'stroke-width="1.5"/>')
        out.append(_text(x + BOX_W / 2, y + 20, title, 13, "bold"))
        for k, line in enumerate(lines):
            out.append(_text(x + BOX_W / 2, y + 40 + 16 * k, line, 11))
        boxes[title] = (x, y)
    titles = [s[1] for s in STEPS]
    for a, b in zip(titles, titles[1:]):
        (xa, ya), (xb, yb) = boxes[a], boxes[b]
        if ya == yb:   # same row: left to right
            out.append(f'<line x1="{xa + BOX_W}" y1="{ya + BOX_H / 2}" x2="{xb - 2}" y2="{yb + BOX_H / 2}" '
                       f'stroke="#555" stroke-width="1.6" marker-end="url(#arrow)"/>')
        else:          # deploy: down from the last laptop step to the first board step
            mid = (ya + BOX_H + yb) / 2
            out.append(f'<path d="M{xa + BOX_W / 2},{ya + BOX_H} L{xa + BOX_W / 2},{mid} L{xb + BOX_W / 2},{mid} '
                       f'L{xb + BOX_W / 2},{yb - 2}" fill="none" stroke="#555" stroke-width="1.6" '
                       f'marker-end="url(#arrow)"/>')
            out.append(_text(xa + BOX_W / 2 + 8, mid - 6, "NAME.mpy (engine + model) over USB serial", 11,
                             "normal", "end", "#333"))
    # The oracle and the emulated boards, in the board row's free space: how the tests hold the journey to account.
    x, y, w = MARGIN, ROW_Y["board"], 2 * BOX_W + GAP
    out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{BOX_H}" rx="6" fill="white" stroke="#888" '
               f'stroke-dasharray="5,4"/>')
    out.append(_text(x + w / 2, y + 20, "Checked on the way (tests/)", 13, "bold", fill="#444"))
    for k, line in enumerate(CHECKS):
        out.append(_text(x + w / 2, y + 40 + 16 * k, line, 11, fill="#444"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(draw())
    print(f"wrote {OUT.relative_to(REPO)}")
