"""The device runtime (device/tinyml_device) on the simulated board unix-sim, on the real MicroPython unix port:
ring windows without allocation, the sampler's rate, jitter and overruns, state across deep sleep with its CRC,
power and wake reasons, the MPU6050 driver against the register model, capabilities a board lacks, and the
generated board modules. Every script runs on the virtual clock, so nothing here depends on the machine's speed."""

import json
import textwrap

import pytest

from conftest import REPO  # noqa: F401  (puts host/ on sys.path)
from tinyml.simboard import run_script, SimError


def sim(tmp_path, code, boots=1, data=None, sim=None, name="t.py", data_rate=None):
    """Run `code` on unix-sim for up to `boots` boots; returns the SimRun."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return run_script(path, boots=boots, data=data, sim=sim, clock="virtual", engine=False, timeout=60,
                      data_rate=data_rate)


def lines(run, prefix):
    return [l[len(prefix):].strip() for l in run.stdout.splitlines() if l.startswith(prefix)]


def test_ring_windows_overlap_and_allocate_nothing(tmp_path):
    run = sim(tmp_path, """
        import gc
        from array import array
        from tinyml_device.ring import Ring, Windows
        ring = Ring(8, frame_len=2, typecode="f")
        win = Windows(ring, size=4, hop=2)           # 50% overlap
        frame = ring.new_frame()
        got = []
        for i in range(11):
            frame[0] = i; frame[1] = -i
            ring.push(frame)
            w = win.next()
            if w is not None:
                got.append([int(w[k]) for k in range(0, 8, 2)])
        print("WINDOWS", got)
        # The loop a sampler runs: push a frame, take a window when one is ready. Nothing may allocate.
        def loop(n):
            for i in range(n):
                ring.push(frame)
                w = win.next()
        loop(10)
        gc.collect(); before = gc.mem_free()
        loop(1000)
        after = gc.mem_free()
        print("ALLOC", before - after)
        # A reader that falls behind loses windows, counted
        for i in range(40):
            ring.push(frame)
        print("READY", win.ready(), "DROPPED", win.dropped)
    """)
    windows = json.loads(lines(run, "WINDOWS")[0])
    assert windows == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]
    assert lines(run, "ALLOC") == ["0"]
    ready, dropped = lines(run, "READY")[0].split(" DROPPED ")
    assert ready == "True" and int(dropped) >= 16


def test_sampler_polled_rate_jitter_overruns(tmp_path):
    run = sim(tmp_path, """
        import time
        from tinyml_device.ring import Ring
        from tinyml_device.sampler import Sampler
        n = [0]
        def read(frame):
            n[0] += 1
            frame[0] = n[0]
            if n[0] == 20:
                time.sleep_us(300)       # a slow read: late, but within the period
            if n[0] == 40:
                time.sleep_us(35000)     # a 35 ms stall: the samples due 10 and 20 ms later are lost
        ring = Ring(64, 1, "i")
        s = Sampler(read, ring, 100)
        s.run(60)
        st = s.stats()
        print("STATS", st["samples"], st["overruns"], st["jitter_max_us"], round(st["rate_hz"]))
        print(s.report())
    """)
    samples, overruns, jitter_max, rate = (int(v) for v in lines(run, "STATS")[0].split())
    assert samples == 60
    assert overruns == 2
    assert 300 <= jitter_max < 10000
    assert 90 <= rate <= 100          # 60 samples over 61 periods' time
    assert "<- samples were missed" in run.stdout


def test_sampler_timer_soft_callbacks_and_dropped_queue(tmp_path):
    run = sim(tmp_path, """
        import time, sim_world
        from tinyml_device.ring import Ring
        from tinyml_device.sampler import Sampler
        ring = Ring(256, 1, "i")
        s = Sampler(lambda f: None, ring, 100)
        s.start(0)
        time.sleep_ms(500)                  # callbacks run at their own times during a sleep
        print("CLEAN", s.samples, s.overruns)
        sim_world.clock.us += 200000         # 200 ms of computing without a pause: 20 callbacks fall due
        time.ticks_us()                      # ... the queue takes 8, the port drops the rest
        x = 0
        for i in range(20):
            x += i                           # queued callbacks run between bytecodes
        s.stop()
        print("STALL", s.samples, s.overruns, sim_world.stats["timer_callbacks_dropped"])
        try:
            from machine import Timer
            Timer(1).init(freq=10, callback=print, hard=True)
        except ValueError as e:
            print("HARD", e)
    """)
    samples, overruns = (int(v) for v in lines(run, "CLEAN")[0].split())
    assert samples == 50 and overruns == 0
    samples2, overruns2, dropped = (int(v) for v in lines(run, "STALL")[0].split())
    assert dropped == 12
    assert overruns2 >= 19                  # found from timestamps, not from the callback count
    assert "always soft" in lines(run, "HARD")[0]


def test_state_survives_deepsleep_and_corruption_is_reset(tmp_path):
    code = """
        import machine
        from tinyml_device import power
        from tinyml_device.state import State
        st = State(words=2, version=1)
        print("BOOT", power.reset_cause(), power.wake_reason(), st.status, st.values[0], st.values[1])
        st.values[0] += 1
        st.values[1] = 1234
        st.save()
        n = st.values[0]
        if n == 2:                          # flip one payload byte in RTC memory: the CRC must catch it
            rtc = machine.RTC(); b = bytearray(rtc.memory()); b[-1] ^= 0x40; rtc.memory(b)
        if n == 3:
            print("SAVED AGAIN", st.save())  # unchanged: not written
        power.deepsleep(1000)
    """
    run = sim(tmp_path, code, boots=4)
    boots = lines(run, "BOOT")
    assert boots[0] == "power_on power_on absent 0 0"
    assert boots[1] == "deepsleep timer ok 1 1234"
    assert boots[2] == "deepsleep timer corrupt: CRC mismatch 0 0"
    assert boots[3] == "deepsleep timer ok 1 1234"
    assert lines(run, "SAVED AGAIN") == []   # boot 3 had n == 1 after the reset
    assert [b.ended for b in run.boots] == ["deepsleep"] * 4
    assert run.boots[1].start_us - run.boots[0].start_us >= 1000000    # slept 1 s of virtual time


def test_state_versions_and_file_store_written_only_when_changed(tmp_path):
    run = sim(tmp_path, """
        import os
        from tinyml_device.state import State, File
        f = File("st.bin")
        a = State(words=3, version=1, store=f)
        print("FIRST", a.status)
        a.values[2] = 7
        print("WROTE", a.save(), a.save())
        b = State(words=3, version=1, store=f)
        print("AGAIN", b.status, b.values[2])
        c = State(words=3, version=2, store=f)
        print("NEWVERSION", c.status, c.values[2])
        open("st.bin", "wb").write(b"TMs1\\x01")
        print("SHORT", State(words=3, store=f).status)
        open("st.bin", "wb").write(b"garbage-garbage-garbage")
        print("GARBAGE", State(words=3, store=f).status)
    """)
    assert lines(run, "FIRST") == ["absent"]
    assert lines(run, "WROTE") == ["True False"]
    assert lines(run, "AGAIN") == ["ok 7"]
    assert lines(run, "NEWVERSION") == ["old version 1 (now 2) 0"]
    assert lines(run, "SHORT")[0].startswith("corrupt:")
    assert lines(run, "GARBAGE") == ["corrupt: bad magic"]


def test_power_wake_on_pin_and_missing_capabilities(tmp_path):
    run = sim(tmp_path, """
        from tinyml_device import power, board
        from tinyml_device.board import Unsupported, Board
        b = board.current()
        print("BOARD", b.id, b.power_model)
        for what in ("pin5", "nrf_i2s", "rp2_pin", "sim_i2s", "sleep_forever"):
            try:
                if what == "pin5":
                    power.wake_on_pin(5)             # not an RTC pin on the ESP32
                elif what == "nrf_i2s":
                    Board("nano33ble").require("i2s")
                elif what == "rp2_pin":
                    Board("pico").check_wake_source("pin")
                elif what == "sim_i2s":
                    b.require("pdm_mic")             # unix-sim simulates I2S now; no port reads PDM
                else:
                    power.deepsleep()
                print("NOERROR", what)
            except Unsupported as e:
                print("ERR", what, "|", e)
    """)
    assert lines(run, "BOARD") == ["unix-sim esp32"]
    errs = dict(l.split(" | ", 1) for l in lines(run, "ERR"))
    assert "pin 5 cannot wake" in errs["pin5"] and "4, 12" in errs["pin5"]
    assert "Nano 33 BLE Sense rev1" in errs["nrf_i2s"] and "no machine.I2S" in errs["nrf_i2s"]
    assert "Pico" in errs["rp2_pin"] and "timer" in errs["rp2_pin"]
    assert "unix-sim" in errs["sim_i2s"] or "Simulated" in errs["sim_i2s"]
    assert "never wake" in errs["sleep_forever"]
    assert lines(run, "NOERROR") == []


def _ramp(tmp_path, n=400):
    import numpy as np
    i = np.arange(n, dtype=np.float32)
    rows = np.stack([i * 0.001, -i * 0.001, np.ones(n, np.float32)], axis=1)
    np.save(tmp_path / "ramp.npy", rows)
    return tmp_path / "ramp.npy"


MPU_SCRIPT = """
    import time
    from machine import I2C
    from tinyml_device.drivers.mpu6050 import MPU6050, DeviceNotFound
    try:
        imu = MPU6050(I2C(0), rate_hz=100)
    except DeviceNotFound as e:
        print("NOTFOUND", e)
        raise SystemExit
    print("CHIP", imu.chip, imu.rate_hz)
    raw = bytearray(6 * 32)
    time.sleep_ms(200)                       # the data ramp starts moving; the FIFO is not on yet
    imu.fifo_start()
    time.sleep_ms(100)                       # 10 samples at 100 Hz
    n = imu.fifo_read(raw)
    vals = []
    for f in range(n):
        v = [(raw[6*f+2*a] << 8 | raw[6*f+2*a+1]) for a in range(3)]
        vals.append([x - 65536 if x & 0x8000 else x for x in v])
    print("FRAMES", n, vals[0], vals[-1])
    time.sleep_ms(2000)                      # 200 frames = 1200 bytes > the 1024-byte FIFO
    print("OVERFLOW", imu.fifo_read(raw), imu.fifo_overflows)
"""


def test_mpu6050_fifo_against_the_register_model(tmp_path):
    run = sim(tmp_path, MPU_SCRIPT, data=_ramp(tmp_path), data_rate=100)
    assert lines(run, "CHIP") == ["MPU6050 100.0"]
    frames = lines(run, "FRAMES")[0]
    n = int(frames.split()[0])
    assert n in (10, 11)
    first, last = json.loads("[" + frames.split(" ", 1)[1].replace("] [", "], [") + "]")
    # row i at 100 Hz is (0.001 i, -0.001 i, 1) g; 16384 LSB/g at +-2 g. The FIFO starts at 0.2 s: row 20.
    assert first[2] == 16384 and first[0] == -first[1]
    assert abs(first[0] - int(20 * 0.001 * 16384)) <= 17
    assert last[0] - first[0] == pytest.approx((n - 1) * 0.001 * 16384, abs=17)
    assert lines(run, "OVERFLOW") == ["0 1"]


def test_mpu6050_wrong_chip_and_absent_chip(tmp_path):
    ramp = _ramp(tmp_path)
    wrong = sim(tmp_path, MPU_SCRIPT, data=ramp,
                sim={"devices": [{"type": "mpu6050", "bus": 0, "addr": 104, "int_pin": 4, "who_am_i": 0x12}]})
    msg = lines(wrong, "NOTFOUND")[0]
    assert "WHO_AM_I reads 0x12" in msg and "0x68" in msg and "I2C(0, scl=18, sda=19" in msg
    absent = sim(tmp_path, MPU_SCRIPT, data=ramp, sim={"devices": []})
    msg = lines(absent, "NOTFOUND")[0]
    assert "not answering at address 0x68" in msg and "I2C(0, scl=18, sda=19" in msg
    assert "no device answers on this bus" in msg
    # Wired to the other address: the error lists what does answer
    other = sim(tmp_path, MPU_SCRIPT, data=ramp,
                sim={"devices": [{"type": "mpu6050", "bus": 0, "addr": 105, "int_pin": 4}]})
    assert "0x69" in lines(other, "NOTFOUND")[0]


def test_script_error_names_the_boot(tmp_path):
    with pytest.raises(SimError, match="boot 2: .*ZeroDivisionError"):
        sim(tmp_path, """
            from tinyml_device import power
            if power.wake_reason() == "timer":
                1 / 0
            power.deepsleep(10)
        """, boots=3)


def test_generated_board_modules_are_current():
    from tinyml.device_package import stale_boards
    from tinyml.boards import load_boards
    assert stale_boards() == [], "run `tinyml device-package` after editing boards/*.json"
    for b in load_boards().values():
        if "port" not in b:
            continue
        for key in ("mpy", "ram_bytes", "heap_bytes", "i2c", "wake_sources", "reset_causes", "current", "boot_ms",
                    "lacks", "sensors"):
            assert key in b, (b["id"], key)
        assert "pdm_mic" in b["lacks"], b["id"]
    boards = load_boards()
    assert "i2s" in boards["nano33ble"]["lacks"] and "camera" in boards["esp32s3"]["lacks"]
    assert boards["pico2"]["arch"] == "armv7m" and boards["pico2"]["reported_arch"] == "armv7emsp"
