"""The sensor drivers of device/tinyml_device/drivers against the register models of the simulated board
(device/sim): LSM6DS3 and LSM6DSOX FIFOs (order, tags, overrun), ADXL345 (stream FIFO, overrun, activity wake),
AMG8833 (pixels and thermistor in degC), wrong and absent chips, machine.I2S and machine.ADC rates in virtual
time, and I2S asked of a board without it. Every script runs on the virtual clock: nothing depends on speed."""

import json
import re

import numpy as np
import pytest

from conftest import REPO  # noqa: F401
from test_device_runtime import sim, lines


def _ramp(tmp_path, n=2000, rate=None):
    i = np.arange(n, dtype=np.float32)
    rows = np.stack([i * 0.001, -i * 0.001, np.ones(n, np.float32), i * 0.01, np.zeros(n, np.float32),
                     -i * 0.01], axis=1)
    np.save(tmp_path / "ramp.npy", rows)
    return tmp_path / "ramp.npy"


ST_SCRIPT = """
    import time
    from machine import I2C
    from tinyml_device.drivers.lsm6ds import LSM6DS3, LSM6DSOX, DeviceNotFound
    for cls, addr in ((LSM6DSOX, 0x6A), (LSM6DS3, 0x6B)):
        try:
            imu = cls(I2C(1), addr=addr, rate_hz=100)
        except DeviceNotFound as e:
            print("NOTFOUND", cls.NAME, e)
            continue
        raw = bytearray(12 * 64)
        time.sleep_ms(100)
        imu.fifo_start(gyro=True)
        time.sleep_ms(200)                        # ~21 samples at 104 Hz
        n = imu.fifo_read(raw)
        v = []
        for f in (0, n - 1):
            w = [raw[12*f+2*k] | raw[12*f+2*k+1] << 8 for k in range(6)]
            v.append([x - 65536 if x & 0x8000 else x for x in w])
        print("FIFO", imu.chip, imu.rate_hz, n, v[0], v[1], imu.fifo_overflows)
        imu.fifo_start()                          # accel only
        time.sleep_ms(12000)                      # DSOX: 512 words < 1248 samples: overrun. DS3: 4096 words
        n = imu.fifo_read(raw, 64)
        print("LONG", imu.chip, n, imu.fifo_overflows, imu.fifo_words() > 0)
"""


def test_lsm6ds_fifo_order_tags_and_overrun(tmp_path):
    run = sim(tmp_path, ST_SCRIPT, data=_ramp(tmp_path), data_rate=100)
    fifo = {l.split()[0]: l.split(" ", 3)[1:] for l in lines(run, "FIFO")}
    assert set(fifo) == {"LSM6DSOX", "LSM6DS3"}, run.stdout
    for chip, (rate, n, rest) in fifo.items():
        assert rate == "104"
        assert 20 <= int(n) <= 22
        first, last, ovf = json.loads("[" + rest.replace("] [", "], [").replace("] ", "], ") + "]")
        # frames hold accel x, y, z then gyro x, y, z: row i at 100 Hz is (0.001 i, -0.001 i, 1) g, (0.01 i,
        # 0, -0.01 i) dps; 16384 LSB/g at +-2 g, 114.29 LSB/dps at 250 dps. The FIFO starts at 0.1 s: row 10.
        assert first[2] == 16384 and first[0] == -first[1], (chip, first)
        if chip == "LSM6DSOX":                                # the first chip; the DS3 starts 12 s later
            assert abs(first[0] - 164) <= 20, first
        # gyro and accel of one frame are one sample: gyro x / accel x = (0.01 * 114.29) / (0.001 * 16384)
        assert first[3] == -first[5] and abs(first[3] - first[0] * 0.06976) <= 2 and first[4] == 0, (chip, first)
        assert last[0] > first[0] and abs(last[0] - first[0] - (int(n) - 1) * 16) <= 20
        assert ovf == 0
    longs = {l.split()[0]: l.split()[1:] for l in lines(run, "LONG")}
    assert longs["LSM6DSOX"] == ["64", "1", "True"]      # overran (counted), newest frames still returned
    assert longs["LSM6DS3"] == ["64", "0", "True"]       # 4096 words hold 12 s of accel


def test_lsm6ds_wrong_and_absent_chips(tmp_path):
    ramp = _ramp(tmp_path)
    run = sim(tmp_path, ST_SCRIPT, data=ramp, sim={"devices": [
        {"type": "lsm6dsox", "bus": 1, "addr": 0x6B},             # the DSOX where the DS3 was expected
        {"type": "lsm6ds3", "bus": 1, "addr": 0x6A, "who_am_i": 0x33}]})
    errs = dict(l.split(" ", 1) for l in lines(run, "NOTFOUND"))
    assert "WHO_AM_I reads 0x6c (an LSM6DSOX/LSM6DSO: use LSM6DSOX)" in errs["LSM6DS3"]
    assert "WHO_AM_I reads 0x33" in errs["LSM6DSOX"] and "I2C(1, scl=25, sda=26" in errs["LSM6DSOX"]
    run = sim(tmp_path, ST_SCRIPT, data=ramp, sim={"devices": []})
    errs = dict(l.split(" ", 1) for l in lines(run, "NOTFOUND"))
    assert "not answering at address 0x6a on I2C(1, scl=25, sda=26" in errs["LSM6DSOX"]
    assert "no device answers on this bus" in errs["LSM6DS3"]


ADXL_SCRIPT = """
    import time
    from machine import I2C, Pin
    from tinyml_device import power
    from tinyml_device.drivers.adxl345 import ADXL345, DeviceNotFound
    try:
        acc = ADXL345(I2C(1), rate_hz=100, range_g=4)
    except DeviceNotFound as e:
        print("NOTFOUND", e)
        raise SystemExit
    if power.wake_reason() == "pin":
        print("WOKE", time.ticks_ms(), acc.clear_interrupt() & 0x10, Pin(27).value())
        raise SystemExit
    raw = bytearray(6 * 32)
    acc.fifo_start()
    time.sleep_ms(100)
    n = acc.fifo_read(raw)
    v = [raw[k] | raw[k+1] << 8 for k in (0, 2, 4, 6 * (n - 1))]
    print("FIFO", acc.rate_hz, n, [x - 65536 if x & 0x8000 else x for x in v], acc.fifo_overflows)
    time.sleep_ms(1000)                       # 100 samples into 32 places: stream mode keeps the newest
    n = acc.fifo_read(raw)
    x0 = raw[0] | raw[1] << 8
    print("STREAM", n, acc.fifo_overflows, x0)
    acc.wake_on_motion(threshold_mg=250)
    print("INT", Pin(27).value())
    power.wake_on_pin(27, level=1)
    power.deepsleep(60000)
"""


def _still_then_bump(tmp_path):
    """Still (1 g on z) for 3 s, then a 0.5 g bump on x at 100 Hz."""
    rows = np.tile(np.array([[0.0, 0.0, 1.0]], np.float32), (500, 1))
    rows[:20, 0] = np.arange(20) * 0.01     # a ramp at first: the FIFO's order shows
    rows[300:310, 0] = 0.5
    np.save(tmp_path / "bump.npy", rows)
    return tmp_path / "bump.npy"


def test_adxl345_stream_fifo_and_wake_on_activity(tmp_path):
    run = sim(tmp_path, ADXL_SCRIPT, data=_still_then_bump(tmp_path), data_rate=100, boots=2)
    m = re.fullmatch(r"(\S+) (\d+) \[(.*)\] (\d+)", lines(run, "FIFO")[0])
    assert m and m.group(1) == "100.0" and m.group(2) == "10" and m.group(4) == "0", lines(run, "FIFO")
    x0, y0, z0, xlast = json.loads("[" + m.group(3) + "]")
    # full resolution: 256 LSB/g at every range. The FIFO takes samples from the one after fifo_start():
    # rows 1..10, x = 0.01 g (2 LSB) .. 0.10 g (25 LSB), z = 1 g
    assert (x0, y0, z0) == (2, 0, 256) and xlast == 25
    n, ovf, x0 = lines(run, "STREAM")[0].split()
    assert n == "32" and ovf == "1" and x0 == "0"           # overflowed, counted; the newest 32 remain
    assert lines(run, "INT") == ["0"]
    # woken by the bump at 3.0 s (the board sleeps from about 1.1 s)
    assert run.boots[1].wake_reason == 2 and 3.0 <= run.boots[1].start_us / 1e6 < 3.02
    woke = lines(run, "WOKE")[0].split()
    assert woke[1:] == ["16", "0"]                          # the activity bit, and reading it cleared INT1


def test_adxl345_wrong_and_absent(tmp_path):
    bump = _still_then_bump(tmp_path)
    run = sim(tmp_path, ADXL_SCRIPT, data=bump, sim={"devices": [{"type": "adxl345", "bus": 1, "addr": 0x53,
                                                                   "who_am_i": 0xE6}]})
    assert "DEVID reads 0xe6, expected 0xe5" in lines(run, "NOTFOUND")[0]
    run = sim(tmp_path, ADXL_SCRIPT, data=bump, sim={"devices": [{"type": "adxl345", "bus": 1, "addr": 0x1D}]})
    msg = lines(run, "NOTFOUND")[0]
    assert "not answering at address 0x53" in msg and "0x1d" in msg and "scl=25, sda=26" in msg


AMG_SCRIPT = """
    import time
    from array import array
    from machine import I2C
    from tinyml_device.drivers.amg8833 import AMG8833, DeviceNotFound
    try:
        cam = AMG8833(I2C(0), fps=10)
    except DeviceNotFound as e:
        print("NOTFOUND", e)
        raise SystemExit
    raw = bytearray(128)
    t = array("f", bytes(256))
    print("THERM", cam.thermistor())
    for wait in (120, 100, 100):
        time.sleep_ms(wait)
        cam.read_frame(raw)
        hot = cam.to_celsius(raw, t)
        print("FRAME", hot, t[0], t[9], t[63])
"""


def test_amg8833_frames_in_celsius_and_identity(tmp_path):
    frames = np.full((10, 8, 8), 21.0, np.float32)
    frames[1:, 1, 1] = 30.25
    frames[2:, 7, 7] = -5.5
    np.save(tmp_path / "t.npy", frames)
    run = sim(tmp_path, AMG_SCRIPT, data={"thermal": tmp_path / "t.npy"},
              sim={"devices": [{"type": "amg8833", "bus": 0, "addr": 0x69, "stream": "thermal",
                                "thermistor_c": -3.5}]})
    assert lines(run, "THERM") == ["-3.5"]
    # 10 fps from the reset: frames at 0.1, 0.2, 0.3 s are rows 1, 2, 3; pixel 9 = row 1, column 1
    assert lines(run, "FRAME") == ["30.25 21.0 30.25 21.0", "30.25 21.0 30.25 -5.5", "30.25 21.0 30.25 -5.5"]
    bad = sim(tmp_path, AMG_SCRIPT, sim={"devices": [{"type": "amg8833", "bus": 0, "addr": 0x69,
                                                     "thermistor_c": 120}]})
    assert "thermistor register says 120.0 degC" in lines(bad, "NOTFOUND")[0]
    absent = sim(tmp_path, AMG_SCRIPT, sim={"devices": [{"type": "amg8833", "bus": 0, "addr": 0x68}]})
    msg = lines(absent, "NOTFOUND")[0]
    assert "not answering at address 0x69 on I2C(0, scl=18, sda=19" in msg and "0x68" in msg


I2S_ADC_SCRIPT = """
    import time, sim_world
    from tinyml_device.drivers.inmp441 import INMP441, level
    from tinyml_device.drivers.analog import AnalogSensor
    from tinyml_device.ring import Ring
    from tinyml_device.sampler import Sampler
    mic = INMP441(14, 15, 32, rate=16000, ibuf=4000)
    buf = bytearray(3200)                               # 1600 samples: 100 ms
    t0 = time.ticks_us(); mic.readinto(buf); t1 = time.ticks_us()
    first = buf[0] | buf[1] << 8
    print("BLOCK", (t1 - t0 + 500) // 1000, first, level(buf)[0])
    done = []
    mic.start(buf, lambda b: done.append(time.ticks_us()))
    t2 = time.ticks_us()
    print("NONBLOCK", len(done))
    time.sleep_ms(150)
    print("CALLBACK", len(done), (done[0] - t2 + 500) // 1000 if done else -1)
    mic.stop()
    time.sleep_ms(500)                                  # at 0.75 s: 8800 unread samples, the ibuf holds 2000
    mic.readinto(buf)
    print("LOST", sim_world.stats.get("i2s_samples_lost", 0))
    adc = AnalogSensor(34)
    ring = Ring(200, 1, "H")
    s = Sampler(adc.read_into, ring, 1000)
    s.run(200)
    st = s.stats()
    print("ADC", st["samples"], round(st["rate_hz"]), st["overruns"], ring.data[0], ring.data[199])
    try:
        AnalogSensor(5)
    except Exception as e:
        print("ADCPIN", e)
"""


def test_i2s_and_adc_rates_in_virtual_time(tmp_path):
    pcm = (np.arange(32000) % 1000).astype(np.int16)        # sample i = i % 1000: positions are visible
    np.save(tmp_path / "mic.npy", pcm)
    trace = np.linspace(0, 3.3, 2000).astype(np.float32)    # 0 to 3.3 V over 2 s at 1 kHz
    np.save(tmp_path / "adc.npy", trace)
    run = sim(tmp_path, I2S_ADC_SCRIPT, data={"mic": tmp_path / "mic.npy", "adc": (tmp_path / "adc.npy", 1000)})
    ms, first, peak = (int(v) for v in lines(run, "BLOCK")[0].split())
    assert ms == 100 and first == 0 and peak == 999           # the read took the audio's own time
    assert lines(run, "NONBLOCK") == ["0"]                    # returned at once
    assert lines(run, "CALLBACK") == ["1 100"]                # the handler ran when the buffer was full
    # 0.1 s blocking + 0.1 s non-blocking read = 3200 samples taken; at 0.75 s 12000 have arrived; 2000 fit
    assert int(lines(run, "LOST")[0]) == pytest.approx(12000 - 3200 - 2000, abs=20)
    n, rate, overruns, a, b = (int(v) for v in lines(run, "ADC")[0].split())
    assert n == 200 and rate == 1000 and overruns == 0
    # the trace rises 3.3 V in 2 s: 32767 counts a second, 32.8 a sample
    assert b - a == pytest.approx(199 * 32.78, rel=0.02)
    assert "pin 5 is not an ADC pin; ADC pins: 32, 33, 34" in lines(run, "ADCPIN")[0]


def test_i2s_on_a_board_without_it(tmp_path):
    run = sim(tmp_path, """
        from tinyml_device.board import Board, Unsupported
        from tinyml_device.drivers.inmp441 import INMP441
        for what in ("nano33ble", "no_i2s_firmware", "pico_ws"):
            try:
                if what == "nano33ble":
                    INMP441(14, 15, 32, board=Board("nano33ble"))
                elif what == "pico_ws":
                    INMP441(14, 16, 32, board=Board("pico"))
                else:
                    INMP441(14, 15, 32)
                print("NOERROR", what)
            except (Unsupported, ValueError) as e:
                print("ERR", what, "|", type(e).__name__, e)
    """, sim={"i2s": None})
    errs = dict(l.split(" | ", 1) for l in lines(run, "ERR"))
    assert errs["nano33ble"].startswith("Unsupported") and "Nano 33 BLE Sense" in errs["nano33ble"]
    assert "no machine.I2S" in errs["nano33ble"]
    # the simulated board with I2S taken away: machine has no I2S at all, as on the nrf port
    assert errs["no_i2s_firmware"].startswith("Unsupported") and "machine module has no I2S" in errs["no_i2s_firmware"]
    assert "ws = sck + 1" in errs["pico_ws"]
    assert lines(run, "NOERROR") == []


def test_data_streams_are_checked(tmp_path):
    from tinyml import TinymlError
    np.save(tmp_path / "x.npy", np.zeros(10, np.float32))
    with pytest.raises(TinymlError, match="no simulated device reads a stream 'thermals'"):
        sim(tmp_path, "print(1)", data={"thermals": tmp_path / "x.npy"})
    with pytest.raises(TinymlError, match="8x8 = 64 pixels"):
        sim(tmp_path, "print(1)", data={"thermal": tmp_path / "x.npy"})


def test_frames_to_g_reads_both_byte_orders():
    """drivers.frames_to_g, every IMU driver's to_g(): the first 6 bytes of each frame as int16 x, y, z
    (little-endian; big-endian for the MPU6050's FIFO) over the counts per g, frames of any stride."""
    import array
    import importlib.util
    spec = importlib.util.spec_from_file_location("drivers", REPO / "device" / "tinyml_device" / "drivers" / "__init__.py")
    drivers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drivers)
    counts = np.array([[16384, -16384, -32768], [32767, 1, -1]], np.int16)
    for order, stride in (("<", 6), (">", 12), ("<", 12)):
        frames = np.zeros((2, stride), np.uint8)
        frames[:, :6] = np.frombuffer(counts.astype(order + "i2").tobytes(), np.uint8).reshape(2, 6)
        out = array.array("f", bytes(4 * 6))
        n = drivers.frames_to_g(frames.tobytes(), 2, stride, 16384, out, big_endian=order == ">")
        assert n == 6 and list(out) == (counts.astype(np.float32) / 16384).ravel().tolist(), (order, stride)
