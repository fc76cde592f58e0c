"""`tinyml battery`: the life arithmetic on hand-computed cases, the coin-cell pulse warning for an ESP32, the
instruction counts measured on the emulated Cortex-M4 (micro_speech) and their use, --plot, --json, JOB_DIR,
and the one-line errors."""

import json
import re
import shutil

import pytest

from conftest import MODELS, REPO
from tinyml import TinymlError, battery, cli

MICRO_SPEECH = MODELS / "micro_speech.tflite"


# ---- arithmetic ------------------------------------------------------------------------------------------

def test_life_by_hand_with_derating_sleep_and_self_discharge():
    """One 1 s wake at 10 mA every 10 s, 1 mA asleep: 1.9 mA average. The capacity table (1 mA: 1000 mAh,
    100 mA: 500 mAh) gives 1000 - 500 * log(1.9)/log(100) = 930.31 mAh at 1.9 mA; 87.66 % a year of 1000 mAh
    self-discharges as 0.1 mA. Life 930.31 / 2.0 = 465.16 h. Without the derating it would be 500 h, without
    the sleep current 465.2 -> 775+ h, without self-discharge 489.6 h."""
    bat = {"capacity_mah": 1000, "capacity_table": [[1, 1000], [100, 500]], "self_discharge_per_year": 0.8766,
           "shelf_life_years": None}
    phases = [battery.Phase("wake", 1000, 10.0, "test")]
    avg = battery.average_current_ma(phases, sleep_ma=1.0, period_s=10)
    assert avg == pytest.approx(1.9)
    r = battery.life(bat, avg)
    assert r["derated_capacity_mah"] == pytest.approx(930.3116, abs=1e-3)
    assert r["self_discharge_ma"] == pytest.approx(0.1)
    assert r["hours"] == pytest.approx(465.1558, abs=1e-3)
    assert not r["capped_by_shelf_life"]
    # The table's ends hold beyond it; the shelf life caps a life longer than it.
    assert battery.derated_capacity_mah(bat, 0.01) == 1000 and battery.derated_capacity_mah(bat, 1000) == 500
    long = battery.life(dict(bat, self_discharge_per_year=0, shelf_life_years=1), 0.001)
    assert long["capped_by_shelf_life"] and long["hours"] == pytest.approx(battery.HOURS_PER_YEAR)


def test_esp32_devkit_by_hand():
    """boards/esp32.json as sold (3.8 mA asleep, 47.8 mA awake, boot 405 ms at 47.4 mA), 160 MHz at 1.5
    cycles/instruction (9.375 ns each), counts chosen to give 3, 6 and 30 ms, a 100 ms sensor, every 60 s:
    (405*47.4 + (3+6+100+30)*47.8 + 59456*3.8) / 60000 = 4.19623 mA. CR2032 beyond its 3 mA table point:
    155 mAh, so 155 / (4.19623 + 0.01*225/8766) = 36.94 h; 2xAA flat at 3000 mAh: 3000 / (4.19623 + 0.02*3000/8766)
    = 713.76 h."""
    measured = {"target": "qemu-m3", "arch": "armv7m", "reset_to_main_instructions": 500_000,
                "import_instructions": 320_000, "load_instructions": 640_000, "invoke_instructions": 3_200_000}
    r = battery.estimate("esp32", measured, 60.0, battery.get_batteries(["cr2032", "2xAA"]), sensor_ms=100)
    assert [p["name"] for p in r["phases"]] == ["boot to main.py", "import tinyml", "load the model", "sensor on",
                                                 "inference"]
    assert [p["ms"] for p in r["phases"]] == pytest.approx([405, 3, 6, 100, 30])
    assert r["average_ma"] == pytest.approx(4.196233, abs=1e-6)
    life = {b["battery"]: b for b in r["batteries"]}
    assert life["cr2032"]["derated_capacity_mah"] == 155
    assert life["cr2032"]["hours"] == pytest.approx(36.9356, abs=1e-3)
    assert life["2xAA"]["hours"] == pytest.approx(713.7626, abs=1e-3)
    # The bare module sleeps at 10 uA instead: the board's regulator and USB bridge were most of the drain.
    bare = battery.estimate("esp32", measured, 60.0, battery.get_batteries(["2xAA"]), bare_module=True, sensor_ms=100)
    assert bare["variant"] == "module" and bare["sleep"]["ma"] == 0.010
    assert bare["batteries"][0]["hours"] > 9 * life["2xAA"]["hours"]
    # Every number names its source, in the assumptions --json carries.
    assert all(a["source"] for a in r["assumptions"])
    assert any("lucidar.me" in a["source"] for a in r["assumptions"])


def test_cr2032_cannot_power_an_esp32_and_says_so():
    measured = {"target": "qemu-m3", "arch": "armv7m", "reset_to_main_instructions": 500_000,
                "import_instructions": 1_000_000, "load_instructions": 100_000, "invoke_instructions": 2_000_000}
    for bare in (False, True):      # the module's wake current is as far beyond a coin cell as the board's
        r = battery.estimate("esp32", measured, 600.0, battery.get_batteries(None), bare_module=bare)
        by_id = {b["battery"]: b for b in r["batteries"]}
        warnings = " ".join(by_id["cr2032"]["warnings"])
        assert "cr2032 cannot deliver this board's wake" in warnings and "browns out" in warnings
        assert "260 mA" in warnings                     # the radio's peaks, named
        assert by_id["2xAA"]["warnings"] == [] and by_id["lipo-1000"]["warnings"] == []
        text = battery.format_report(r)
        assert "WARNINGS:" in text and "SEE WARNING" in text


def test_unconfirmed_figures_make_an_estimate_and_say_so():
    """A board whose currents are stand-ins (Pico 2: the Pico's) or unreachable (Nano 33 BLE: the nrf port
    cannot sleep) is printed as an ESTIMATE naming those figures; the Nano's wake has no reboot, import or
    load (the app stays running)."""
    measured = {"target": "qemu-m4", "arch": "armv7emsp", "reset_to_main_instructions": 800_000,
                "import_instructions": 1_300_000, "load_instructions": 90_000, "invoke_instructions": 857_000}
    nano = battery.estimate("nano33ble", measured, 60.0, battery.get_batteries(["2xAA"]))
    assert [p["name"] for p in nano["phases"]] == ["inference"]
    assert nano["estimate"] and {"sleep current", "awake current"} <= set(nano["unconfirmed"])
    text = battery.format_report(nano)
    assert text.splitlines()[1].startswith("ESTIMATE: ") and "sleep current" in text.splitlines()[1]
    pico2 = battery.estimate("pico2", dict(measured, target="qemu-m3", arch="armv7m"), 60.0,
                             battery.get_batteries(["2xAA"]))
    assert "awake current" in pico2["unconfirmed"] and "ESTIMATE: " in battery.format_report(pico2)
    # Figures with a datasheet or a measurement of the board behind them are not called estimates.
    esp = battery.estimate("esp32", measured, 60.0, battery.get_batteries(["2xAA"]), bare_module=True)
    assert "sleep current" not in esp["unconfirmed"] and "awake current" not in esp["unconfirmed"]


def test_train_latency_and_battery_turn_instructions_into_time_alike():
    """One rule (tinyml.timing) for `tinyml train`'s per-board latency and `tinyml battery`'s inference phase:
    the same count gives the same milliseconds on every board with an arch both measure."""
    from tinyml.boards import load_boards
    from tinyml.train import board_latencies
    counts = {"armv7emsp": 857_000, "armv7m": 1_960_000, "xtensawin": 4_200_000}
    boards = load_boards()
    latencies = board_latencies(counts, boards)
    checked = []
    for board_id, board in boards.items():
        if board.get("energy") and board["arch"] in counts:
            measured = {"target": "t", "arch": board["arch"], "reset_to_main_instructions": 1,
                        "import_instructions": 1, "load_instructions": 1, "invoke_instructions": counts[board["arch"]]}
            r = battery.estimate(board_id, measured, 3600.0, battery.get_batteries(["2xAA"]))
            inference = next(p for p in r["phases"] if p["name"] == "inference")
            assert latencies[board_id]["ms"] == round(inference["ms"], 3), board_id
            checked.append(board_id)
    assert {"esp32", "pyboard", "nano33ble", "nucleo-f446re", "pico2"} <= set(checked)
    # 857,000 instructions x 1.25 cycles / 64 MHz on the Nano 33 BLE; a board without "energy" uses its "mcu"
    # clock at 1 cycle per instruction and says it is an estimate.
    assert latencies["nano33ble"]["ms"] == round(857_000 * 1.25 / 64e6 * 1e3, 3)
    other = board_latencies({"armv7m": 48_000}, {"x": {"id": "x", "arch": "armv7m", "mcu": "Some M3 @48 MHz"}})
    assert other["x"]["ms"] == 1.0 and other["x"]["basis"].endswith("an estimate)")


# ---- measured on the emulated Cortex-M4, through the CLI ---------------------------------------------------

@pytest.fixture(scope="module")
def m4_counts():
    return battery.measure(MICRO_SPEECH, "qemu-m4", "armv7emsp")


def test_measured_counts_on_the_emulated_m4(m4_counts):
    """The probe's first invoke after loading costs what `tinyml bench` measures (warm, averaged) within 2 %;
    reset to main.py (without QEMU's calibration loop), import and load are counted."""
    from tinyml.runner import bench
    _, _, warm = bench(MICRO_SPEECH, "qemu-m4", runs=2)
    assert abs(m4_counts["invoke_instructions"] - warm["instructions"]) < 0.02 * warm["instructions"]
    assert 100_000 < m4_counts["reset_to_main_instructions"] < 5_000_000
    # The port's -icount calibration (two loops of two instructions an iteration, in its mp_hal_init) is not
    # something a real board runs: it is taken off, as many instructions as the port's source says.
    loops = re.findall(r"measure_icount_shift\((\d+) << (\d+)\)", (REPO / "ports/qemu_mps2/mphalport.c").read_text())
    calibration = sum(2 * (int(a) << int(b)) for a, b in loops)
    assert calibration == battery.QEMU_CALIBRATION_INSTRUCTIONS == 131072
    assert m4_counts["reset_to_main_instructions"] == m4_counts["reset_to_main_with_calibration"] - calibration
    assert m4_counts["import_instructions"] > 100_000 and m4_counts["load_instructions"] > 10_000
    # Model() in another heap state (bench reads its inputs first): the same work within 10 %.
    assert abs(m4_counts["load_instructions"] - warm["load_instructions"]) < 0.10 * warm["load_instructions"]


def test_cli_json_and_plot_from_a_job_dir(tmp_path, capsys, m4_counts):
    """pyboard is measured on qemu-m4 (its own armv7emsp build): the CLI's counts equal the fixture's (QEMU's
    -icount is exact), its phases are those counts x 1.25 / 168 MHz, the boot is flagged as a lower bound, and
    --plot writes a real PNG."""
    from PIL import Image
    job = tmp_path / "job"
    job.mkdir()
    shutil.copy(MICRO_SPEECH, job / "model.tflite")
    (job / "report.json").write_text("{}")
    png = tmp_path / "life.png"
    cli.main(["battery", "--board", "pyboard", "--model", str(job), "--every", "5min", "--battery", "2xAA",
              "--battery", "lipo-1000", "--sensor-ms", "20", "--plot", str(png), "--json"])
    r = json.loads(capsys.readouterr().out)
    assert r["measured"] == dict(m4_counts, module_bytes=r["measured"]["module_bytes"])
    assert r["every_s"] == 300 and r["model"] == str(job / "model.tflite")
    phases = {p["name"]: p for p in r["phases"]}
    assert phases["inference"]["ms"] == pytest.approx(m4_counts["invoke_instructions"] * 1.25 / 168e6 * 1e3)
    assert phases["boot to main.py"]["source"].startswith("LOWER BOUND")
    assert phases["sensor on"]["ms"] == 20
    assert [b["battery"] for b in r["batteries"]] == ["2xAA", "lipo-1000"]
    with Image.open(png) as im:
        im.verify()
        assert im.format == "PNG" and im.size == (1200, 450)


# ---- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--board", "esp33"], "unknown board 'esp33': choose one of"),
    (["--board", "unix"], "boards/unix.json has no sourced current figures"),
    (["--board", "nano33ble", "--boot-ms", "50"], "--boot-ms: nano33ble does not reboot on a wake"),
    (["--battery", "aaa"], "unknown battery 'aaa': choose one of cr2032, 2xAA, lipo-1000"),
    (["--every", "soon"], "--every 'soon': expected a positive duration"),
    (["--every", "0s"], "--every '0s': expected a positive duration"),
    (["--every", "5 fortnights"], "--every '5 fortnights'"),
    (["--board", "pico", "--bare-module"], "--bare-module: boards/pico.json has no figures for a bare module"),
    (["--model", "nowhere.tflite"], "model not found: nowhere.tflite"),
    (["--plot", "life.jpg"], "--plot life.jpg: the plot is a PNG file"),
    (["--board", "pyboard", "--every", "10ms"], "--every 0.01s is shorter than one wake"),
])
def test_errors_are_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # argparse keeps the last of a repeated option: `args` override these defaults.
    argv = ["battery", "--board", "esp32", "--model", str(MICRO_SPEECH)]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv + args)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("tinyml: error: ") and message in err and err.count("\n") == 1


def test_job_dir_without_model(tmp_path):
    with pytest.raises(TinymlError, match="is a folder without model.tflite"):
        battery.model_file(tmp_path)


def test_esp32_is_measured_on_the_emulated_xtensa(capsys):
    """The ESP32 family's counts come from its own xtensawin module on qemu-xtensa (not a Cortex-M stand-in),
    scaled by the LX6's cycles per instruction at 160 MHz; the CPI is printed as an UNCONFIRMED assumption."""
    cli.main(["battery", "--board", "esp32", "--model", str(MICRO_SPEECH), "--battery", "2xAA", "--json"])
    r = json.loads(capsys.readouterr().out)
    m = r["measured"]
    assert (m["target"], m["arch"]) == ("qemu-xtensa", "xtensawin")
    assert m["invoke_instructions"] > 1_000_000 and m["import_instructions"] > 100_000
    # The ESP32's own build, MAC16 kernels (micro_speech: 6.2 instructions/MAC; the portable build's 12.5).
    assert m["chip"] == "esp32" and m["invoke_instructions"] < 3_000_000, m
    assert m["reset_to_main_instructions"] == m["reset_to_main_with_calibration"]   # nothing of mps2's taken off
    phases = {p["name"]: p for p in r["phases"]}
    assert phases["inference"]["ms"] == pytest.approx(m["invoke_instructions"] * 1.5 / 160e6 * 1e3)
    assert "qemu-xtensa (xtensawin engine)" in phases["inference"]["source"]
    assert "cycles per instruction (Xtensa LX6)" in r["unconfirmed"]
