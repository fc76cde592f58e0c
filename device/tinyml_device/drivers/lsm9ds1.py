# The LSM9DS1's FIFO readout and wake-on-motion (Arduino Nano 33 BLE Sense rev1), beside micropython-lib's
# `lsm9ds1` driver, which the nrf firmware freezes and which stays the way to read the magnetometer and single
# samples. That driver runs the FIFO in continuous mode to smooth its readings; it has no readout of a window
# into a caller's buffer and no interrupt set-up. This adapter adds only those, the interface the sampler and
# the other IMU drivers here share (fifo_start / fifo_read / to_g / wake_on_motion / clear_interrupt).
#
#   from lsm9ds1 import LSM9DS1                  # frozen on the Nano 33 BLE Sense (optional: sets up the magnet)
#   imu = LSM9DS1Fifo(I2C(1, scl=Pin(15), sda=Pin(14)), rate_hz=119)
#   imu.fifo_start()                             # accel only: frames of 6 bytes (x, y, z little-endian int16)
#   n = imu.fifo_read(raw)                       # at most 32 frames wait in the chip: read at least every 0.25 s
#   imu.to_g(raw, n, window)
#   imu.wake_on_motion(threshold_mg=100)         # INT1_A/G high on motion (latched until clear_interrupt())
#
# micropython-lib's drivers are not on PyPI, so this was written against the LSM9DS1 register map (the
# datasheet's), not tested against the frozen driver; the simulated chip (device/sim/sim_lsm9ds1.py) answers
# the registers that driver uses too. On the Nano 33 BLE Sense the INT lines are reportedly not wired to the
# MCU (UNCONFIRMED) and the nrf port cannot sleep anyway: poll motion() there; on a board with an LSM9DS1
# breakout wire INT1_A/G to a wake pin.
#
# Registers: WHO_AM_I 0x0F = 0x68; CTRL_REG1_G 0x10 (ODR_G, FS_G), CTRL_REG4 0x1E (LIR_XL1), CTRL_REG6_XL
# 0x20 (ODR_XL, FS_XL), CTRL_REG7_XL 0x21 (HPIS1), CTRL_REG8 0x22 (H_LACTIVE, IF_ADD_INC), CTRL_REG9 0x23
# (FIFO_EN); FIFO_CTRL 0x2E, FIFO_SRC 0x2F; OUT_X_G 0x18, OUT_X_XL 0x28; interrupt: INT_GEN_CFG_XL 0x06,
# INT_GEN_THS_X/Y/Z_XL 0x07-0x09 (1 LSB = full scale / 256), INT_GEN_DUR_XL 0x0A, INT1_CTRL 0x0C,
# INT_GEN_SRC_XL 0x26.
from . import DeviceNotFound, Registers, describe_bus, frames_to_g, pick_rate

INT_GEN_CFG_XL = 0x06
INT_GEN_THS_X_XL = 0x07
INT_GEN_DUR_XL = 0x0A
INT1_CTRL = 0x0C
WHO_AM_I = 0x0F
CTRL_REG1_G = 0x10
OUT_X_G = 0x18
CTRL_REG4 = 0x1E
CTRL_REG6_XL = 0x20
CTRL_REG7_XL = 0x21
CTRL_REG8 = 0x22
CTRL_REG9 = 0x23
INT_GEN_SRC_XL = 0x26
OUT_X_XL = 0x28
FIFO_CTRL = 0x2E
FIFO_SRC = 0x2F

ODR_HZ = (14.9, 59.5, 119, 238, 476, 952)       # codes 1..6 with the gyro on (accel alone: 10, 50, 119, ...)
ODR_XL_ONLY_HZ = (10, 50, 119, 238, 476, 952)
FS_XL = {2: 0, 16: 1, 4: 2, 8: 3}               # FS_XL bits for +-g
FIFO_DEPTH = 32
MOTION = 0x40                                   # INT_GEN_SRC_XL.IA_XL


class LSM9DS1Fifo(Registers):
    def __init__(self, i2c, addr=0x6B, rate_hz=119, accel_range_g=None, pins=None):
        """rate_hz: the first output rate at or above it; accel_range_g: 2/4/8/16, or None to keep the range
        the frozen driver set (read from the chip)."""
        Registers.__init__(self, i2c, addr, pins)
        self._b6 = bytearray(6)
        self.fifo_overflows = 0
        self.frame_bytes = 6
        self.gyro = False
        try:
            who = self._read8(WHO_AM_I)
        except OSError:
            where, seen = describe_bus(i2c, pins)
            rev2 = ("; 0x68 answers: a BMI270, as on the Nano 33 BLE Sense rev2? use BMI270Fifo"
                    if "0x68" in seen else "")
            raise DeviceNotFound("LSM9DS1 not answering at address 0x%02x on %s: check wiring, power and SDO_A/G "
                                 "(0x6A when low, 0x6B when high; on the Nano 33 BLE Sense rev1: I2C(1, scl=15, "
                                 "sda=14), sensor power on P0.22); %s%s" % (addr, where, seen, rev2))
        if who != 0x68:
            where, _ = describe_bus(i2c, pins)
            other = ""
            if self._read8(0x00) == 0x24:               # the BMI270's CHIP_ID register
                other = " (CHIP_ID 0x24 at register 0x00: a BMI270, as on the Nano 33 BLE Sense rev2: use BMI270Fifo)"
            raise DeviceNotFound("the chip at 0x%02x on %s is not an LSM9DS1 accel/gyro: WHO_AM_I reads 0x%02x%s, "
                                 "expected 0x68" % (addr, where, who, other))
        self.chip = "LSM9DS1"
        if accel_range_g is None:
            fs = (self._read8(CTRL_REG6_XL) >> 3) & 3
            accel_range_g = (2, 16, 4, 8)[fs]
        self.configure(rate_hz, accel_range_g)

    def __repr__(self):
        return "<LSM9DS1 at 0x%02x on %r, %g Hz>" % (self.addr, self.i2c, self.rate_hz)

    def configure(self, rate_hz, accel_range_g=4, gyro=False):
        """Output rate (the first of 14.9/59.5/119/238/476/952 Hz with the gyro on, 10/50/119/... with it off,
        at or above rate_hz), accel range 2/4/8/16 g, the gyro on (same rate, 245 dps) or powered down."""
        rates = ODR_HZ if gyro else ODR_XL_ONLY_HZ     # gyro off: the accel runs alone, at its own rates
        code, self.rate_hz, self.lsb_per_g = pick_rate(rates, rate_hz, FS_XL, accel_range_g)
        self.odr_code, self.accel_range_g, self.gyro = code, accel_range_g, gyro
        self._write8(CTRL_REG1_G, (code << 5) if gyro else 0)       # gyro off: the accel runs alone
        self._write8(CTRL_REG6_XL, (code << 5) | (FS_XL[accel_range_g] << 3))
        self._write8(CTRL_REG8, (self._read8(CTRL_REG8) & 0x20) | 0x44)   # keep H_LACTIVE; BDU, IF_ADD_INC

    def read_accel_raw(self, buf6):
        """The latest sample (or the oldest FIFO slot while the FIFO runs): 6 bytes, little-endian x, y, z."""
        self.i2c.readfrom_mem_into(self.addr, OUT_X_XL, buf6)

    # ---- FIFO
    def fifo_start(self, gyro=False):
        """Empty the FIFO and fill it in continuous mode (the oldest slot goes when 32 wait): accel frames of 6
        bytes, or accel then gyro, 12 bytes (the gyro powered up at the same rate)."""
        if gyro != self.gyro:
            self.configure(self.rate_hz, self.accel_range_g, gyro)
        self.frame_bytes = 12 if gyro else 6
        self._write8(FIFO_CTRL, 0x00)                   # bypass: empties it
        self._write8(CTRL_REG9, (self._read8(CTRL_REG9) & ~0x01) | 0x02)   # FIFO_EN, no STOP_ON_FTH
        self._write8(FIFO_CTRL, 0xC0)                   # continuous mode

    def fifo_stop(self):
        self._write8(FIFO_CTRL, 0x00)
        self._write8(CTRL_REG9, self._read8(CTRL_REG9) & ~0x02)

    def fifo_count(self):
        return self._read8(FIFO_SRC) & 0x3F

    def fifo_read(self, buf, max_frames=None):
        """Slots waiting in the FIFO into `buf` (frame_bytes each), oldest first; returns how many. If it
        overran (continuous mode overwrote its oldest slot) that is counted in fifo_overflows; the frames
        returned are still in order. One read per sensor per slot; nothing allocated."""
        src = self._read8(FIFO_SRC)
        if src & 0x40:                                  # OVRN
            self.fifo_overflows += 1
        frames = min(src & 0x3F, len(buf) // self.frame_bytes)
        if max_frames is not None and frames > max_frames:
            frames = max_frames
        b6 = self._b6
        fb = self.frame_bytes
        for f in range(frames):
            base = f * fb
            if self.gyro:                               # gyro first: reading the accel's last byte pops the slot
                self.i2c.readfrom_mem_into(self.addr, OUT_X_G, b6)
                for i in range(6):
                    buf[base + 6 + i] = b6[i]
            self.i2c.readfrom_mem_into(self.addr, OUT_X_XL, b6)
            for i in range(6):
                buf[base + i] = b6[i]
        return frames

    def to_g(self, raw, frames, out):
        """Frames (accel x, y, z little-endian int16 first in each) -> `out` (array('f'), 3 a frame) in g.
        (On ports that box floats each value is a short-lived float.)"""
        return frames_to_g(raw, frames, self.frame_bytes, self.lsb_per_g, out)

    # ---- wake on motion
    def wake_on_motion(self, threshold_mg=100, duration_samples=1, active_low=False):
        """Raise INT1_A/G (latched until clear_interrupt()) when an axis of the high-passed acceleration passes
        threshold_mg for duration_samples samples. Threshold steps are full scale / 256 (15.6 mg at 4 g)."""
        lsb_mg = self.accel_range_g * 1000 / 256
        ths = max(1, min(255, int(threshold_mg / lsb_mg + 0.5)))
        self.threshold_mg = ths * lsb_mg
        self._write8(INT1_CTRL, 0x00)
        for a in range(3):
            self._write8(INT_GEN_THS_X_XL + a, ths)
        self._write8(INT_GEN_DUR_XL, max(0, min(127, duration_samples)))
        self._write8(CTRL_REG7_XL, self._read8(CTRL_REG7_XL) | 0x01)      # HPIS1: no gravity in the interrupt
        self._write8(CTRL_REG4, self._read8(CTRL_REG4) | 0x02)            # LIR_XL1: latched
        self._write8(CTRL_REG8, (self._read8(CTRL_REG8) & ~0x20) | (0x20 if active_low else 0))
        self._write8(INT_GEN_CFG_XL, 0x2A)              # XHIE | YHIE | ZHIE, OR-combined
        self._read8(INT_GEN_SRC_XL)                     # start from a clear line
        self._write8(INT1_CTRL, 0x40)                   # INT1_IG_XL

    def clear_interrupt(self):
        """Read (and so clear) INT_GEN_SRC_XL; returns it (MOTION = 0x40 if motion was seen)."""
        return self._read8(INT_GEN_SRC_XL)

    def motion(self):
        """True if motion was seen since the last call (polling, for a board whose INT line is not wired)."""
        return bool(self._read8(INT_GEN_SRC_XL) & MOTION)
