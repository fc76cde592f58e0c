# Panasonic AMG8833 (Grid-EYE) 8x8 thermal array over machine.I2C: a frame of 64 pixels into a caller's buffer,
# the thermistor, the frame rate, and degrees C.
#
#   cam = AMG8833(I2C(0))                   # 0x69 (AD_SELECT high, most breakouts) or 0x68
#   raw = bytearray(128); t = array("f", bytes(256))
#   cam.read_frame(raw)                     # one I2C read of the 64 pixels (12-bit, little-endian)
#   cam.to_celsius(raw, t)                  # -> 64 floats, row by row
#
# Registers (Grid-EYE datasheet / specification): PCTL 0x00 (0x00 normal, 0x10 sleep), RST 0x01 (0x3F initial
# reset, 0x30 flag reset), FPSC 0x02 (0: 10 fps, 1: 1 fps), thermistor TTHL/TTHH 0x0E/0x0F (12-bit sign and
# magnitude, 0.0625 degC/LSB), pixels 0x80..0xFF (12-bit two's complement, 0.25 degC/LSB). The chip has no
# identity register: a thermistor reading outside -20..80 degC (its operating range) is taken as "not an
# AMG8833" (or a broken one).
import time

from . import DeviceNotFound, Registers, describe_bus

PCTL, RST, FPSC, TTHL, PIXELS = 0x00, 0x01, 0x02, 0x0E, 0x80


class AMG8833(Registers):
    def __init__(self, i2c, addr=0x69, fps=10, pins=None):
        Registers.__init__(self, i2c, addr, pins)
        self._b2 = bytearray(2)
        try:
            self._write8(PCTL, 0x00)            # normal mode
            self._write8(RST, 0x3F)             # initial reset
        except OSError:
            where, seen = describe_bus(i2c, pins)
            raise DeviceNotFound("AMG8833 not answering at address 0x%02x on %s: check wiring, power and "
                                 "AD_SELECT (0x69 when high, 0x68 when low); %s" % (addr, where, seen))
        t = self.thermistor()
        if not -20 <= t <= 80:
            where, _ = describe_bus(i2c, pins)
            raise DeviceNotFound("the chip at 0x%02x on %s does not read like an AMG8833: its thermistor "
                                 "register says %.1f degC (the AMG8833 has no ID register; expected -20..80)"
                                 % (addr, where, t))
        self.chip = "AMG8833"
        self.set_fps(fps)

    def __repr__(self):
        return "<AMG8833 at 0x%02x on %r, %d fps>" % (self.addr, self.i2c, self.fps)

    def set_fps(self, fps):
        if fps not in (1, 10):
            raise ValueError("fps must be 1 or 10")
        self.fps = fps
        self.frame_ms = 1000 // fps
        self._write8(FPSC, 1 if fps == 1 else 0)

    def thermistor(self):
        """The chip's own temperature in degC (a float)."""
        self.i2c.readfrom_mem_into(self.addr, TTHL, self._b2)
        v = self._b2[0] | ((self._b2[1] & 0x07) << 8)
        return -v * 0.0625 if self._b2[1] & 0x08 else v * 0.0625

    def read_frame(self, buf):
        """The latest frame: 128 bytes (64 pixels, little-endian 12-bit) into `buf`, in one read."""
        self.i2c.readfrom_mem_into(self.addr, PIXELS, buf)

    def to_celsius(self, raw, out):
        """128 raw bytes -> `out` (array('f') of 64) in degC. Returns the hottest pixel's value."""
        hot = -999.0
        for i in range(64):
            v = raw[2 * i] | ((raw[2 * i + 1] & 0x0F) << 8)
            if v & 0x800:
                v -= 0x1000
            c = v * 0.25
            out[i] = c
            if c > hot:
                hot = c
        return hot

    def sleep(self):
        self._write8(PCTL, 0x10)

    def wake(self):
        """Back to normal mode. The datasheet asks for about 50 ms, then a reset, then two frames before the
        pixels are valid: this waits that long."""
        self._write8(PCTL, 0x00)
        time.sleep_ms(50)
        self._write8(RST, 0x3F)
        time.sleep_ms(2 * self.frame_ms + 10)
