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
    (["--board", "nano33ble"], "boards/nano33ble.json has no sourced current figures"),
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
