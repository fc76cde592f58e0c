"""The keyword-spotting job end to end: `tinyml train kws --quick` (espeak-ng speech in generated rooms, the
device's audio frontend, a sliding-window model, full int8, tinyml check, float/int8/engine on held-out
windows, streaming false accepts per hour and false rejects), then the device app
(device/examples/keyword_spotter.py) on unix-sim hearing a generated stream with "Hey IoT" at known times,
then the user's-recordings path (DIR/<class>/*.wav) on a tiny generated folder.

The device app logs every invoke's input window, outputs and decision (kws.log); the host computes the same
from the same PCM with its own frontend and engine (tinyml.jobs.kws.host_decisions): windows, outputs and
decisions must be equal, invoke for invoke."""

import json
import re
import shutil
import wave

import numpy as np
import pytest

from conftest import tinyml_cli

RATE = 16000


def write_wav(path, pcm, rate=RATE):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm, "<i2").tobytes())


def cli(*args, timeout=1200):
    return tinyml_cli(*args, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("kws-train")
    proc = cli("train", "kws", "--quick", "--no-latency", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, proc.stdout


def test_train_kws_quick_report(trained):
    from tinyml.jobs import kws
    out, log = trained
    for name in ("model.tflite", "job.json", "report.json", "report.md", "training.png", "confusion.png", "det.png"):
        assert (out / name).stat().st_size > 0, name
    r = json.loads((out / "report.json").read_text())
    job = json.loads((out / "job.json").read_text())
    assert r["metric"] == "accuracy" and r["synthetic"] and r["classes"] == ["hey_iot", "speech", "background"]
    assert r["engine"] == r["int8"], (r["engine"], r["int8"])
    assert r["engine_identical_to_tflm"] == r["held_out"] > 100
    assert r["engine"] >= 0.75, f"quick accuracy {r['engine']} below a modest floor"
    assert r["input"]["shape"] == [1, 100, 40] and r["input"]["dtype"] == "int8"
    # streaming: measured on held-out streams, the cutoff goes to the device as an integer threshold
    s = r["streaming"]
    assert s["negative_hours"] >= 0.05 and s["keywords"] >= 40 and s["stride_ms"] == 100
    assert 0 <= r["false_reject_rate"] <= 0.5 and r["false_accepts_per_hour"] >= 0
    assert r["false_accepts_per_hour"] == pytest.approx(s["false_accepts"] / s["negative_hours"], rel=0.02)
    assert job["cutoff"] == r["cutoff"] and 0 < r["cutoff"] < 1
    smooth, zp, scale = job["smooth"], job["output_zero_point"], job["output_scale"]
    assert r["cutoff"] == round((job["threshold_sum"] - smooth * zp) * scale / smooth, 4)
    assert len(job["input_table"]) == 256 and job["input_table"] == sorted(job["input_table"])
    assert job["refractory"] == kws.REFRACTORY and s["refractory_ms"] == kws.REFRACTORY * 100
    assert s["validation"]["negative_hours"] > 0 and 0 <= s["validation"]["false_reject_rate"] <= 1
    assert "![false rejects vs false accepts per hour](det.png)" in (out / "report.md").read_text()
    assert "SYNTHETIC" in log


def test_detections_wait_the_refractory_time():
    """A score above the cutoff is one detection per REFRACTORY invokes (2 s), however long it stays above, and
    a phrase right after a detection is not another (what the report counts and the device app does)."""
    from tinyml.jobs import kws
    r = kws.REFRACTORY
    sums = np.zeros(5 * r, int)
    sums[3:8] = 10                      # one phrase: five invokes above
    sums[3 + r - 1] = 10                # another, one invoke too soon
    sums[3 + r + 5] = 10                # and one after the refractory time
    sums[3 * r:] = 10                   # stuck above: every r invokes
    assert kws.detections(sums, 9) == [3, 3 + r + 5, 3 * r, 4 * r]
    assert kws.detections(sums, 10) == []


def test_augmentation_shifts_channels_and_masks_within_its_limits():
    """Training's SpecAugment-like change (kws._augment): each window's channels shifted by at most
    AUGMENT["shift"], at most AUGMENT["freq"] channels and AUGMENT["time"] frames set to the window's mean, the
    rest of the window untouched; and the windows do change."""
    import tensorflow as tf
    from tinyml.jobs import kws
    tf.keras.utils.set_random_seed(0)
    a = kws.AUGMENT
    x = np.random.default_rng(0).uniform(-1, 1, (kws.FRAMES, 40)).astype(np.float32)
    changed = 0
    for _ in range(12):
        out, label = kws._augment(tf.constant(x), 7)
        out = out.numpy()
        assert int(label) == 7 and out.shape == x.shape
        fits = []
        for s in range(-a["shift"], a["shift"] + 1):
            differ = out != x[:, np.clip(np.arange(40) + s, 0, 39)]
            # what differs is whole frames (the span) and whole channels (the band), all set to one value
            span = differ.all(axis=1)
            band = differ[~span].all(axis=0)
            if ((differ == (span[:, None] | band[None, :])).all() and span.sum() <= a["time"]
                    and band.sum() <= a["freq"] and len(np.unique(out[differ])) <= 1):
                fits.append(s)
        assert fits, "not a shift plus masks within AUGMENT's limits"
        changed += not (out == x).all()
    assert changed >= 8, f"only {changed} of 12 windows changed"


def test_device_app_detects_and_matches_the_host(trained, tmp_path):
    from tinyml.jobs import kws
    out, _ = trained
    job = json.loads((out / "job.json").read_text())
    packed = tmp_path / "kws.mpy"
    proc = cli("pack", str(out / "model.tflite"), "--arch", "x64", "--features", "audio", "-o", str(packed))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pcm, spans = kws.recording(seed=1, n_keywords=3)
    write_wav(tmp_path / "stream.wav", pcm)
    seconds = len(pcm) // RATE
    (tmp_path / "kws.json").write_text(json.dumps({"seconds": seconds}))
    (tmp_path / "log.on").write_bytes(b"")
    fs = tmp_path / "fs"
    proc = cli("run", "--board", "unix-sim", "device/examples/keyword_spotter.py", "--data",
               f"mic={tmp_path / 'stream.wav'}", "--file", str(packed), "--file", str(out / "job.json"),
               "--file", str(tmp_path / "kws.json"), "--file", str(tmp_path / "log.on"), "--no-engine",
               "--clock", "virtual", "--fs", str(fs))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout
    assert "'Hey IoT' from kws.mpy (packed), a 1000 ms window every 100 ms" in text, text

    # the board's decisions, invoke by invoke, equal the host's on the same PCM (frontend, table, engine, smoothing)
    board = kws.read_log((fs / "kws.log").read_bytes(), job)
    host = kws.host_decisions(out / "model.tflite", job, pcm[:seconds * RATE])
    assert len(board) == len(host) == (seconds * 100 - 2 - 100) // 10 + 1
    assert all((bw == hw).all() for (bw, _, _), (hw, _, _) in zip(board, host)), "input windows differ"
    assert all((bo == ho).all() for (_, bo, _), (_, ho, _) in zip(board, host)), "outputs differ"
    assert [d for _, _, d in board] == [d for _, _, d in host]

    # the report's streaming metrics score invokes with the same numbers (the same sums, every invoke)
    from tinyml.hostlib import HostEngine
    from tinyml.model_info import read_model
    info = read_model(out / "model.tflite")
    engine = HostEngine((out / "model.tflite").read_bytes(), ops=info.op_names)
    sums, _ = kws.JOB.stream_scores(engine, np.array(job["input_table"], np.int8), pcm[:seconds * RATE],
                                    job["output_zero_point"])
    engine.close()
    outs = [int(o[0]) - job["output_zero_point"] for _, o, _ in board]
    assert list(sums) == [sum(outs[j - 2:j + 1]) for j in range(2, len(outs))]

    # and it heard each keyword once, while (or just after) it was said; the quick model may also take one of
    # the confusable phrases said after each keyword ("hey I O U", "hey Siri"...) for it, but not more
    times = [float(t) for t in re.findall(r"DETECTED 'Hey IoT' at ([\d.]+) s", text)]
    assert len(times) == sum(d for _, _, d in board), text
    heard = [[t for t in times if a / RATE < t <= b / RATE + 1.0] for a, b in spans]
    assert all(len(h) == 1 for h in heard), (heard, text)
    assert len(times) <= len(spans) + 1, text
    assert f"listened {seconds}.00 s: {seconds * 100 - 2} frames, {len(board)} invokes, {len(times)} detections" in text
    stats = re.findall(r"second (\d+): .* alloc (-?\d+) B", text)
    assert len(stats) == seconds and all(a == "0" for _, a in stats), text


def test_user_recordings_layout(tmp_path):
    from tinyml import TinymlError
    from tinyml.features import HostAudioFrontend
    from tinyml.jobs import kws
    rng = np.random.default_rng(3)
    for label in ("hey_iot", "speech", "background"):
        for i in range(2):
            write_wav(tmp_path / "rec" / label / f"{i}.wav", rng.normal(0, 300, 2 * RATE).astype(np.int16))
    ds = kws.JOB.load(tmp_path / "rec")
    # hey_iot: one window per file (the loudest second); others: every half second (3 in 2 s)
    assert list(np.bincount(ds.y)) == [2, 6, 6] and len(set(ds.groups)) == 6 and not ds.synthetic
    assert ds.x.shape[1:] == (100, 40) and ds.x.dtype == np.uint16
    pcm = np.frombuffer((tmp_path / "rec" / "speech" / "0.wav").read_bytes()[44:], "<i2")
    frames = HostAudioFrontend().process(np.concatenate([np.zeros(8000, np.int16), pcm]))[50:]
    first = ds.x[np.flatnonzero(ds.y == 1)[0]]
    assert (first == frames[:100]).all(), "windows are not the device frontend's frames"

    shutil.copytree(tmp_path / "rec", tmp_path / "bad")
    write_wav(tmp_path / "bad" / "hey_iot" / "0.wav", np.zeros(RATE, np.int16), rate=8000)
    with pytest.raises(TinymlError, match=r"0.wav: 8000 Hz.*expected 16 kHz mono 16-bit"):
        kws.JOB.load(tmp_path / "bad")
    (tmp_path / "bad" / "hey_iot" / "0.wav").unlink()
    (tmp_path / "bad" / "yes").mkdir()
    with pytest.raises(TinymlError, match=r"folder 'yes' is not a class of this job \(hey_iot, speech, background\)"):
        kws.JOB.load(tmp_path / "bad")
