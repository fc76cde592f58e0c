# InvenSense MPU6050 / MPU6500 6-axis IMU over machine.I2C: identity check, sample rate, FIFO readout into a
# caller's buffer (no allocation per read), and the wake-on-motion interrupt on its INT pin.
#
#   imu = MPU6050(I2C(0), rate_hz=50)
#   imu.fifo_start()                       # accel only: 6 bytes per frame, big-endian int16
#   n = imu.fifo_read(raw)                 # whole frames into raw (a bytearray), returns how many
#   imu.to_g(raw, n, window)               # frames -> array('f') of g
#   imu.wake_on_motion(threshold_mg=100)   # INT goes high on motion; wire it to a wake-capable pin
#
# Registers (MPU-6000/6050 register map; MPU6500 where it differs): sample rate = gyro output rate (8 kHz with
# the DLPF off, 1 kHz with it on) / (1 + SMPLRT_DIV); FIFO 1024 bytes (MPU6500: 512); motion threshold
# 1 LSB = 2 mg on the MPU6050 (MOT_THR), 4 mg on the MPU6500 (WOM_THR, with ACCEL_INTEL_CTRL).
from . import DeviceNotFound, Registers, describe_bus, frames_to_g

SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
LP_ACCEL_ODR = 0x1E     # MPU6500
MOT_THR = 0x1F
MOT_DUR = 0x20
FIFO_EN = 0x23
INT_PIN_CFG = 0x37
INT_ENABLE = 0x38
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B
ACCEL_INTEL_CTRL = 0x69  # MPU6500 (MOT_DETECT_CTRL on the MPU6050)
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
PWR_MGMT_2 = 0x6C
FIFO_COUNTH = 0x72
FIFO_R_W = 0x74
WHO_AM_I = 0x75

CHIPS = {0x68: "MPU6050", 0x70: "MPU6500", 0x71: "MPU9250", 0x73: "MPU9255"}
INT_MOTION = 0x40
INT_FIFO_OFLOW = 0x10
INT_DATA_RDY = 0x01
ACCEL_RANGES_G = (2, 4, 8, 16)
LP_WAKE_HZ = (1.25, 5, 20, 40)


class MPU6050(Registers):
    def __init__(self, i2c, addr=0x68, rate_hz=50, accel_range_g=2, pins=None):
        Registers.__init__(self, i2c, addr, pins)
        self._b2 = bytearray(2)
        self._frame = bytearray(12)
        self._frame6 = memoryview(self._frame)[0:6]
        self.fifo_overflows = 0
        self.frame_bytes = 6
        try:
            who = self._read8(WHO_AM_I)
        except OSError:
            where, seen = describe_bus(i2c, pins)
            raise DeviceNotFound("MPU6050 not answering at address 0x%02x on %s: check wiring, power and AD0 "
                                 "(0x68 when low, 0x69 when high); %s" % (addr, where, seen))
        if who not in CHIPS:
            where, _ = describe_bus(i2c, pins)
            raise DeviceNotFound("the chip at 0x%02x on %s is not an MPU6050/MPU6500: WHO_AM_I reads 0x%02x, "
                                 "expected 0x68 (MPU6050) or 0x70 (MPU6500)" % (addr, where, who))
        self.chip = CHIPS[who]
        self.fifo_size = 1024 if self.chip == "MPU6050" else 512
        self._write8(PWR_MGMT_1, 0x80)      # DEVICE_RESET
        self._write8(PWR_MGMT_1, 0x01)      # awake, clock from the X gyro PLL
        self.configure(rate_hz, accel_range_g)

    def __repr__(self):
        return "<%s at 0x%02x on %r, %g Hz>" % (self.chip, self.addr, self.i2c, self.rate_hz)

    # ---- register access (no allocation)
    # ---- configuration
    def configure(self, rate_hz, accel_range_g=2):
        """Sample rate (DLPF on: 1 kHz / (1 + divider), 4..1000 Hz) and the accelerometer range (2/4/8/16 g)."""
        if accel_range_g not in ACCEL_RANGES_G:
            raise ValueError("accel_range_g must be one of 2, 4, 8, 16")
        div = max(0, min(255, round(1000 / rate_hz) - 1))
        self.rate_hz = 1000 / (1 + div)
        self.accel_range_g = accel_range_g
        self.lsb_per_g = 32768 // accel_range_g
        self._write8(PWR_MGMT_1, 0x01)
        self._write8(PWR_MGMT_2, 0x00)
        self._write8(CONFIG, 0x01)          # DLPF_CFG=1 (184 Hz accel bandwidth): 1 kHz gyro output rate
        self._write8(SMPLRT_DIV, div)
        self._write8(ACCEL_CONFIG, ACCEL_RANGES_G.index(accel_range_g) << 3)
        self._write8(INT_ENABLE, 0x00)

    def read_accel_raw(self, buf6):
        """The latest sample: 6 bytes, big-endian int16 x, y, z."""
        self.i2c.readfrom_mem_into(self.addr, ACCEL_XOUT_H, buf6)

    # ---- FIFO
    def fifo_start(self, gyro=False):
        """Empty the FIFO and start filling it at the sample rate: accel (6 bytes a frame), + gyro (12)."""
        self.frame_bytes = 12 if gyro else 6
        self._write8(USER_CTRL, 0x00)
        self._write8(FIFO_EN, 0x08 | (0x70 if gyro else 0))
        self._write8(USER_CTRL, 0x04)       # FIFO_RESET
        self._read8(INT_STATUS)             # clear a stale overflow flag
        self._write8(USER_CTRL, 0x40)       # FIFO_EN

    def fifo_stop(self):
        self._write8(USER_CTRL, 0x00)
        self._write8(FIFO_EN, 0x00)

    def fifo_count(self):
        self.i2c.readfrom_mem_into(self.addr, FIFO_COUNTH, self._b2)
        return (self._b2[0] << 8) | self._b2[1]

    def fifo_read(self, buf, max_frames=None):
        """Read whole frames into `buf` (a bytearray or memoryview, frame_bytes per frame). Returns the number
        of frames read. If the FIFO overflowed, its frames have slipped (the chip overwrites the oldest bytes):
        it is counted in `fifo_overflows`, emptied and restarted, and 0 is returned."""
        status = self._read8(INT_STATUS)
        if status & INT_FIFO_OFLOW:
            self.fifo_overflows += 1
            self._write8(USER_CTRL, 0x44)   # FIFO_RESET, keep it enabled
            return 0
        fb = self.frame_bytes
        frames = min(self.fifo_count(), len(buf)) // fb
        if max_frames is not None and frames > max_frames:
            frames = max_frames
        if frames and frames * fb == len(buf):
            self.i2c.readfrom_mem_into(self.addr, FIFO_R_W, buf)     # one burst fills the whole buffer
        elif frames:
            # Part of the buffer: a frame per burst through a buffer made once (a slice of `buf` would be a new
            # memoryview, allocated on every read).
            fr = self._frame if fb == 12 else self._frame6
            for f in range(frames):
                self.i2c.readfrom_mem_into(self.addr, FIFO_R_W, fr)
                base = f * fb
                for i in range(fb):
                    buf[base + i] = fr[i]
        return frames

    def to_g(self, raw, frames, out):
        """Accel frames (big-endian int16, as the FIFO gives them) -> `out` (array('f'), 3 values a frame) in g.
        (On ports that box floats this makes one short-lived float per value.)"""
        return frames_to_g(raw, frames, self.frame_bytes, self.lsb_per_g, out, big_endian=True)

    # ---- wake on motion
    def wake_on_motion(self, threshold_mg=100, duration_ms=1, active_low=False, cycle_hz=20):
        """Raise INT (latched until read) when any axis moves by more than threshold_mg. With cycle_hz (1.25,
        5, 20 or 40) the chip sleeps between accel samples and the gyros stand by (a few uA instead of mA)."""
        self.fifo_stop()
        self._write8(PWR_MGMT_1, 0x01)
        self._write8(ACCEL_CONFIG, (ACCEL_RANGES_G.index(self.accel_range_g) << 3) | 0x01)  # HPF 5 Hz
        self._write8(INT_PIN_CFG, 0x20 | (0x80 if active_low else 0))    # LATCH_INT_EN, cleared by reading INT_STATUS
        if self.chip == "MPU6050":
            self._write8(MOT_THR, max(1, min(255, threshold_mg // 2)))
            self._write8(MOT_DUR, max(1, min(255, duration_ms)))
        else:
            self._write8(MOT_THR, max(1, min(255, threshold_mg // 4)))   # WOM_THR
            self._write8(ACCEL_INTEL_CTRL, 0xC0)
        self._write8(INT_ENABLE, INT_MOTION)
        self._read8(INT_STATUS)             # start from a clear INT line
        if cycle_hz:
            if cycle_hz not in LP_WAKE_HZ:
                raise ValueError("cycle_hz must be one of 1.25, 5, 20, 40")
            self._write8(PWR_MGMT_2, (LP_WAKE_HZ.index(cycle_hz) << 6) | 0x07)
            self._write8(PWR_MGMT_1, 0x28)  # CYCLE, temperature sensor off

    def clear_interrupt(self):
        """Read (and so clear) INT_STATUS; returns it (INT_MOTION = 0x40 if motion was seen)."""
        return self._read8(INT_STATUS)

    def sleep(self):
        self._write8(PWR_MGMT_1, 0x40)
