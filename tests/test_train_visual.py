"""The visual jobs end to end.

presence: `tinyml train presence --quick` (synthetic AMG8833 frames: bodies at distances and poses, occlusion,
hot objects, 0.25 degC steps), then the device app (device/examples/thermal_presence.py) on unix-sim watching a
generated room where someone arrives and leaves: it must report the arrival and the departure, and every frame
it classified is replayed on the host (same features, engine, probability, and the same smoothed answer).

digits: `tinyml train digits --quick` (scikit-learn's bundled 8x8 digits, real data), then the device script
(device/examples/digits_file.py) classifying held-out images from a file, answer for answer equal to the
host's engine.

And both jobs' user-data paths on tiny generated folders."""

import json
import re
import struct

import numpy as np
import pytest

from conftest import REPO, tinyml_cli as cli




def train(tmp_path_factory, job):
    out = tmp_path_factory.mktemp(f"{job}-train")
    proc = cli("train", job, "--quick", "--no-latency", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, proc.stdout


@pytest.fixture(scope="module")
def presence(tmp_path_factory):
    return train(tmp_path_factory, "presence")


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return train(tmp_path_factory, "digits")


def check_report(out, classes, floor, synthetic):
    for name in ("model.tflite", "job.json", "report.json", "report.md", "training.png", "confusion.png"):
        assert (out / name).stat().st_size > 0, name
    r = json.loads((out / "report.json").read_text())
    assert r["metric"] == "accuracy" and r["synthetic"] is synthetic and r["classes"] == classes
    assert r["engine"] == r["int8"], (r["engine"], r["int8"])
    assert abs(r["float"] - r["int8"]) <= 0.01 + 1e-9, (r["float"], r["int8"])
    assert r["engine_identical_to_tflm"] == r["held_out"]
    assert r["engine"] >= floor, f"quick accuracy {r['engine']} below the floor {floor}"
    assert np.array(r["confusion_matrix"]).sum() == r["held_out"]
    return r


def test_train_presence_quick_report(presence):
    out, log = presence
    r = check_report(out, ["empty", "present"], 0.85, True)
    assert r["held_out"] >= 500 and r["input"]["shape"] == [1, 8, 8, 2]
    job = json.loads((out / "job.json").read_text())
    assert job["frames_per_look"] >= 2 and job["leave_p"] < job["arrive_p"]
    assert "The data are synthetic" in (out / "report.md").read_text()


def host_presence(model_path, frames):
    """P(present) per frame on the host: the job's features, the int8 quantization, the engine."""
    from tinyml.hostlib import HostEngine
    from tinyml.jobs.presence import features
    from tinyml.model_info import read_model
    from tinyml.train import quantize_inputs
    info = read_model(model_path)
    tin, tout = info.inputs[0], info.outputs[0]
    engine = HostEngine(model_path.read_bytes(), ops=info.op_names)
    out = []
    for f in features(frames):
        q = engine.invoke([quantize_inputs(f[None], tin.scale, tin.zero_point)], [(np.int8, tout.shape)])[0][0]
        out.append(np.float32((int(q[1]) - tout.zero_point) * np.float32(tout.scale)))
    engine.close()
    return out


def test_presence_device_app_reports_arrival_and_departure_as_the_host(presence, tmp_path):
    from tinyml.jobs.presence import JOB
    from tinyml.simboard import run_script
    out, _ = presence
    job = json.loads((out / "job.json").read_text())
    k = job["frames_per_look"]
    # someone walks in at 12 s and stays until 24 s; looks every ~5.4 s (5 s asleep, the camera's start, 3 frames)
    np.save(tmp_path / "frames.npy", JOB.recording([(12, False), (12, True), (11, False)], seed=4))
    (tmp_path / "log.on").write_bytes(b"")
    fs = tmp_path / "fs"
    run = run_script(REPO / "device" / "examples" / "thermal_presence.py",
                     data={"thermal": str(tmp_path / "frames.npy")}, boots=7, clock="virtual", fs_dir=fs,
                     files=[(out / "model.tflite", "model.tflite"), (out / "job.json", "job.json"),
                            (tmp_path / "log.on", "log.on")])
    text = run.stdout
    reports = re.findall(r"REPORT look (\d+): (someone is here|nobody)", text)
    assert reports == [("1", "nobody"), ("4", "someone is here"), ("6", "nobody")], text[-3000:]
    assert "7 looks, 1 arrivals, 3 reports" in text

    rec = 64 * 4 * k + 4 * k + 4
    data = (fs / "frames.log").read_bytes()
    assert len(data) == 7 * rec
    frames, device_p, answers = [], [], []
    for i in range(7):
        chunk = data[i * rec:(i + 1) * rec]
        for j in range(k):
            off = j * (64 * 4 + 4)
            frames.append(np.frombuffer(chunk[off:off + 256], "<f4").reshape(8, 8))
            device_p.append(np.float32(struct.unpack_from("<f", chunk, off + 256)[0]))
        answers.append(struct.unpack_from("<i", chunk, rec - 4)[0])
    host_p = host_presence(out / "model.tflite", np.array(frames))
    assert host_p == device_p
    present = 0
    for i, answer in enumerate(answers):      # the app's smoothing and hysteresis, on the host's probabilities
        p = sum(float(v) for v in host_p[i * k:(i + 1) * k]) / k
        present = (1 if p >= job["arrive_p"] else 0) if not present else (0 if p < job["leave_p"] else 1)
        assert answer == present, (i, answer, present)


def test_train_digits_quick_report(digits):
    out, log = digits
    r = check_report(out, [str(d) for d in range(10)], 0.9, False)
    assert r["held_out"] == 359 and r["input"]["shape"] == [1, 8, 8, 1]
    assert "scikit-learn" in r["data"] and "synthetic" not in (out / "report.md").read_text().split("##")[0]


def test_digits_on_the_device_match_the_host(digits, tmp_path):
    from tinyml.hostlib import HostEngine
    from tinyml.jobs.digits import JOB, held_out_split, load_digits_arrays
    from tinyml.model_info import read_model
    from tinyml.simboard import run_script
    from tinyml.train import quantize_inputs
    out, _ = digits
    x, y = load_digits_arrays()
    _, test = held_out_split(y)
    imgs, labels = x[test[:40]], y[test[:40]]
    (tmp_path / "digits.bin").write_bytes(imgs.astype(np.uint8).tobytes())
    (tmp_path / "labels.bin").write_bytes(labels.astype(np.uint8).tobytes())
    fs = tmp_path / "fs"
    run = run_script(REPO / "device" / "examples" / "digits_file.py", clock="virtual", fs_dir=fs,
                     files=[(out / "model.tflite", "model.tflite"), (tmp_path / "digits.bin", "digits.bin"),
                            (tmp_path / "labels.bin", "labels.bin")])
    m = re.search(r"accuracy (\d+)/40", run.stdout)
    assert m and int(m.group(1)) >= 34, run.stdout[-2000:]
    log = (fs / "digits.log").read_bytes()
    device = [struct.unpack_from("<if", log, 8 * i) for i in range(40)]
    info = read_model(out / "model.tflite")
    tin, tout = info.inputs[0], info.outputs[0]
    engine = HostEngine((out / "model.tflite").read_bytes(), ops=info.op_names)
    for (cls, p), f in zip(device, JOB.features(imgs)):
        q = engine.invoke([quantize_inputs(f[None], tin.scale, tin.zero_point)], [(np.int8, tout.shape)])[0][0]
        probs = (q.astype(np.float32) - tout.zero_point) * np.float32(tout.scale)
        assert (cls, np.float32(p)) == (int(probs.argmax()), probs.max())
    engine.close()


def test_user_recordings_presence(tmp_path):
    from tinyml import TinymlError
    from tinyml.jobs.presence import JOB
    for k in range(3):
        for label, present in (("empty", False), ("present", True)):
            (tmp_path / label).mkdir(exist_ok=True)
            frames = JOB.recording([(1, present)], seed=10 + k)
            if k == 2:
                np.savetxt(tmp_path / label / f"r{k}.csv", frames.reshape(-1, 64), fmt="%.2f", delimiter=",")
            else:
                np.save(tmp_path / label / f"r{k}.npy", frames)
    ds = JOB.load(tmp_path)
    assert len(ds) == 60 and not ds.synthetic and ds.x.shape[1:] == (8, 8)
    assert (ds.y == 1).sum() == 30 and len(np.unique(ds.groups)) == 6
    f = JOB.features(ds.x)
    assert f.shape == (60, 8, 8, 2) and np.allclose(f[..., 1], (ds.x - 24) / 8)
    np.save(tmp_path / "empty" / "bad.npy", np.zeros((3, 7, 7)))
    with pytest.raises(TinymlError, match="expected frames"):
        JOB.load(tmp_path)


def test_user_images_digits(tmp_path):
    import matplotlib.image as mpimg
    from tinyml import TinymlError
    from tinyml.jobs.digits import JOB, load_digits_arrays
    x, y = load_digits_arrays()
    for d in range(10):
        (tmp_path / str(d)).mkdir()
        k = int(np.flatnonzero(y == d)[0])
        # a 32x32 scan, dark ink on white paper, as a phone photo cropped to the digit would be
        scan = 1 - np.kron(x[k] / 16, np.ones((4, 4)))
        mpimg.imsave(tmp_path / str(d) / "a.png", scan, cmap="gray", vmin=0, vmax=1)
        np.save(tmp_path / str(d) / "b.npy", x[k])
    ds = JOB.load(tmp_path)
    assert len(ds) == 20 and sorted(set(ds.y)) == list(range(10))
    from_png, from_npy = ds.x[0::2], ds.x[1::2]
    assert np.abs(from_png - from_npy).max() <= 1        # PNG's 8-bit grey rounds the 0..16 levels by at most 1
    (tmp_path / "x").mkdir()
    with pytest.raises(TinymlError, match="folder 'x' is not a class"):
        JOB.load(tmp_path)
