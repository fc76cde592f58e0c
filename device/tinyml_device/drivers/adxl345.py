# Analog Devices ADXL345 3-axis accelerometer over machine.I2C: identity, rate and range, its 32-sample FIFO in
# stream mode read into a caller's buffer, and the activity interrupt for wake-on-motion.
#
#   acc = ADXL345(I2C(0), rate_hz=100)
#   acc.fifo_start()                        # stream mode: the chip keeps the newest 32 samples
#   n = acc.fifo_read(raw)                  # frames of 6 bytes (x, y, z little-endian int16)
#   acc.to_g(raw, n, window)
#   acc.wake_on_motion(threshold_mg=250)    # INT1 high on activity; wire it to a wake-capable pin
#
# Registers (ADXL345 datasheet): DEVID 0x00 = 0xE5; BW_RATE 0x2C (rate = 3200 Hz / 2^(15 - code)); POWER_CTL
# 0x2D (Measure); DATA_FORMAT 0x31 (FULL_RES: 3.9 mg/LSB at every range); DATAX0 0x32..DATAZ1 0x37; FIFO_CTL
# 0x38 (stream = 0b10 << 6); FIFO_STATUS 0x39 (entries); INT_SOURCE 0x30, INT_ENABLE 0x2E, INT_MAP 0x2F;
# THRESH_ACT 0x24 (62.5 mg/LSB), ACT_INACT_CTL 0x27. Each 6-byte read of the data registers pops one FIFO
# entry, so the FIFO is read one sample per I2C transaction.
from . import DeviceNotFound, Registers, describe_bus, frames_to_g

DEVID = 0x00
THRESH_ACT = 0x24
ACT_INACT_CTL = 0x27
BW_RATE = 0x2C
POWER_CTL = 0x2D
INT_ENABLE = 0x2E
INT_MAP = 0x2F
INT_SOURCE = 0x30
DATA_FORMAT = 0x31
DATAX0 = 0x32
FIFO_CTL = 0x38
FIFO_STATUS = 0x39
RANGES_G = (2, 4, 8, 16)
INT_ACTIVITY = 0x10
INT_OVERRUN = 0x01


class ADXL345(Registers):
    def __init__(self, i2c, addr=0x53, rate_hz=100, range_g=2, pins=None):
        Registers.__init__(self, i2c, addr, pins)
        self._b6 = bytearray(6)
        self.fifo_overflows = 0
        self.frame_bytes = 6
        self.lsb_per_g = 256                # FULL_RES
        try:
            who = self._read8(DEVID)
        except OSError:
            where, seen = describe_bus(i2c, pins)
            raise DeviceNotFound("ADXL345 not answering at address 0x%02x on %s: check wiring, power and "
                                 "ALT ADDRESS (0x53 when low, 0x1D when high); %s" % (addr, where, seen))
        if who != 0xE5:
            where, _ = describe_bus(i2c, pins)
            raise DeviceNotFound("the chip at 0x%02x on %s is not an ADXL345: DEVID reads 0x%02x, expected 0xe5"
                                 % (addr, where, who))
        self.chip = "ADXL345"
        self.configure(rate_hz, range_g)

    def __repr__(self):
        return "<ADXL345 at 0x%02x on %r, %g Hz>" % (self.addr, self.i2c, self.rate_hz)

    def configure(self, rate_hz=100, range_g=2, active_low=False):
        """Rate: the first of 6.25, 12.5, 25, 50, 100, ... 3200 Hz at or above rate_hz; range 2/4/8/16 g."""
        if range_g not in RANGES_G:
            raise ValueError("range_g must be one of 2, 4, 8, 16")
        code = 6
        while code < 15 and 3200 / (1 << (15 - code)) < rate_hz:
            code += 1
        self.rate_hz = 3200 / (1 << (15 - code))
        self.range_g = range_g
        self._write8(POWER_CTL, 0x00)                       # standby while configuring
        self._write8(DATA_FORMAT, 0x08 | RANGES_G.index(range_g) | (0x20 if active_low else 0))
        self._write8(BW_RATE, code)
        self._write8(INT_ENABLE, 0x00)
        self._write8(POWER_CTL, 0x08)                       # Measure

    def read_accel_raw(self, buf6):
        self.i2c.readfrom_mem_into(self.addr, DATAX0, buf6)

    def fifo_start(self):
        self._write8(FIFO_CTL, 0x00)                        # bypass: empties the FIFO
        self._write8(FIFO_CTL, 0x80 | 16)                   # stream mode, watermark 16

    def fifo_stop(self):
        self._write8(FIFO_CTL, 0x00)

    def fifo_count(self):
        return self._read8(FIFO_STATUS) & 0x3F

    def fifo_read(self, buf, max_frames=None):
        """Samples waiting in the FIFO into `buf` (6 bytes each), oldest first; returns how many. In stream
        mode a full FIFO drops its oldest sample for each new one: counted in `fifo_overflows` (the samples
        returned are still in order, but some before them were lost)."""
        if self._read8(INT_SOURCE) & INT_OVERRUN:
            self.fifo_overflows += 1
        frames = min(self._read8(FIFO_STATUS) & 0x3F, len(buf) // 6)
        if max_frames is not None and frames > max_frames:
            frames = max_frames
        b6 = self._b6
        for f in range(frames):
            self.i2c.readfrom_mem_into(self.addr, DATAX0, b6)
            base = 6 * f
            for i in range(6):
                buf[base + i] = b6[i]
        return frames

    def to_g(self, raw, frames, out):
        return frames_to_g(raw, frames, 6, self.lsb_per_g, out)

    def wake_on_motion(self, threshold_mg=250, ac_coupled=True):
        """Raise INT1 (active high, held until INT_SOURCE is read) when an axis moves by more than
        threshold_mg (ac-coupled: from where it was when armed; dc: absolute)."""
        self._write8(INT_ENABLE, 0x00)
        self._write8(THRESH_ACT, max(1, min(255, (threshold_mg * 10 + 624) // 625)))
        self._write8(ACT_INACT_CTL, (0x80 if ac_coupled else 0) | 0x70)
        self._write8(INT_MAP, 0x00)                         # everything on INT1
        self._read8(INT_SOURCE)
        self._write8(INT_ENABLE, INT_ACTIVITY)

    def clear_interrupt(self):
        """Read (and so clear) INT_SOURCE; returns it (INT_ACTIVITY = 0x10 if motion was seen)."""
        return self._read8(INT_SOURCE)

    def sleep(self):
        self._write8(POWER_CTL, 0x00)
