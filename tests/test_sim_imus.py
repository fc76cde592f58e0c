"""The Nano 33 BLE Sense IMUs' adapters (LSM9DS1: device/tinyml_device/drivers/lsm9ds1.py, BMI270: bmi270.py)
against their register models (device/sim/sim_lsm9ds1.py, sim_bmi270.py): FIFO order and overrun, the
motion interrupt waking the simulated board, wrong and absent chips. The BMI270's config file is loaded by a
real MicroPython BMI270 driver from PyPI (micropython-bmi270, in requirements.txt), run on unix-sim. Then the
LSM6DS3/LSM6DSOX wake-up interrupt, and the FIFO loop of every IMU driver allocating nothing (gc.mem_alloc()
with gc disabled, less what the simulated chips allocate). Every script runs on the virtual clock."""

import importlib.util
import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinyml.simboard import run_script

BUMPS_S = (12.0, 15.0)


@pytest.fixture(scope="module")
def motion(tmp_path_factory):
    """20 s at 100 Hz: a ramp for 0.4 s (accel x 0.01 g and gyro x 1 dps a sample), then still (1 g on z),
    with a 0.5 g bump on x for 0.1 s at each of BUMPS_S."""
    rows = np.tile(np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]], np.float32), (2000, 1))
    rows[:40, 0] = np.arange(40) * 0.01
    rows[:40, 3] = np.arange(40) * 1.0
    for t in BUMPS_S:
        rows[int(t * 100):int(t * 100) + 10, 0] = 0.5
    path = tmp_path_factory.mktemp("imu") / "motion.npy"
    np.save(path, rows)
    return path


def bmi270_driver():
    spec = importlib.util.find_spec("micropython_bmi270")
    if spec is None:
        raise AssertionError("the micropython-bmi270 package (a BMI270 driver from PyPI) is missing: run `make setup`")
    return Path(list(spec.submodule_search_locations)[0])


def run(tmp_path, code, motion, devices, boots=1):
    fs = tmp_path / "fs"
    fs.mkdir(exist_ok=True)
    shutil.copytree(bmi270_driver(), fs / "micropython_bmi270", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "t.py"
    script.write_text(textwrap.dedent(code))
    return run_script(script, boots=boots, data=motion, data_rate=100, sim={"devices": devices},
                      clock="virtual", engine=False, timeout=60, fs_dir=fs)


def lines(r, prefix):
    return [l[len(prefix):].strip() for l in r.stdout.splitlines() if l.startswith(prefix)]


def signed(raw_words):
    return [w - 65536 if w & 0x8000 else w for w in raw_words]


LSM9DS1 = [{"type": "lsm9ds1", "bus": 1, "addr": 0x6B, "int_pin": 27},
           {"type": "lsm9ds1_mag", "bus": 1, "addr": 0x1E}]

LSM9DS1_SCRIPT = """
    import time
    from machine import I2C, Pin
    from tinyml_device import power
    from tinyml_device.drivers.lsm9ds1 import LSM9DS1Fifo, MOTION
    i2c = I2C(1)
    imu = LSM9DS1Fifo(i2c, rate_hz=100, accel_range_g=4)
    if power.wake_reason() == "pin":
        print("WOKE", imu.clear_interrupt() & MOTION, Pin(27).value())
        raise SystemExit
    # what micropython-lib's frozen driver reads: bit 7 set on the accel/gyro, the magnetometer's identity
    print("FROZEN", i2c.readfrom_mem(0x6B, 0x0F | 0x80, 1), i2c.readfrom_mem(0x1E, 0x0F, 1))
    raw = bytearray(12 * 40)
    time.sleep_ms(50)
    imu.fifo_start(gyro=True)
    time.sleep_ms(200)
    n = imu.fifo_read(raw)
    print("FIFO", imu.rate_hz, n, [raw[k] | raw[k + 1] << 8 for k in range(0, 12, 2)],
          [raw[12 * (n - 1) + k] | raw[12 * (n - 1) + k + 1] << 8 for k in range(0, 12, 2)], imu.fifo_overflows)
    time.sleep_ms(1000)                       # 119 slots into 32: continuous mode keeps the newest
    n = imu.fifo_read(raw)
    print("LONG", n, imu.fifo_overflows, imu.fifo_count())
    imu.fifo_stop()
    time.sleep_ms(10000)                      # past the first bump at 12 s? no: armed from here
    imu.wake_on_motion(threshold_mg=200)
    print("ARMED", imu.threshold_mg, Pin(27).value())
    power.wake_on_pin(27, level=1)
    power.deepsleep(60000)
"""


def test_lsm9ds1_fifo_overrun_and_motion_wake(tmp_path, motion):
    r = run(tmp_path, LSM9DS1_SCRIPT, motion, LSM9DS1, boots=2)
    assert lines(r, "FROZEN") == ["b'h' b'='"], r.stdout
    rate, n, first, last, ovf = lines(r, "FIFO")[0].split(" ", 2)[:2] + json.loads(
        "[" + lines(r, "FIFO")[0].split(" ", 2)[2].replace("] [", "], [").replace("] ", "], ") + "]")
    assert rate == "119" and 22 <= int(n) <= 25 and ovf == 0
    first, last = signed(first), signed(last)
    # frames: accel x, y, z (8192 LSB/g at 4 g), then gyro (133.7 LSB/dps at 245 dps); the FIFO starts at
    # 50 ms: row 5 (0.05 g, 5 dps); one frame is one sample of both
    assert first[1:3] == [0, 8192] and abs(first[0] - 410) <= 82 and first[4:] == [0, 0]
    assert abs(first[3] - first[0] / 8192 * 100 * 133.7) <= 3
    assert last[0] > first[0] and abs(last[0] - first[0] - (int(n) - 1) * 82 * 100 / 119) <= 90
    n, ovf, left = lines(r, "LONG")[0].split()
    assert (n, ovf) == ("32", "1")                       # overran (counted), the 32 newest returned
    thr, level = lines(r, "ARMED")[0].split()
    assert float(thr) == 203.125 and level == "0"        # 13 steps of 4 g / 256
    # woken by the bump at 12 s (the board slept from about 11.3 s)
    assert r.boots[1].wake_reason == 2 and 12.0 <= r.boots[1].start_us / 1e6 < 12.02
    assert lines(r, "WOKE") == ["64 0"]                  # IA_XL, and reading it released INT1


BMI270 = [{"type": "bmi270", "bus": 1, "addr": 0x68, "int_pin": 27}]

BMI270_SCRIPT = """
    import time
    from machine import I2C, Pin
    from tinyml_device import power
    from tinyml_device.drivers.bmi270 import BMI270Fifo, NotInitialised, MOTION
    i2c = I2C(1)
    if power.wake_reason() == "pin":
        imu = BMI270Fifo(i2c, rate_hz=100)                 # the chip kept its config file while the MCU slept
        print("WOKE", imu.clear_interrupt() & MOTION, Pin(27).value())
        raise SystemExit
    try:
        BMI270Fifo(i2c)
    except NotInitialised as e:
        print("NOTINIT", e)
    from micropython_bmi270.bmi270 import BMI270           # a driver from PyPI loads Bosch's config file
    BMI270(i2c)
    print("LOADED", time.ticks_ms() // 1000)
    imu = BMI270Fifo(i2c, rate_hz=100)
    raw = bytearray(12 * 40)
    imu.fifo_start(gyro=True)
    time.sleep_ms(200)
    n = imu.fifo_read(raw)
    print("FIFO", imu.rate_hz, n, [raw[k] | raw[k + 1] << 8 for k in range(0, 12, 2)], imu.fifo_overflows)
    imu.fifo_start()
    time.sleep_ms(4000)                                    # 400 frames of 6 bytes into 2048 bytes
    n = imu.fifo_read(raw)
    print("LONG", n, imu.fifo_overflows, imu.fifo_count())
    imu.wake_on_motion(threshold_mg=100, duration_ms=20)
    print("ARMED", Pin(27).value())
    power.wake_on_pin(27, level=1)
    power.deepsleep(60000)
"""


def test_bmi270_config_load_fifo_and_any_motion_wake(tmp_path, motion):
    r = run(tmp_path, BMI270_SCRIPT, motion, BMI270, boots=2)
    assert "no config file loaded (INTERNAL_STATUS 0x00" in lines(r, "NOTINIT")[0], r.stdout
    assert "bmi270.BMI270(i2c) first" in lines(r, "NOTINIT")[0]
    assert lines(r, "LOADED") == ["7"]                     # 256 bursts of 32 bytes, 30 ms apart
    rate, n, words, ovf = lines(r, "FIFO")[0].split(" ", 3)[:3] + [lines(r, "FIFO")[0].rsplit(" ", 1)[1]]
    assert rate == "100" and 19 <= int(n) <= 21 and ovf == "0"
    # accel then gyro in each frame (the chip's gyro-first order swapped): at 7.9 s the board is still
    assert signed(json.loads(lines(r, "FIFO")[0].split(" ", 2)[2].rsplit(" ", 1)[0])) == [0, 0, 8192, 0, 0, 0]
    assert lines(r, "LONG") == ["80 1 261"]                # 341 frames fit; it filled (counted)
    assert lines(r, "ARMED") == ["0"]
    # armed at about 12.1 s, after the first bump: the second, at 15 s, wakes the board
    assert r.boots[1].wake_reason == 2 and 15.0 <= r.boots[1].start_us / 1e6 < 15.03
    assert lines(r, "WOKE") == ["64 0"]


def test_nano_imus_wrong_absent_and_half_loaded(tmp_path, motion):
    r = run(tmp_path, """
        from machine import I2C
        from tinyml_device.drivers import DeviceNotFound
        from tinyml_device.drivers.lsm9ds1 import LSM9DS1Fifo
        from tinyml_device.drivers.bmi270 import BMI270Fifo, NotInitialised
        i2c = I2C(1)
        for cls, addr in ((LSM9DS1Fifo, 0x6B), (LSM9DS1Fifo, 0x6A), (BMI270Fifo, 0x68)):
            try:
                cls(i2c, addr=addr)
            except DeviceNotFound as e:
                print("NOTFOUND", e)
        i2c.writeto_mem(0x69, 0x59, b"\\x00")                # a config load cut short: 32 of 8192 bytes
        i2c.writeto_mem(0x69, 0x5E, bytes(32))
        i2c.writeto_mem(0x69, 0x59, b"\\x01")
        try:
            BMI270Fifo(i2c, addr=0x69)
        except NotInitialised as e:
            print("HALF", e)
    """, motion, [{"type": "bmi270", "bus": 1, "addr": 0x6B}, {"type": "bmi270", "bus": 1, "addr": 0x69}])
    found = lines(r, "NOTFOUND")
    assert "WHO_AM_I reads 0x00 (CHIP_ID 0x24 at register 0x00: a BMI270" in found[0], r.stdout
    assert "LSM9DS1 not answering at address 0x6a on I2C(1, scl=25, sda=26" in found[1]
    assert "SDO_A/G" in found[1] and "0x69, 0x6b" in found[1]
    assert "BMI270 not answering at address 0x68" in found[2] and "SDO (0x68 when low, 0x69 when high" in found[2]
    assert "INTERNAL_STATUS 0x02" in lines(r, "HALF")[0]


LSM6DS = [{"type": "lsm6dsox", "bus": 1, "addr": 0x6A, "int_pin": 27},
          {"type": "lsm6ds3", "bus": 1, "addr": 0x6B, "int_pin": 14}]


def test_lsm6ds_wake_up_interrupt_wakes_the_board(tmp_path, motion):
    r = run(tmp_path, """
        import time
        from machine import I2C, Pin, RTC
        from tinyml_device import power
        from tinyml_device.drivers.lsm6ds import LSM6DSOX, LSM6DS3, MOTION
        i2c = I2C(1)
        stage = RTC().memory()[0] if RTC().memory() else 0
        keep = stage > 0                                    # after a wake: no reset, WAKE_UP_SRC says why
        ox = LSM6DSOX(i2c, addr=0x6A, rate_hz=100, reset=not keep)
        ds3 = LSM6DS3(i2c, addr=0x6B, rate_hz=100, reset=not keep)
        RTC().memory(bytes([stage + 1]))
        if stage == 0:
            time.sleep_ms(11000)
            ox.wake_on_motion(threshold_mg=200)             # 6 steps of 2 g / 64; the bump's slope is 0.25 g
            ds3.wake_on_motion(threshold_mg=300)            # above it: never fires
            print("ARMED", ox.threshold_mg, ds3.threshold_mg, Pin(27).value(), Pin(14).value())
            power.wake_on_pins([27, 14], level=1)
        elif stage == 1:
            print("WOKE", power.wake_reason(), ox.clear_interrupt() & MOTION, Pin(27).value(), ds3.motion())
            time.sleep_ms(1000)                             # past the bump's falling edge
            ds3.wake_on_motion(threshold_mg=100, active_low=True)
            print("LOW", Pin(14).value())
            power.wake_on_pin(14, level=0)
        else:
            print("WOKE", power.wake_reason(), ds3.clear_interrupt() & MOTION, Pin(14).value())
            raise SystemExit
        power.deepsleep(60000)
    """, motion, LSM6DS, boots=3)
    assert lines(r, "ARMED") == ["187.5 312.5 0 0"], r.stdout
    assert r.boots[1].wake_reason == 3 and 12.0 <= r.boots[1].start_us / 1e6 < 12.02
    assert lines(r, "WOKE") == ["pin 8 0 False", "pin 8 1"]
    assert lines(r, "LOW") == ["1"]                          # H_LACTIVE: idle high
    assert r.boots[2].wake_reason == 2 and 15.0 <= r.boots[2].start_us / 1e6 < 15.02


NO_ALLOC_DEVICES = [{"type": "mpu6050", "bus": 0, "addr": 0x68}, {"type": "lsm9ds1", "bus": 0, "addr": 0x6B},
                    {"type": "lsm6dsox", "bus": 1, "addr": 0x6A}, {"type": "lsm6ds3", "bus": 1, "addr": 0x6B},
                    {"type": "adxl345", "bus": 1, "addr": 0x53}, {"type": "bmi270", "bus": 1, "addr": 0x68}]


def test_every_imu_fifo_loop_allocates_nothing(tmp_path, motion):
    r = run(tmp_path, """
        import gc, time, sim_world
        from gc import mem_alloc
        from machine import I2C
        from micropython_bmi270.bmi270 import BMI270
        from tinyml_device.drivers.mpu6050 import MPU6050
        from tinyml_device.drivers.lsm9ds1 import LSM9DS1Fifo
        from tinyml_device.drivers.lsm6ds import LSM6DSOX, LSM6DS3
        from tinyml_device.drivers.adxl345 import ADXL345
        from tinyml_device.drivers.bmi270 import BMI270Fifo
        i0, i1 = I2C(0), I2C(1)
        BMI270(i1)
        imus = [MPU6050(i0, rate_hz=100), LSM9DS1Fifo(i0, rate_hz=100), LSM6DSOX(i1, addr=0x6A, rate_hz=100),
                LSM6DS3(i1, addr=0x6B, rate_hz=100), ADXL345(i1, rate_hz=100), BMI270Fifo(i1, rate_hz=100)]
        raw = bytearray(12 * 64)
        counted = sim_world.count_alloc
        for imu in imus:
            gyro = imu.chip != "ADXL345"
            imu.fifo_start(gyro=True) if gyro else imu.fifo_start()
            has_int = hasattr(imu, "clear_interrupt")
            frames = allocated = 0
            i = 0
            while i < 2:
                time.sleep_ms(150)                          # the sampling loop: wait, read what came, act
                gc.collect()
                gc.disable()
                counted[0] = True
                s0 = sim_world.sim_alloc[0]
                a0 = mem_alloc()
                n = imu.fifo_read(raw)
                if has_int:
                    imu.clear_interrupt()
                a1 = mem_alloc()
                s1 = sim_world.sim_alloc[0]
                counted[0] = False
                gc.enable()
                allocated += (a1 - a0) - (s1 - s0)
                frames += n
                i += 1
            print("ALLOC", imu.chip, frames, allocated)
    """, motion, NO_ALLOC_DEVICES)
    got = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in lines(r, "ALLOC")}
    assert set(got) == {"MPU6050", "LSM9DS1", "LSM6DSOX", "LSM6DS3", "ADXL345", "BMI270"}, r.stdout
    for chip, (frames, allocated) in got.items():
        assert frames >= 25, (chip, frames)          # the loop read real frames (15 or more a read)
        assert allocated == 0, (chip, allocated)
