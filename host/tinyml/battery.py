"""Battery life of a board that wakes, runs a model and sleeps again: `tinyml battery`.

One cycle of `--every` seconds is a wake (boot to main.py, import of the engine module, loading the model,
the sensor's on-time, one inference) followed by sleep until the next wake. The average current over the cycle
and the battery's usable capacity at that current give the life:

    I_avg = (sum over wake phases of I * t + I_sleep * t_sleep) / T
    life  = C(I_avg) / (I_avg + I_self)          (hours; capped at the battery's shelf life)

where C(I) is the capacity derated by load (the battery's capacity_table: datasheet points, interpolated in
log(current)) and I_self the self-discharge as a current (rate per year x nominal capacity / hours per year).

Where the numbers come from, and every one is named in the printed assumptions and in --json:
- currents, boot time and clock: the board's "energy" key in boards/<id>.json, each with its source; the board
  as sold (a dev board's regulator and USB bridge stay powered) or, with --bare-module, the module alone;
- import, model load and inference: instructions measured on an emulated core of the board's family (the
  Cortex-M boards on ports/qemu_mps2, the ESP32 family on ports/qemu_xtensa, both under QEMU's -icount: exact
  and repeatable), turned into time at the board's clock by timing.core_timing (the one instructions-to-time
  rule, which `tinyml train`'s latency uses too);
- the batteries: host/tinyml/data/batteries.json (capacity table, self-discharge, shelf life, current limits).
Pulse limits are warnings, not numbers: a coin cell cannot deliver an ESP32's wake current at all.
A figure whose source says UNCONFIRMED (an assumption, a stand-in, a figure of another board) makes the whole
result an estimate, and the report says so first, naming those figures.
"""

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from . import TinymlError
from .boards import get_board, load_boards
from .timing import UNCONFIRMED, core_timing

BATTERIES_FILE = Path(__file__).resolve().parent / "data" / "batteries.json"
HOURS_PER_YEAR = 8766.0             # 365.25 days

# ports/qemu_mps2/mphalport.c: mp_hal_init() times two loops of 2^14 and 3 * 2^14 iterations of two
# instructions each to find QEMU's -icount shift. A real board does not, so they are taken off "reset to main.py".
QEMU_CALIBRATION_INSTRUCTIONS = 2 * ((1 << 14) + (3 << 14))
# What each emulated board's start-up runs that a real board does not, taken off "reset to main.py". The Xtensa
# port's own calibration (the -icount shift and the MULSH emulation's cost, ports/qemu_xtensa/mphalport.c)
# stays in: its count depends on the emulation, and the ESP32 boards use a measured boot figure instead.
CALIBRATION_INSTRUCTIONS = {"qemu-m4": QEMU_CALIBRATION_INSTRUCTIONS, "qemu-m3": QEMU_CALIBRATION_INSTRUCTIONS,
                            "qemu-xtensa": 0}

# Runs as main.py on the emulated board. Its first line reads the instruction counter: everything before it
# (MicroPython's start-up, reading and compiling main.py) is "reset to main.py". The inference is the first
# one after loading, as on a board that has just woken from deep sleep.
PROBE_SCRIPT = """\
import board
t_main = board.instructions()
import os


def read_file(name):
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])


t0 = board.instructions()
import tinyml
t_import = board.instructions() - t0
data = read_file("model.tflite")
t0 = board.instructions()
model = tinyml.Model(data)
t_load = board.instructions() - t0
for i in range(len(model.inputs)):
    model.set_input(i, read_file("in%d.bin" % i))
t0 = board.instructions()
model.invoke()
t_invoke = board.instructions() - t0
print("BATTERY main=%d import=%d load=%d invoke=%d" % (t_main, t_import, t_load, t_invoke))
"""


@dataclass
class Phase:
    """A stretch of the cycle at one current."""
    name: str
    ms: float
    ma: float
    source: str

    @property
    def charge_mc(self):
        return self.ma * self.ms / 1000.0


# ---- inputs ---------------------------------------------------------------------------------------------

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_interval(text) -> float:
    """'500ms', '60s', '5min', '1h', '1d' or a bare number of seconds -> seconds (> 0)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", str(text).lower())
    if not m or (m.group(2) and m.group(2) not in _UNITS) or float(m.group(1)) <= 0:
        raise TinymlError(f"--every {text!r}: expected a positive duration such as 500ms, 60s, 5min, 1h or 1d")
    return float(m.group(1)) * _UNITS.get(m.group(2) or "s")


def load_batteries() -> dict:
    return {k: v for k, v in json.loads(BATTERIES_FILE.read_text()).items() if not k.startswith("_")}


def get_batteries(names) -> dict:
    """The batteries named (comma lists allowed), all of them when none is."""
    known = load_batteries()
    wanted = [n.strip() for spec in (names or []) for n in spec.split(",") if n.strip()] or list(known)
    lowered = {k.lower(): k for k in known}
    out = {}
    for name in wanted:
        if name.lower() not in lowered:
            raise TinymlError(f"unknown battery '{name}': choose one of {', '.join(known)} "
                              f"(defined in {BATTERIES_FILE.relative_to(BATTERIES_FILE.parents[3])})")
        key = lowered[name.lower()]
        out[key] = known[key]
    return out


def board_energy(board_id: str, bare_module: bool = False):
    """(board description, its "energy" figures, the variant used: "board" or "module")."""
    board = get_board(board_id)
    energy = board.get("energy")
    if not energy:
        have = [b for b, d in load_boards().items() if d.get("energy")]
        raise TinymlError(f"boards/{board_id}.json has no sourced current figures (its \"energy\" key): "
                          f"battery life can be estimated for {', '.join(have)}")
    variant = "module" if bare_module else "board"
    if variant not in energy["variants"]:
        raise TinymlError(f"--bare-module: boards/{board_id}.json has no figures for a bare module "
                          f"({board['name']} is only described as a whole board); drop --bare-module")
    return board, energy, variant


def model_file(model_or_job) -> Path:
    """M.tflite, or a JOB_DIR (a `tinyml train` output folder) holding model.tflite."""
    path = Path(model_or_job)
    if path.is_dir():
        if not (path / "model.tflite").is_file():
            raise TinymlError(f"{path} is a folder without model.tflite: give a .tflite file or a job folder "
                              f"that `tinyml train` wrote")
        return path / "model.tflite"
    if not path.exists():
        raise TinymlError(f"model not found: {path} (give a .tflite file or a job folder with model.tflite)")
    return path


# ---- measurement on an emulated board ------------------------------------------------------------------

def measure(model_path, target: str, arch: str, chip=None) -> dict:
    """Instructions on the emulated board `target` running the engine built for `arch` (xtensawin: for the
    ESP32-family `chip`, tinyml.build.XTENSA_CHIPS): reset to the first line of main.py (without QEMU's
    calibration), `import tinyml`, `tinyml.Model(buf)`, the first invoke()."""
    from .build import model_module
    from .model_info import read_model
    from .runner import random_inputs
    from .targets import TargetError, get_target

    info = read_model(model_path)
    tgt = get_target(target)
    module = model_module(arch, info, chip=chip)
    files = {"model.tflite": Path(model_path).read_bytes(), "tinyml.mpy": module.read_bytes()}
    for i, x in enumerate(random_inputs(info)):
        files[f"in{i}.bin"] = x.tobytes()
    try:
        result = tgt.run(PROBE_SCRIPT, files)
    except TargetError as exc:
        raise TinymlError(f"measuring on {target}: {exc}") from None
    m = re.search(r"BATTERY main=(\d+) import=(\d+) load=(\d+) invoke=(\d+)", result.stdout)
    if not m:
        raise TinymlError(f"the measurement on {target} printed no counts (is -icount on?): {result.stdout[-200:]}")
    main, imp, load, inv = map(int, m.groups())
    return {"target": target, "arch": arch, "chip": chip, "module_bytes": module.stat().st_size,
            "reset_to_main_instructions": max(main - CALIBRATION_INSTRUCTIONS.get(target, 0), 0),
            "reset_to_main_with_calibration": main,
            "import_instructions": imp, "load_instructions": load, "invoke_instructions": inv}


# ---- the arithmetic -------------------------------------------------------------------------------------

def derated_capacity_mah(battery: dict, load_ma: float) -> float:
    """Usable capacity at a constant load: the capacity table interpolated in log(current), flat beyond it."""
    table = sorted(battery["capacity_table"])
    if load_ma <= table[0][0]:
        return float(table[0][1])
    if load_ma >= table[-1][0]:
        return float(table[-1][1])
    for (i0, c0), (i1, c1) in zip(table, table[1:]):
        if i0 <= load_ma <= i1:
            f = (math.log(load_ma) - math.log(i0)) / (math.log(i1) - math.log(i0))
            return c0 + f * (c1 - c0)
    raise AssertionError("unreachable: the table is sorted")


def self_discharge_ma(battery: dict) -> float:
    """Self-discharge as a steady current: the yearly fraction of the nominal capacity, per hour."""
    return battery["self_discharge_per_year"] * battery["capacity_mah"] / HOURS_PER_YEAR


def average_current_ma(phases, sleep_ma: float, period_s: float) -> float:
    awake_ms = sum(p.ms for p in phases)
    period_ms = period_s * 1000.0
    return (sum(p.ma * p.ms for p in phases) + sleep_ma * (period_ms - awake_ms)) / period_ms


def life(battery: dict, avg_ma: float) -> dict:
    """Hours of life at an average current, with the terms that made it."""
    capacity = derated_capacity_mah(battery, avg_ma)
    self_ma = self_discharge_ma(battery)
    hours = capacity / (avg_ma + self_ma)
    cap = battery.get("shelf_life_years")
    capped = cap is not None and hours > cap * HOURS_PER_YEAR
    if capped:
        hours = cap * HOURS_PER_YEAR
    return {"hours": hours, "days": hours / 24, "years": hours / HOURS_PER_YEAR, "derated_capacity_mah": capacity,
            "self_discharge_ma": self_ma, "capped_by_shelf_life": capped}


def check_boot_ms(board_id: str, energy: dict, boot_ms) -> None:
    if boot_ms is not None and not energy.get("wake_reboots", True):
        raise TinymlError(f"--boot-ms: {board_id} does not reboot on a wake ({energy['sleep_kind']}): drop --boot-ms")


def wake_phases(board_id: str, energy: dict, variant: str, measured: dict, sensor_ms: float = 0.0,
                sensor_ma: float = 0.0, boot_ms: float | None = None):
    """The wake as phases, each with its duration, current and where both come from."""
    awake = energy["variants"][variant]
    awake_ma = awake["awake_ma"]
    where = f"boards/{board_id}.json energy"
    timing = core_timing(get_board(board_id), required=True)
    instructions_ms = timing.ms
    scale = f"instructions measured on {measured['target']} ({measured['arch']} engine) {timing.basis()}"
    current = f"the awake current ({where}.variants.{variant}.awake_ma)"
    phases = []
    boot = energy.get("boot")
    if not energy.get("wake_reboots", True):
        # The board cannot sleep through a reboot (the nrf port): the app stays running, so a wake is only the
        # sensor and the inference; the module was imported and the model loaded once, at power-on.
        check_boot_ms(board_id, energy, boot_ms)
    elif boot_ms is not None:
        phases.append(Phase("boot to main.py", boot_ms, boot["ma"] if boot else awake_ma,
                            f"--boot-ms {boot_ms:g}, at " + (f"{boot['ma']} mA ({where}.boot)" if boot else current)))
    elif boot:
        phases.append(Phase("boot to main.py", boot["ms"], boot["ma"], f"{where}.boot: {boot['source']}"))
    else:
        ms = instructions_ms(measured["reset_to_main_instructions"])
        phases.append(Phase("boot to main.py", ms, awake_ma,
                            f"LOWER BOUND: MicroPython's start to main.py only ({measured['reset_to_main_instructions']} "
                            f"{scale}); ROM, bootloader, clocks and the filesystem mount have no sourced figure for "
                            f"this board (--boot-ms N if you measured one); at {current}"))
    if energy.get("wake_reboots", True):
        phases.append(Phase("import tinyml", instructions_ms(measured["import_instructions"]), awake_ma,
                            f"{measured['import_instructions']} {scale}; at {current}"))
        phases.append(Phase("load the model", instructions_ms(measured["load_instructions"]), awake_ma,
                            f"{measured['load_instructions']} {scale}; at {current}"))
    if sensor_ms:
        phases.append(Phase("sensor on", sensor_ms, awake_ma + sensor_ma,
                            f"--sensor-ms {sensor_ms:g} at {current}" + (f" + --sensor-ma {sensor_ma:g}" if sensor_ma
                                                                         else " (--sensor-ma 0: the sensor's own draw "
                                                                              "not counted)")))
    phases.append(Phase("inference", instructions_ms(measured["invoke_instructions"]), awake_ma,
                        f"{measured['invoke_instructions']} {scale}; at {current}"))
    return phases


def pulse_warnings(battery_id: str, battery: dict, board: dict, energy: dict, phases, avg_ma: float):
    """What the battery cannot deliver, said in words."""
    out = []
    peak = max(phases, key=lambda p: p.ma)
    limit = battery["max_pulse_ma"]
    if peak.ma > limit:
        out.append(f"{battery_id} cannot deliver this board's wake: {peak.ma:g} mA during '{peak.name}' against a "
                   f"pulse limit of about {limit:g} mA (its limits' sources are below): the supply collapses and the board "
                   f"browns out on every wake. The life shown is what the charge would last if it could")
    elif sum(p.ms for p in phases) / 1000.0 > battery["pulse_s"] and peak.ma > battery["max_continuous_ma"]:
        out.append(f"{battery_id}: the wake draws {peak.ma:g} mA for {sum(p.ms for p in phases):.0f} ms, above its "
                   f"{battery['max_continuous_ma']:g} mA continuous rating for longer than its {battery['pulse_s']:g} s "
                   f"pulses")
    radio = energy.get("radio_peak_ma")
    if radio and radio["value"] > limit:
        out.append(f"{battery_id} cannot supply {board['name']}'s radio either: {radio['what']} peaks at "
                   f"{radio['value']:g} mA ({radio['source']}); this estimate has the radio off")
    if avg_ma > battery["max_continuous_ma"]:
        out.append(f"{battery_id}: the average current {avg_ma:.3g} mA is above its {battery['max_continuous_ma']:g} mA "
                   f"continuous rating")
    return out


def estimate(board_id: str, measured: dict, every_s: float, batteries: dict, bare_module: bool = False,
             sensor_ms: float = 0.0, sensor_ma: float = 0.0, boot_ms: float | None = None, model: str = "") -> dict:
    """The whole estimate as one JSON-able dict (what --json prints)."""
    board, energy, variant = board_energy(board_id, bare_module)
    phases = wake_phases(board_id, energy, variant, measured, sensor_ms, sensor_ma, boot_ms)
    awake_ms = sum(p.ms for p in phases)
    if every_s * 1000.0 <= awake_ms:
        raise TinymlError(f"--every {every_s:g}s is shorter than one wake ({awake_ms:.0f} ms on {board_id}): "
                          f"give a longer interval")
    v = energy["variants"][variant]
    avg = average_current_ma(phases, v["sleep_ma"], every_s)
    where = f"boards/{board_id}.json energy"
    assumptions = [
        {"what": "board", "value": v["what"], "source": f"{where}.variants.{variant}"
         + ("" if bare_module else " (--bare-module for the module alone)" if "module" in energy["variants"] else "")},
        {"what": "sleep current", "value": f"{v['sleep_ma']:g} mA", "source": v["sleep_source"]},
        {"what": "awake current", "value": f"{v['awake_ma']:g} mA", "source": v["awake_source"]},
        {"what": "sleep between wakes", "value": energy["sleep_kind"], "source": f"{where}.sleep_kind"},
        {"what": "clock", "value": f"{energy['clock_hz']['value'] / 1e6:g} MHz", "source": energy["clock_hz"]["source"]},
        {"what": f"cycles per instruction ({energy['cycles_per_instruction']['core']})",
         "value": f"{energy['cycles_per_instruction']['value']:g}", "source": energy["cycles_per_instruction"]["source"]},
        {"what": "instruction counts", "value": f"{measured['target']}, {measured['arch']} engine",
         "source": "measurement: " + energy["instructions"]["note"]},
        {"what": "battery current = board current", "value": "linear regulators",
         "source": "an LDO passes its load current through; a switching regulator would draw less from a higher "
                   "battery voltage (not modelled)"},
    ]
    for p in phases:
        assumptions.append({"what": p.name, "value": f"{p.ms:.3g} ms at {p.ma:g} mA", "source": p.source})
    # What is not a datasheet figure or a measurement of this board: the result is an estimate if any is.
    unconfirmed = [a["what"] for a in assumptions if UNCONFIRMED in a["source"] or UNCONFIRMED in a["value"]]
    results = []
    for bid, bat in batteries.items():
        r = life(bat, avg)
        r.update(battery=bid, name=bat["name"],
                 warnings=pulse_warnings(bid, bat, board, energy, phases, avg),
                 sources={"capacity": bat["capacity_source"], "self_discharge": bat["self_discharge_source"],
                          "shelf_life": bat["shelf_life_source"], "limits": bat["pulse_source"]})
        results.append(r)
    return {"board": board_id, "board_name": board["name"], "variant": variant, "model": model,
            "every_s": every_s, "phases": [dict(asdict(p), charge_mc=p.charge_mc) for p in phases],
            "awake_ms": awake_ms, "wake_charge_mc": sum(p.charge_mc for p in phases),
            "sleep": {"ma": v["sleep_ma"], "ms": every_s * 1000.0 - awake_ms, "source": v["sleep_source"]},
            "average_ma": avg, "measured": measured, "batteries": results, "assumptions": assumptions,
            "estimate": bool(unconfirmed), "unconfirmed": unconfirmed}


# ---- output ---------------------------------------------------------------------------------------------

def _duration(hours: float) -> str:
    if hours >= HOURS_PER_YEAR:
        return f"{hours / HOURS_PER_YEAR:.1f} years"
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.1f} hours"


def format_report(r: dict) -> str:
    lines = [f"{Path(r['model']).name} on {r['board']} ({r['board_name']}; {r['variant']}), one wake every "
             f"{r['every_s']:g} s"]
    if r["unconfirmed"]:
        lines.append(f"ESTIMATE: these figures are assumptions or stand-ins, not sourced for this board "
                     f"(UNCONFIRMED below): {', '.join(r['unconfirmed'])}")
    lines.append(f"  each wake: {r['awake_ms']:.1f} ms awake, {r['wake_charge_mc']:.2f} mC")
    for p in r["phases"]:
        lines.append(f"    {p['name']:<16} {p['ms']:>9.2f} ms at {p['ma']:>6.4g} mA  {p['charge_mc']:>8.3f} mC")
    s = r["sleep"]
    lines.append(f"  asleep: {s['ms'] / 1000:.2f} s at {s['ma']:g} mA ({s['ma'] * s['ms'] / 1000:.2f} mC)")
    lines.append(f"  average current: {r['average_ma']:.4g} mA")
    lines.append("  battery      life           capacity at this load   self-discharge")
    for b in r["batteries"]:
        flag = "  (shelf life)" if b["capped_by_shelf_life"] else ""
        flag += "  SEE WARNING" if b["warnings"] else ""
        lines.append(f"    {b['battery']:<10} {_duration(b['hours']):<14} {b['derated_capacity_mah']:>7.0f} mAh"
                     f"{'':<15}{b['self_discharge_ma'] * 1000:>6.2f} uA{flag}")
    warnings = [w for b in r["batteries"] for w in b["warnings"]]
    if warnings:
        lines.append("WARNINGS:")
        lines += [f"  - {w}" for w in warnings]
    lines.append("Assumptions and sources:")
    lines += [f"  - {a['what']}: {a['value']} [{a['source']}]" for a in r["assumptions"]]
    for b in r["batteries"]:
        lines.append(f"  - {b['battery']}: capacity [{b['sources']['capacity']}]; self-discharge "
                     f"[{b['sources']['self_discharge']}]; shelf life [{b['sources']['shelf_life']}]; current limits "
                     f"[{b['sources']['limits']}]")
    return "\n".join(lines)


def plot(r: dict, batteries: dict, path) -> None:
    """Current over one cycle (log scale) and life against the wake interval, one line per battery."""
    try:
        import matplotlib
    except ImportError:
        raise TinymlError("--plot needs matplotlib, which is not installed: run `make setup` (it installs "
                          "requirements.txt)") from None
    matplotlib.use("Agg")        # files only: no display on a build machine
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    bands, t = [], 0.0
    for p in r["phases"]:
        bands.append((p["name"], t, t + p["ms"] / 1000.0, p["ma"]))
        t += p["ms"] / 1000.0
    bands.append(("asleep", t, r["every_s"], r["sleep"]["ma"]))
    floor = min(b[3] for b in bands) / 3        # log scale: fill down to below the lowest current
    for i, (name, x0, x1, ma) in enumerate(bands):
        ax1.stairs([ma], [x0, x1], fill=True, baseline=floor, label=f"{name}: {ma:.3g} mA",
                   color="lightgrey" if name == "asleep" else f"C{i}")
    # Linear through the wake, logarithmic through the sleep, so both are visible in one cycle.
    ax1.set_xscale("symlog", linthresh=max(r["awake_ms"] / 1000.0, 1e-3), linscale=2)
    ax1.set_yscale("log")
    ax1.set_ylim(floor, max(b[3] for b in bands) * 3)
    ax1.legend(fontsize=7, loc="upper right")
    ax1.set_xlim(0, r["every_s"])
    ax1.set_xlabel("time since wake (s)")
    ax1.set_ylabel("current (mA)")
    ax1.set_title(f"{r['board']} ({r['variant']}): one {r['every_s']:g} s cycle, average {r['average_ma']:.3g} mA")

    awake_s = r["awake_ms"] / 1000.0
    intervals = [10 ** (k / 20) for k in range(-20, 101)]            # 0.1 s to 1 day
    intervals = [x for x in intervals if x > 1.5 * awake_s]
    phases = [Phase(p["name"], p["ms"], p["ma"], p["source"]) for p in r["phases"]]
    # A battery that cannot deliver the wake is drawn dashed: its curve is charge, not a life it can reach.
    cannot = {b["battery"] for b in r["batteries"] if any("cannot deliver" in w for w in b["warnings"])}
    for bid, bat in batteries.items():
        days = [life(bat, average_current_ma(phases, r["sleep"]["ma"], x))["days"] for x in intervals]
        ax2.plot(intervals, days, linestyle="--" if bid in cannot else "-",
                 label=bid + (" (cannot supply the wake)" if bid in cannot else ""))
    ax2.axvline(r["every_s"], color="grey", linestyle=":", label=f"--every {r['every_s']:g} s")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("wake interval (s)")
    ax2.set_ylabel("life (days)")
    ax2.set_title("life against wake interval")
    ax2.legend()
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def run(board_id: str, model, every="60s", battery_names=None, bare_module=False, sensor_ms=0.0, sensor_ma=0.0,
        boot_ms=None, plot_path=None) -> dict:
    """`tinyml battery`: check every input first, then measure on the emulated board, then estimate."""
    every_s = parse_interval(every)
    batteries = get_batteries(battery_names)
    board_energy(board_id, bare_module)
    if sensor_ms < 0 or sensor_ma < 0 or (boot_ms is not None and boot_ms < 0):
        raise TinymlError("--sensor-ms, --sensor-ma and --boot-ms must be zero or more")
    if plot_path and Path(plot_path).suffix.lower() != ".png":
        raise TinymlError(f"--plot {plot_path}: the plot is a PNG file: name it FILE.png")
    path = model_file(model)
    energy = get_board(board_id)["energy"]
    check_boot_ms(board_id, energy, boot_ms)
    arch = energy["instructions"]["arch"]
    # An ESP32-family board runs its chip's build (the ESP32's MAC16 kernels: a quarter of the portable
    # build's instructions on kws), as `tinyml pack --board` makes it.
    from .pack import board_chip
    chip = board_chip(get_board(board_id)) if arch == "xtensawin" else None
    measured = measure(path, energy["instructions"]["target"], arch, chip)
    report = estimate(board_id, measured, every_s, batteries, bare_module, sensor_ms, sensor_ma, boot_ms,
                      model=str(path))
    if plot_path:
        plot(report, batteries, plot_path)
        report["plot"] = str(plot_path)
    return report
