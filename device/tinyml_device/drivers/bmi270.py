# The BMI270's FIFO readout and any-motion wake (Arduino Nano 33 BLE Sense rev2), beside micropython-lib's
# `bmi270` driver, which the nrf firmware freezes. That driver does the part only it should: the chip is
# useless until Bosch's 8 KB config file is loaded into it, and the driver carries the file and loads it. It
# then reads single samples; it only flushes the FIFO, and sets up no readout and no interrupt. This adapter
# adds those, with the interface the other IMU drivers here share.
#
#   from bmi270 import BMI270                    # frozen on the Nano 33 BLE Sense; `mpremote mip install bmi270`
#   BMI270(i2c)                                  # elsewhere. Loads the config file (once per power-up)
#   imu = BMI270Fifo(i2c, rate_hz=100)
#   imu.fifo_start()                             # headerless accel frames of 6 bytes (x, y, z little-endian)
#   n = imu.fifo_read(raw)                       # 2 KB of FIFO: 341 accel frames, 3.4 s at 100 Hz
#   imu.to_g(raw, n, window)
#   imu.wake_on_motion(threshold_mg=80)          # any-motion -> INT1 high (latched until clear_interrupt())
#
# micropython-lib's drivers are not on PyPI, so this was written against the BMI270 register map (the
# datasheet's). The tests load the config file with another BMI270 driver that is on PyPI
# (micropython-bmi270) into the simulated chip (device/sim/sim_bmi270.py), then run this adapter.
# Reading micropython-lib's driver: it writes ACC_CONF as 0xA | odr_code, which puts 0xA into the ODR bits
# (its default 100 Hz becomes 400 Hz: code 0xA); configure() here writes ACC_CONF itself.
#
# Registers: CHIP_ID 0x00 = 0x24; INT_STATUS_0 0x1C (any_motion_out bit 6), INT_STATUS_1 0x1D (ffull bit 0),
# INTERNAL_STATUS 0x21 (0x01 = config loaded), FIFO_LENGTH 0x24/0x25, FIFO_DATA 0x26, FEAT_PAGE 0x2F, feature
# page 1 bytes 0x3C-0x3F = any-motion (duration in 20 ms steps, axes; threshold in 1/2048 g, enable), ACC_CONF
# 0x40, ACC_RANGE 0x41, GYR_CONF 0x42, GYR_RANGE 0x43, FIFO_CONFIG_0/1 0x48/0x49, INT1_IO_CTRL 0x53, INT_LATCH
# 0x55, INT1_MAP_FEAT 0x56, PWR_CONF 0x7C, PWR_CTRL 0x7D, CMD 0x7E (0xB0 FIFO flush).
from . import DeviceNotFound, Registers, describe_bus, frames_to_g, pick_rate

CHIP_ID = 0x00
INT_STATUS_0 = 0x1C
INT_STATUS_1 = 0x1D
INTERNAL_STATUS = 0x21
FIFO_LENGTH_0 = 0x24
FIFO_DATA = 0x26
FEAT_PAGE = 0x2F
FEATURES = 0x30
ACC_CONF, ACC_RANGE, GYR_CONF, GYR_RANGE = 0x40, 0x41, 0x42, 0x43
FIFO_CONFIG_0, FIFO_CONFIG_1 = 0x48, 0x49
INT1_IO_CTRL = 0x53
INT_LATCH = 0x55
INT1_MAP_FEAT = 0x56
PWR_CONF, PWR_CTRL, CMD = 0x7C, 0x7D, 0x7E

ODR_HZ = (0.78, 1.56, 3.12, 6.25, 12.5, 25, 50, 100, 200, 400, 800, 1600)   # codes 1..12
ACC_RANGES_G = (2, 4, 8, 16)
MOTION = 0x40                                   # INT_STATUS_0.any_motion_out
FIFO_BYTES = 2048


class NotInitialised(OSError):
    """The BMI270 answers but its config file is not loaded."""


class BMI270Fifo(Registers):
    def __init__(self, i2c, addr=0x68, rate_hz=100, accel_range_g=4, pins=None):
        Registers.__init__(self, i2c, addr, pins)
        self._b2 = bytearray(2)
        self._frame = bytearray(12)
        self._mv6 = memoryview(self._frame)[0:6]        # made once: slicing later would allocate
        self.fifo_overflows = 0
        self.frame_bytes = 6
        self.gyro = False
        try:
            who = self._read8(CHIP_ID)
        except OSError:
            where, seen = describe_bus(i2c, pins)
            raise DeviceNotFound("BMI270 not answering at address 0x%02x on %s: check wiring, power and SDO "
                                 "(0x68 when low, 0x69 when high; on the Nano 33 BLE Sense rev2: I2C(1, scl=15, "
                                 "sda=14), sensor power on P0.22); %s" % (addr, where, seen))
        if who != 0x24:
            where, _ = describe_bus(i2c, pins)
            raise DeviceNotFound("the chip at 0x%02x on %s is not a BMI270: CHIP_ID reads 0x%02x, expected 0x24"
                                 % (addr, where, who))
        status = self._read8(INTERNAL_STATUS) & 0x0F
        if status != 0x01:
            where, _ = describe_bus(i2c, pins)
            raise NotInitialised("the BMI270 at 0x%02x on %s has no config file loaded (INTERNAL_STATUS "
                                 "0x%02x, 0x01 when loaded): create micropython-lib's bmi270.BMI270(i2c) first "
                                 "(frozen in the nrf firmware, `mpremote mip install bmi270` elsewhere); it loads "
                                 "Bosch's config file, without which the chip measures nothing"
                                 % (addr, where, status))
        self.chip = "BMI270"
        self.configure(rate_hz, accel_range_g)

    def __repr__(self):
        return "<BMI270 at 0x%02x on %r, %g Hz>" % (self.addr, self.i2c, self.rate_hz)

    def configure(self, rate_hz, accel_range_g=4, gyro=False):
        """Output rate: the first of 0.78 .. 1600 Hz (doubling from 100) at or above rate_hz; accel range
        2/4/8/16 g; the gyro on at the same rate (2000 dps range, as the frozen driver leaves it) or off."""
        code, self.rate_hz, self.lsb_per_g = pick_rate(ODR_HZ, rate_hz, ACC_RANGES_G, accel_range_g)
        self.odr_code, self.accel_range_g, self.gyro = code, accel_range_g, gyro
        self._write8(PWR_CONF, 0x02)                    # adv_power_save off (register writes at full speed)
        self._write8(ACC_CONF, 0xA0 | code)             # filter_perf, normal averaging, ODR
        self._write8(ACC_RANGE, ACC_RANGES_G.index(accel_range_g))
        if gyro:
            self._write8(GYR_CONF, 0xA0 | code)
        self._write8(PWR_CTRL, self._read8(PWR_CTRL) | 0x04 | (0x02 if gyro else 0))   # acc_en (+ gyr_en)

    def read_accel_raw(self, buf6):
        self.i2c.readfrom_mem_into(self.addr, 0x0C, buf6)

    # ---- FIFO
    def fifo_start(self, gyro=False):
        """Flush the FIFO and fill it, headerless, in stream mode (full: the oldest frames go): accel frames
        of 6 bytes, or accel then gyro, 12 bytes."""
        if gyro != self.gyro:
            self.configure(self.rate_hz, self.accel_range_g, gyro)
        self.frame_bytes = 12 if gyro else 6
        self._write8(FIFO_CONFIG_0, 0x00)               # not stop_on_full: keep the newest
        self._write8(FIFO_CONFIG_1, 0x40 | (0x80 if gyro else 0))   # acc (+ gyr), no headers
        self._write8(CMD, 0xB0)                         # flush
        self._read8(INT_STATUS_1)                       # clear a stale ffull

    def fifo_stop(self):
        self._write8(FIFO_CONFIG_1, 0x00)

    def fifo_count(self):
        """Frames waiting."""
        self.i2c.readfrom_mem_into(self.addr, FIFO_LENGTH_0, self._b2)
        return (self._b2[0] | (self._b2[1] & 0x3F) << 8) // self.frame_bytes

    def fifo_read(self, buf, max_frames=None):
        """Frames waiting in the FIFO into `buf` (frame_bytes each), oldest first; returns how many. A FIFO
        that filled up (stream mode then drops its oldest frames) is counted in fifo_overflows. One FIFO read
        per frame; nothing allocated."""
        if self._read8(INT_STATUS_1) & 0x01:            # ffull_int
            self.fifo_overflows += 1
        frames = min(self.fifo_count(), len(buf) // self.frame_bytes)
        if max_frames is not None and frames > max_frames:
            frames = max_frames
        fb = self.frame_bytes
        fr = self._frame
        for f in range(frames):
            base = f * fb
            if self.gyro:                               # the chip's order is gyro then accel; frames hold accel first
                self.i2c.readfrom_mem_into(self.addr, FIFO_DATA, fr)
                for i in range(6):
                    buf[base + i] = fr[6 + i]
                    buf[base + 6 + i] = fr[i]
            else:
                self.i2c.readfrom_mem_into(self.addr, FIFO_DATA, self._mv6)
                for i in range(6):
                    buf[base + i] = fr[i]
        return frames

    def to_g(self, raw, frames, out):
        """Frames (accel x, y, z little-endian int16 first in each) -> `out` (array('f'), 3 a frame) in g.
        (On ports that box floats each value is a short-lived float.)"""
        return frames_to_g(raw, frames, self.frame_bytes, self.lsb_per_g, out)

    # ---- wake on motion
    def wake_on_motion(self, threshold_mg=80, duration_ms=20, active_low=False):
        """The chip's any-motion feature on INT1 (latched until clear_interrupt()): the acceleration of an axis
        changing by more than threshold_mg between samples 20 ms apart, for longer than duration_ms (steps of
        20 ms). Threshold steps are 1/2048 g (0.49 mg), up to 1 g."""
        ths = max(1, min(0x7FF, int(threshold_mg * 2048 / 1000 + 0.5)))
        dur = max(0, min(0x1FFF, duration_ms // 20))
        self._write8(FEAT_PAGE, 1)
        page = bytearray(16)
        self.i2c.readfrom_mem_into(self.addr, FEATURES, page)       # the whole page back, as Bosch's API does
        w1 = dur | 0xE000                               # select x, y, z
        w2 = ths | 0x8000                               # enable
        page[12], page[13], page[14], page[15] = w1 & 0xFF, w1 >> 8, w2 & 0xFF, w2 >> 8
        self.i2c.writeto_mem(self.addr, FEATURES, page)
        self._write8(INT1_IO_CTRL, 0x08 | (0 if active_low else 0x02))   # output enabled, push-pull, level
        self._write8(INT_LATCH, 0x01)
        self._write8(INT1_MAP_FEAT, MOTION)
        self._read8(INT_STATUS_0)                       # start from a clear line

    def clear_interrupt(self):
        """Read (and so clear) INT_STATUS_0; returns it (MOTION = 0x40 if any-motion fired)."""
        return self._read8(INT_STATUS_0)

    def motion(self):
        """True if any-motion fired since the last call (polling, for a board whose INT1 is not wired)."""
        return bool(self._read8(INT_STATUS_0) & MOTION)
