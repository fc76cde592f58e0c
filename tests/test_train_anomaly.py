"""The anomaly job end to end: `tinyml train anomaly --quick` (synthetic motor vibration, trained on normal
windows only, MotionFeatures band energies, an autoencoder whose output is the anomaly score, full int8,
tinyml check, AUC float/int8/engine on held-out normal windows and every fault), then the device app
(device/examples/vibration_anomaly.py) on unix-sim: it calibrates its threshold on the motor, survives a deep
sleep and a power loss (the simulated board's --power-loss-after), detects the fault that comes after, and
every window it scored is replayed on the host (its features and engine): same scores, same threshold, same
decisions. Then re-calibration in one call, and the user's-recordings path on a tiny generated folder."""

import json
import re
import struct

import numpy as np
import pytest

from conftest import REPO, tinyml_cli as cli

CALIBRATION_WAKES = 6




@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("anomaly-train")
    proc = cli("train", "anomaly", "--quick", "--no-latency", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, proc.stdout


def test_train_anomaly_quick_report(trained):
    out, log = trained
    for name in ("model.tflite", "job.json", "report.json", "report.md", "training.png", "roc.png", "scores.png"):
        assert (out / name).stat().st_size > 0, name
    r = json.loads((out / "report.json").read_text())
    job = json.loads((out / "job.json").read_text())
    assert r["metric"] == "auc" and r["synthetic"]
    assert r["engine"] == r["int8"], (r["engine"], r["int8"])
    assert abs(r["float"] - r["int8"]) <= 0.01 and r["int8_within_1_point"]
    assert r["engine_identical_to_tflm"] == r["held_out"] >= 700
    assert r["engine"] >= 0.95, f"quick AUC {r['engine']} below the target"
    # trained on normal windows only; every fault is held out and scored
    assert "per class: normal" in log and re.search(r"imbalance 0, misalignment 0, looseness 0, bearing_outer 0", log)
    assert set(r["per_fault"]) == {"imbalance", "misalignment", "looseness", "bearing_outer", "bearing_inner",
                                   "bearing_ball"}
    assert all(v["auc"] >= 0.85 and v["windows"] >= 40 for v in r["per_fault"].values()), r["per_fault"]
    assert r["input"]["shape"] == [1, 21] and r["input"]["dtype"] == "int8"
    assert 0 < job["threshold"] < 1 and job["bins"][0] == [3, 9] and len(job["bins"]) == 21
    md = (out / "report.md").read_text()
    assert "The data are synthetic" in md and "roc.png" in md and "scores.png" in md


def read_log(data, windows, n):
    """windows.log records: `windows` int16 windows of n, their scores + the wake's (float32), threshold, decision."""
    rec = windows * 2 * n + 4 * (windows + 1) + 8
    assert len(data) % rec == 0, len(data)
    out = []
    for i in range(len(data) // rec):
        chunk = data[i * rec:(i + 1) * rec]
        counts = np.frombuffer(chunk[:windows * 2 * n], "<i2").reshape(windows, n)
        scores = struct.unpack_from(f"<{windows + 1}f", chunk, windows * 2 * n)
        thr, decision = struct.unpack_from("<ii", chunk, windows * 2 * n + 4 * (windows + 1))
        out.append((counts, scores[:-1], scores[-1], thr, decision))
    return out


def host_scores(model_path, counts):
    """The host's scores for the device's windows: its MotionFeatures C, math.log, quantization and engine."""
    from tinyml.hostlib import HostEngine
    from tinyml.jobs.anomaly import features_from_counts
    from tinyml.model_info import read_model
    from tinyml.train import quantize_inputs
    info = read_model(model_path)
    tin, tout = info.inputs[0], info.outputs[0]
    engine = HostEngine(model_path.read_bytes(), ops=info.op_names)
    x = features_from_counts(counts)
    out = []
    for row in x:
        q = engine.invoke([quantize_inputs(row[None], tin.scale, tin.zero_point)], [(np.int8, tout.shape)])[0][0]
        out.append(np.float32((int(q[0]) - tout.zero_point) * np.float32(tout.scale)))
    engine.close()
    return out


def test_device_app_calibrates_survives_power_loss_and_matches_the_host(trained, tmp_path):
    from tinyml.jobs.anomaly import JOB, WINDOW, calibrated_threshold
    from tinyml.simboard import run_script
    out, _ = trained
    # one motor: normal for 95 s, then an outer-race bearing defect
    np.save(tmp_path / "vib.npy", JOB.recording([(95, "normal"), (40, "bearing_outer")], seed=5))
    job = json.loads((out / "job.json").read_text())
    job["calibration_wakes"] = CALIBRATION_WAKES
    (tmp_path / "job.json").write_text(json.dumps(job))
    (tmp_path / "log.on").write_bytes(b"")
    fs = tmp_path / "fs"
    app = REPO / "device" / "examples" / "vibration_anomaly.py"
    run = run_script(app, data={"adc": (str(tmp_path / "vib.npy"), 1000.0)}, boots=13, clock="virtual", fs_dir=fs,
                     files=[(out / "model.tflite", "model.tflite"), (tmp_path / "job.json", "job.json"),
                            (tmp_path / "log.on", "log.on")], power_loss=(7,))
    text = run.stdout
    boots = [b.stdout for b in run.boots]
    assert len(boots) == 13, text[-3000:]
    # wakes every ~11 s: 1-6 calibrate, the power goes while boot 7 sleeps, boot 8 is a power-on that restores
    # the calibration from flash; the fault starts at 95 s: boots 10-13 (t >= 99 s) report it, none before
    assert all(f"calibrating: {k} of {CALIBRATION_WAKES}" in boots[k - 1] for k in range(1, CALIBRATION_WAKES))
    assert "CALIBRATED on 6 wakes" in boots[5] and (fs / "anomaly_calib.bin").exists()
    assert "state ok" in boots[6] and "power lost while asleep" in boots[6]
    assert "reset cause power_on" in boots[7] and "calibration restored from anomaly_calib.bin" in boots[7]
    assert [k for k, b in enumerate(boots, 1) if "REPORT anomaly" in b] == [10, 11, 12, 13], text[-4000:]
    assert sum("normal: score" in b for b in boots) == 3

    records = read_log((fs / "windows.log").read_bytes(), 2, WINDOW)
    assert len(records) == 13
    counts = np.concatenate([r[0] for r in records])
    host = host_scores(out / "model.tflite", counts)
    device = [s for r in records for s in r[1]]
    assert [np.float32(s) for s in device] == host, (device, host)
    # the threshold: recomputed on the host from the calibration wakes' scores
    wake_scores = [r[2] for r in records]
    thr = calibrated_threshold(wake_scores[:CALIBRATION_WAKES], job["k_sigma"])
    assert all(r[3] == thr for r in records[CALIBRATION_WAKES - 1:]), (thr, [r[3] for r in records])
    for k, (_, s, wake, _, decision) in enumerate(records):
        host_wake = (float(host[2 * k]) + float(host[2 * k + 1])) / 2
        assert np.float32(host_wake) == np.float32(wake)
        expected = -1 if k < CALIBRATION_WAKES else int(int(host_wake * 1000000) > thr)
        assert decision == expected, (k, decision, expected)

    # re-calibration is one call; the next wake learns again
    (tmp_path / "recal.py").write_text("import vibration_anomaly\nvibration_anomaly.recalibrate()\n")
    again = run_script(tmp_path / "recal.py", fs_dir=fs, clock="virtual")
    assert "calibration cleared" in again.stdout and not (fs / "anomaly_calib.bin").exists()
    after = run_script(app, data={"adc": (str(tmp_path / "vib.npy"), 1000.0)}, boots=1, clock="virtual", fs_dir=fs)
    assert f"calibrating: 1 of {CALIBRATION_WAKES}" in after.stdout and "restored" not in after.stdout


def test_power_loss_clears_rtc_memory_but_not_files(tmp_path):
    """The simulated board's power cut: RTC memory gone, the filesystem kept, the next boot a power-on."""
    from tinyml.simboard import run_script
    script = tmp_path / "count.py"
    script.write_text(
        "import machine\n"
        "rtc = machine.RTC()\n"
        "n = int(rtc.memory() or b'0') + 1\n"
        "try:\n    f = int(open('n.txt').read()) + 1\nexcept OSError:\n    f = 1\n"
        "open('n.txt', 'w').write(str(f))\n"
        "rtc.memory(str(n).encode())\n"
        "print('COUNT rtc %d file %d cause %d' % (n, f, machine.reset_cause()))\n"
        "machine.deepsleep(1000)\n")
    run = run_script(script, boots=5, clock="virtual", power_loss=(3,), engine=False)
    got = re.findall(r"COUNT rtc (\d+) file (\d+) cause (\d+)", run.stdout)
    assert got == [("1", "1", "1"), ("2", "2", "4"), ("3", "3", "4"), ("1", "4", "1"), ("2", "5", "4")], run.stdout


def test_user_recordings_layout(tmp_path):
    from tinyml import TinymlError
    from tinyml.jobs.anomaly import JOB, CLASSES, WINDOW
    from tinyml.train import split
    for k in range(6):
        (tmp_path / "normal").mkdir(exist_ok=True)
        rec = JOB.recording([(3, "normal")], seed=100 + k)
        np.savetxt(tmp_path / "normal" / f"run{k}.csv", rec[:, None], fmt="%.5f", header="volts", comments="")
    ds = JOB.load(tmp_path)
    # 3 s = 3000 samples -> 10 windows of 512 every 256 per file; each normal window also comes with a fault
    assert len(ds) == 6 * 10 * 2 and not ds.synthetic and ds.x.shape[1:] == (WINDOW,)
    assert (ds.y == 0).sum() == 60 and set(np.unique(ds.y)) == set(range(len(CLASSES)))
    rest, held = split(ds, 0, 0.2)
    assert not set(rest.groups) & set(held.groups) and (held.y != 0).any() and (held.y == 0).any()
    # the faults injected into a recording change its spectrum where the fault is
    f = JOB.features(ds.x)
    assert np.abs(f[ds.y != 0].mean(0) - f[ds.y == 0].mean(0)).max() > 1.0
    (tmp_path / "wobble").mkdir()
    with pytest.raises(TinymlError, match="folder 'wobble' is not 'normal' or a fault"):
        JOB.load(tmp_path)
    (tmp_path / "wobble").rmdir()
    np.savetxt(tmp_path / "normal" / "short.csv", np.ones(100))
    with pytest.raises(TinymlError, match="shorter than one window"):
        JOB.load(tmp_path)
    with pytest.raises(TinymlError, match="no folder 'normal' of recordings"):
        JOB.load(tmp_path / "nothing")
