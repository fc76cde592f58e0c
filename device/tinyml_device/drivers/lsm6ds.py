# ST LSM6DS3 and LSM6DSOX 6-axis IMUs over machine.I2C: identity, rate and range, and FIFO readout into a
# caller's buffer (no allocation per read). micropython-lib's lsm6dsox driver reads single samples and the
# machine-learning core but no FIFO; this is the FIFO path, for both chips.
#
#   imu = LSM6DSOX(I2C(0), rate_hz=104)        # or LSM6DS3(...)
#   imu.fifo_start()                           # accel only: frames of 6 bytes (x, y, z little-endian int16)
#   n = imu.fifo_read(raw)                     # whole frames into raw; + gyro: fifo_start(gyro=True), 12 bytes
#   imu.to_g(raw, n, window)                   # -> array('f') in g
#
# The two FIFOs differ: the LSM6DS3 stores untagged 16-bit words in a fixed pattern (gyro data set first, then
# accel; FIFO_PATTERN says where the next word falls), the LSM6DSOX stores 7-byte words, each with a tag byte
# naming the sensor. Both keep running when full in continuous mode, overwriting the oldest data: the driver
# counts that in `fifo_overflows` and returns the frames still there (newest, in order).
# Registers: WHO_AM_I 0x0F (LSM6DS3 0x69, LSM6DS3TR-C 0x6A, LSM6DSOX/LSM6DSO 0x6C); CTRL1_XL 0x10, CTRL2_G
# 0x11, CTRL3_C 0x12 (BDU, IF_INC, SW_RESET, H_LACTIVE); FIFO: docs/device-runtime.md.
# Wake-on-motion (the chips' wake-up interrupt on INT1; micropython-lib's lsm6dsox driver routes none):
# WAKE_UP_SRC 0x1B (WU_IA), WAKE_UP_THS 0x5B (WK_THS 5:0, 1 LSB = full scale / 64), WAKE_UP_DUR 0x5C
# (WAKE_DUR 6:5, in samples), MD1_CFG 0x5E (INT1_WU); the slope filter (SLOPE_FDS) and latch (LIR) are in
# TAP_CFG 0x58 on the DS3 (bit 7 = INTERRUPTS_ENABLE on the DS3TR-C) and in TAP_CFG0 0x56 on the DSOX,
# whose TAP_CFG2 0x58 bit 7 is INTERRUPTS_ENABLE.
from . import DeviceNotFound, Registers, describe_bus, frames_to_g, pick_rate

WHO_AM_I = 0x0F
CTRL1_XL, CTRL2_G, CTRL3_C = 0x10, 0x11, 0x12
OUTX_L_XL = 0x28
FIFO_STATUS1 = 0x3A
ODR_HZ = (12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)   # codes 1..10
FS_XL = {2: 0, 16: 1, 4: 2, 8: 3}                               # FS_XL bits for +-g
WAKE_UP_SRC, WAKE_UP_THS, WAKE_UP_DUR, MD1_CFG = 0x1B, 0x5B, 0x5C, 0x5E
MOTION = 0x08                                                   # WAKE_UP_SRC.WU_IA


class _LSM6DS(Registers):
    NAME = "LSM6DS"
    IDS = {}

    def __init__(self, i2c, addr=0x6A, rate_hz=104, accel_range_g=2, pins=None, reset=True):
        """reset=False keeps the chip's other registers as they are: after a wake from deep sleep, so that
        clear_interrupt() still tells what woke the board."""
        Registers.__init__(self, i2c, addr, pins)
        self._b4 = bytearray(4)
        self._b2 = memoryview(self._b4)[0:2]    # made once: a slice per read would allocate
        self.fifo_overflows = 0
        self.frame_bytes = 6
        self.gyro = False
        try:
            who = self._read8(WHO_AM_I)
        except OSError:
            where, seen = describe_bus(i2c, pins)
            raise DeviceNotFound("%s not answering at address 0x%02x on %s: check wiring, power and SA0 (0x6A "
                                 "when low, 0x6B when high); %s" % (self.NAME, addr, where, seen))
        if who not in self.IDS:
            where, _ = describe_bus(i2c, pins)
            other = {0x69: "an LSM6DS3: use LSM6DS3", 0x6A: "an LSM6DS3TR-C/LSM6DSL: use LSM6DS3",
                     0x6C: "an LSM6DSOX/LSM6DSO: use LSM6DSOX"}.get(who, "not an ST LSM6DS IMU")
            raise DeviceNotFound("the chip at 0x%02x on %s is not an %s: WHO_AM_I reads 0x%02x (%s), expected %s"
                                 % (addr, where, self.NAME, who, other,
                                    " or ".join("0x%02x" % k for k in self.IDS)))
        self.chip = self.IDS[who]
        if reset:
            self._write8(CTRL3_C, 0x01)     # SW_RESET
        self._write8(CTRL3_C, (self._read8(CTRL3_C) & 0x20) | 0x44)     # BDU, IF_INC; keep H_LACTIVE
        self.configure(rate_hz, accel_range_g)

    def __repr__(self):
        return "<%s at 0x%02x on %r, %g Hz>" % (self.chip, self.addr, self.i2c, self.rate_hz)

    def configure(self, rate_hz, accel_range_g=2, gyro=False):
        """Output data rate: the first of 12.5, 26, 52, 104, 208, 416, 833, 1666, ... Hz at or above rate_hz;
        accel range 2/4/8/16 g; the gyro on (at the same rate, +-250 dps) or off."""
        code, self.rate_hz, self.lsb_per_g = pick_rate(ODR_HZ, rate_hz, FS_XL, accel_range_g)
        self.odr_code, self.accel_range_g, self.gyro = code, accel_range_g, gyro
        self._write8(CTRL1_XL, (code << 4) | (FS_XL[accel_range_g] << 2))
        self._write8(CTRL2_G, (code << 4) if gyro else 0)

    def read_accel_raw(self, buf6):
        """The latest sample: 6 bytes, little-endian int16 x, y, z."""
        self.i2c.readfrom_mem_into(self.addr, OUTX_L_XL, buf6)

    def to_g(self, raw, frames, out):
        """Frames (accel x, y, z little-endian int16 first in each) -> `out` (array('f'), 3 a frame) in g."""
        return frames_to_g(raw, frames, self.frame_bytes, self.lsb_per_g, out)

    def fifo_start(self, gyro=False):
        """Empty the FIFO and batch accel (+ gyro: frames of 12 bytes, accel then gyro) at the output rate, in
        continuous mode."""
        if gyro != self.gyro:
            self.configure(self.rate_hz, self.accel_range_g, gyro)
        self.frame_bytes = 12 if gyro else 6
        self._fifo_setup(gyro)

    def _fifo_setup(self, gyro):
        raise NotImplementedError   # the FIFO registers differ per chip: LSM6DS3 and LSM6DSOX each define it

    def _interrupts_on(self):
        raise NotImplementedError   # so do the wake-up's enable bits

    # ---- wake on motion
    def wake_on_motion(self, threshold_mg=125, duration_samples=0, active_low=False):
        """Raise INT1 (latched until clear_interrupt()) when the slope of an axis (half the change between two
        samples: no gravity) passes threshold_mg for more than duration_samples samples (0..3). Threshold
        steps are full scale / 64: 31.25 mg at 2 g."""
        lsb_mg = self.accel_range_g * 1000 / 64
        ths = max(1, min(63, int(threshold_mg / lsb_mg + 0.5)))
        self.threshold_mg = ths * lsb_mg
        self._write8(MD1_CFG, 0x00)
        self._interrupts_on()
        self._write8(WAKE_UP_DUR, (max(0, min(3, duration_samples))) << 5)   # WAKE_THS_W = 0: FS / 64
        self._write8(WAKE_UP_THS, ths)
        self._write8(CTRL3_C, 0x44 | (0x20 if active_low else 0))          # BDU, IF_INC, H_LACTIVE
        self._read8(WAKE_UP_SRC)                                           # start from a clear line
        self._write8(MD1_CFG, 0x20)                                        # INT1_WU

    def clear_interrupt(self):
        """Read (and so clear) WAKE_UP_SRC; returns it (MOTION = 0x08 if the wake-up fired)."""
        return self._read8(WAKE_UP_SRC)

    def motion(self):
        """True if the wake-up fired since the last call (polling, for a board whose INT1 is not wired)."""
        return bool(self._read8(WAKE_UP_SRC) & MOTION)


class LSM6DS3(_LSM6DS):
    NAME = "LSM6DS3"
    IDS = {0x69: "LSM6DS3", 0x6A: "LSM6DS3TR-C"}
    FIFO_CTRL3, FIFO_CTRL5, FIFO_DATA_OUT_L = 0x08, 0x0A, 0x3E
    FIFO_ODR_HZ = (10, 25, 50, 100, 200, 400, 800, 1600, 3300, 6600)

    def _interrupts_on(self):
        # TAP_CFG: SLOPE_FDS (the slope filter feeds the wake-up), LIR (latched); on the DS3TR-C bit 7 is
        # INTERRUPTS_ENABLE, on the DS3 it is TIMER_EN (the timestamp counter): set only where it enables.
        self._write8(0x58, (0x80 if self.chip == "LSM6DS3TR-C" else 0) | 0x11)

    def _fifo_setup(self, gyro):
        self._write8(self.FIFO_CTRL5, 0x00)                 # bypass: empties the FIFO
        self._write8(self.FIFO_CTRL3, 0x01 | (0x08 if gyro else 0))   # accel (and gyro) data sets, no decimation
        self._write8(self.FIFO_CTRL5, (self.odr_code << 3) | 0x06)     # ODR_FIFO, continuous mode
        self.fifo_rate_hz = self.FIFO_ODR_HZ[self.odr_code - 1]
        self._w = bytearray(2)

    def fifo_stop(self):
        self._write8(self.FIFO_CTRL5, 0x00)

    def fifo_words(self):
        self.i2c.readfrom_mem_into(self.addr, FIFO_STATUS1, self._b4)
        return self._b4[0] | ((self._b4[1] & 0x0F) << 8)

    def fifo_read(self, buf, max_frames=None):
        """Whole frames into `buf` (frame_bytes each); returns how many. One 2-byte read per FIFO word."""
        b4 = self._b4
        self.i2c.readfrom_mem_into(self.addr, FIFO_STATUS1, b4)      # STATUS1..4: count, flags, pattern
        words = b4[0] | ((b4[1] & 0x0F) << 8)
        if b4[1] & 0x40:                                            # OVER_RUN: the oldest were overwritten
            self.fifo_overflows += 1
        pattern = b4[2] | (b4[3] << 8)
        per = 6 if self.gyro else 3
        w = self._w
        while pattern and words:                                    # realign to the start of a data set
            self.i2c.readfrom_mem_into(self.addr, self.FIFO_DATA_OUT_L, w)
            words -= 1
            pattern = (pattern + 1) % per
        frames = min(words // per, len(buf) // self.frame_bytes)
        if max_frames is not None and frames > max_frames:
            frames = max_frames
        for f in range(frames):
            base = f * self.frame_bytes
            for k in range(per):
                self.i2c.readfrom_mem_into(self.addr, self.FIFO_DATA_OUT_L, w)
                # the data set order is gyro then accel; frames hold accel then gyro
                j = base + (2 * k if not self.gyro else (2 * (k - 3) if k >= 3 else 6 + 2 * k))
                buf[j] = w[0]
                buf[j + 1] = w[1]
        return frames


class LSM6DSOX(_LSM6DS):
    NAME = "LSM6DSOX"
    IDS = {0x6C: "LSM6DSOX"}
    FIFO_CTRL3, FIFO_CTRL4, FIFO_DATA_OUT_TAG = 0x09, 0x0A, 0x78
    TAG_GYRO, TAG_ACCEL = 0x01, 0x02

    def _interrupts_on(self):
        self._write8(0x56, 0x11)                            # TAP_CFG0: SLOPE_FDS, LIR
        self._write8(0x58, self._read8(0x58) | 0x80)        # TAP_CFG2: INTERRUPTS_ENABLE

    def _fifo_setup(self, gyro):
        self._write8(self.FIFO_CTRL4, 0x00)                 # bypass: empties the FIFO
        self._write8(self.FIFO_CTRL3, ((self.odr_code << 4) if gyro else 0) | self.odr_code)   # BDR_GY, BDR_XL
        self._write8(self.FIFO_CTRL4, 0x06)                 # continuous mode
        self.fifo_rate_hz = self.rate_hz
        self._w = bytearray(7)

    def fifo_stop(self):
        self._write8(self.FIFO_CTRL4, 0x00)

    def fifo_words(self):
        self.i2c.readfrom_mem_into(self.addr, FIFO_STATUS1, self._b2)
        return self._b4[0] | ((self._b4[1] & 0x03) << 8)

    def fifo_read(self, buf, max_frames=None):
        """Whole frames into `buf` (frame_bytes each), sorted by the words' tags; returns how many. Words of
        other sensors (temperature, timestamp) are skipped. One 7-byte read per FIFO word."""
        self.i2c.readfrom_mem_into(self.addr, FIFO_STATUS1, self._b2)
        words = self._b4[0] | ((self._b4[1] & 0x03) << 8)
        if self._b4[1] & 0x48:                              # FIFO_OVR_IA or FIFO_OVR_LATCHED
            self.fifo_overflows += 1
        limit = len(buf) // self.frame_bytes
        if max_frames is not None and max_frames < limit:
            limit = max_frames
        w = self._w
        frames = 0
        have = 0                                            # bit 0: accel in this frame, bit 1: gyro
        need = 3 if self.gyro else 1
        while words and frames < limit:
            self.i2c.readfrom_mem_into(self.addr, self.FIFO_DATA_OUT_TAG, w)
            words -= 1
            tag = w[0] >> 3
            if tag == self.TAG_ACCEL:
                off, bit = 0, 1
            elif tag == self.TAG_GYRO and self.gyro:
                off, bit = 6, 2
            else:
                continue
            base = frames * self.frame_bytes + off
            for i in range(6):
                buf[base + i] = w[1 + i]
            have |= bit
            if have == need:
                frames += 1
                have = 0
        return frames
