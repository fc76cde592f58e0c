"""`tinyml collect` against the simulated board on a real pseudo-terminal, with the real mpremote: the board's
real drivers read register models of the chips (device/sim) that play back known streams, so every recorded
frame can be traced to the row of the stream the chip sampled. The link is dropped mid-stream by killing the
mpremote process, then silenced by freezing the board; the recording must hold every frame the board produced
exactly once, in order."""

import os
import signal
import subprocess
import sys
import threading
import time
import wave
import zlib
from base64 import b64encode
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from tinyml import TinymlError
from tinyml.collect import collect, decode, parse_line
from tinyml.jobs.base import read_table
from tinyml.sim_serial import serve_pty


def _imu_stream(path, rows=3000):
    """Rows whose every value is exact at the MPU6050's +-2 g (1/16384 g) and no two rows alike."""
    k = np.arange(rows)
    lsb = np.stack([k - 1500, (7 * k) % 20000 - 10000, 16384 - k], axis=1)
    np.save(path, (lsb / 16384.0).astype(np.float32))
    return lsb / 16384.0


def _run_of(stream, rec):
    """Where `rec` sits in `stream` as consecutive rows (each sample once, in order), or a failure message."""
    starts = np.flatnonzero((stream == rec[0]).all(axis=tuple(range(1, stream.ndim))))
    assert len(starts) == 1, "the first recorded frame is not one row of the stream"
    k0 = starts[0]
    assert np.array_equal(stream[k0:k0 + len(rec)], rec), "the frames are not consecutive rows of the stream"
    return k0


def test_crc_and_order_are_checked():
    payload = bytes(range(12))
    head = "8 2"
    good = f"#TM {head} {zlib.crc32(payload, zlib.crc32(head.encode())):08x} {b64encode(payload).decode()}"
    assert parse_line(good) == ("data", 8, 2, payload)
    flipped = good[:-3] + ("B" if good[-3] != "B" else "C") + good[-2:]
    assert parse_line(flipped)[0] == "bad"                  # a payload bit changed on the wire
    assert parse_line(good.replace("#TM 8 2", "#TM 9 2"))[0] == "bad"    # a sequence number changed
    assert parse_line("#TM END 150 0") == ("end", "150", "0")
    assert parse_line(">>> print(1)") is None


def _board_pid(fs):
    """The simulated board's process: the MicroPython whose current directory is its filesystem."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == fs.resolve():
                return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no process runs in {fs}")


def test_gesture_recording_survives_a_dropped_link(tmp_path):
    stream = _imu_stream(tmp_path / "imu.npy")
    fs, out = tmp_path / "board", tmp_path / "data"
    seconds, rate = 6, 50
    dropped, silent = {}, {}
    messages = []

    def break_the_link(frames, mpremote):
        if frames >= 30 and not silent:
            # First the line goes silent without an error (a UART cable pulled): no byte for 1.5 s. The board's
            # process is frozen meanwhile; the chip's FIFO (3.4 s) keeps what it samples.
            pid = _board_pid(fs)
            os.kill(pid, signal.SIGSTOP)
            silent["frozen_at"] = frames

            def thaw():
                os.kill(pid, signal.SIGCONT)
                silent["thawed"] = True
            threading.Timer(1.5, thaw).start()
        elif silent.get("thawed") and frames >= silent["frozen_at"] + 30 and not dropped:
            produced = (fs / "produced.bin").stat().st_size // 6
            mpremote.kill()                     # then the link dies mid-stream (mpremote killed)
            mpremote.wait()
            time.sleep(1.0)                     # and stays down for a second
            dropped.update(received=frames, produced_at_drop=produced,
                           produced_after=(fs / "produced.bin").stat().st_size // 6)

    with serve_pty(fs, data=tmp_path / "imu.npy", log=tmp_path / "board.log") as port:
        path = collect(port, "gesture", "wing", seconds, out, board_opts=", log='produced.bin'", stall_s=1.0,
                       echo=messages.append, on_data=break_the_link)
    assert path.parent == out / "wing" and path.suffix == ".csv"
    rec = read_table(path, 3)                   # as `tinyml train gesture --data DIR` reads it
    produced = decode("gesture", (fs / "produced.bin").read_bytes())
    assert len(rec) == seconds * rate
    assert np.array_equal(rec, produced), "the recording is not the board's frames, once each, in order"
    _run_of(stream, rec)
    assert dropped["produced_after"] > dropped["produced_at_drop"], "the board stopped sampling without the host"
    # The old stream() was still printing when mpremote came back: its Ctrl-C ended it (not the sampler).
    assert "Ctrl-C interrupted the running code" in (tmp_path / "board.log").read_text()
    # How often the host reconnects depends on timing (a write the frozen board had begun can arrive cut short:
    # its CRC fails and it is asked again); what was recorded must not.
    assert sum("link lost" in m for m in messages) >= 2, messages
    assert sum("nothing from the board for 1 s" in m for m in messages) >= 1, messages


def test_a_gap_longer_than_the_ring_is_an_error(tmp_path):
    """The board's ring holds 20 frames (0.4 s); the link stays down for 1.2 s: the frames the host never got
    are gone, and collect must say so instead of writing a recording with a hole."""
    _imu_stream(tmp_path / "imu.npy")

    def drop(frames, mpremote):
        if frames >= 20 and mpremote.poll() is None:
            mpremote.kill()
            mpremote.wait()
            time.sleep(1.2)

    with serve_pty(tmp_path / "board", data=tmp_path / "imu.npy") as port:
        with pytest.raises(TinymlError, match="no longer holds frame .* the link was down too long"):
            collect(port, "gesture", "wing", 3, tmp_path / "data", board_opts=", ring_frames=20",
                    echo=lambda m: None, on_data=drop)
    assert not (tmp_path / "data" / "wing").exists()


def test_presence_recording_through_a_ring_that_wraps(tmp_path):
    frames = (20.0 + 0.25 * (np.arange(600 * 64).reshape(600, 8, 8) % 97)).astype(np.float32)
    frames[:, 0, 0] = 0.25 * np.arange(600)     # each frame unlike the others (0.25 degC is the chip's step)
    np.save(tmp_path / "thermal.npy", frames)
    fs = tmp_path / "board"
    with serve_pty(fs, data={"thermal": tmp_path / "thermal.npy"}) as port:
        # a ring of 12 frames for 20: it wraps while the host keeps up
        npy = collect(port, "presence", "present", 2, tmp_path / "data", echo=lambda m: None,
                      board_opts=", log='thermal.bin', ring_frames=12")
    got = np.load(npy)
    assert got.shape == (20, 8, 8)
    assert np.array_equal(got, decode("presence", (fs / "thermal.bin").read_bytes()))
    # The AMG8833 has no FIFO: a tick delayed by a loaded host may read a frame twice or skip one (reported as
    # a warning), so here each frame must be one of the stream's, in order.
    rows = [int(np.flatnonzero((frames == f).all(axis=(1, 2)))[0]) for f in got]
    assert rows == sorted(rows) and rows[-1] - rows[0] <= 24


def test_kws_recording_and_audio_lost_while_the_board_stalls(tmp_path):
    """A clean recording is one contiguous run of the microphone's samples. Then a port's silent failure: it
    drops I2S audio without a word when the program is away longer than the I2S buffer (0.5 s); the sampler
    notices the late completion, and collect refuses the recording instead of writing it with a gap."""
    pcm = ((np.arange(16000 * 30) * 13) % 60000 - 30000).astype(np.int16)
    np.save(tmp_path / "mic.npy", pcm)
    fs = tmp_path / "board"
    with serve_pty(fs, data={"mic": tmp_path / "mic.npy"}) as port:
        wav = collect(port, "kws", "speech", 0.5, tmp_path / "data", name="clean", echo=lambda m: None)

        def stall_the_board():
            produced = fs / "produced.bin"      # the second recording has begun when its log has audio
            while not (produced.exists() and produced.stat().st_size > 0):
                time.sleep(0.05)
            pid = _board_pid(fs)
            os.kill(pid, signal.SIGSTOP)
            time.sleep(0.8)
            os.kill(pid, signal.SIGCONT)
        staller = threading.Thread(target=stall_the_board)
        staller.start()
        with pytest.raises(TinymlError, match="the board missed samples .* I2S buffer overflowed"):
            collect(port, "kws", "speech", 1.2, tmp_path / "data", name="stalled", install=False,
                    echo=lambda m: None, board_opts=", log='produced.bin'")
        staller.join()
    with wave.open(str(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert len(audio) == 8000
    k0 = int(np.flatnonzero(pcm == audio[0])[0])
    assert np.array_equal(pcm[k0:k0 + len(audio)], audio), "the audio is not one contiguous run of the mic's"
    assert not (tmp_path / "data" / "speech" / "stalled.wav").exists()


def test_cli_collect_and_its_errors(tmp_path):
    _imu_stream(tmp_path / "imu.npy")
    cli = [sys.executable, "-m", "tinyml.cli", "collect"]
    with serve_pty(tmp_path / "board", data=tmp_path / "imu.npy") as port:
        proc = subprocess.run(cli + ["--port", port, "--job", "gesture", "--label", "idle", "--seconds", "1",
                                     "--out", str(tmp_path / "data"), "--name", "take", "--takes", "2",
                                     "--pause", "0.2"],
                              capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, second = (read_table(tmp_path / "data" / "idle" / f"take-{k}.csv", 3) for k in (1, 2))
    assert first.shape == second.shape == (50, 3)
    assert not set(map(tuple, first)) & set(map(tuple, second)), "the second take repeats frames of the first"
    bad = subprocess.run(cli + ["--port", "/dev/null", "--job", "gesture", "--label", "jump", "--seconds", "1",
                                "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("tinyml: error: --label jump: not a class of gesture (one of idle,")
    assert len(bad.stderr.strip().splitlines()) == 1
