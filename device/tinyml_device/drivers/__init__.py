# Sensor drivers over machine.I2C. Each one checks the chip's identity at construction and names the bus,
# address and pins when the chip does not answer.


class DeviceNotFound(OSError):
    """The chip did not answer on the bus (or answered as another chip)."""



class Registers:
    """A chip's 8-bit registers on machine.I2C, through a 1-byte buffer made once: reading or writing one
    allocates nothing. Every I2C sensor driver here builds on it (it also keeps the bus, address and pins
    that error messages name)."""

    def __init__(self, i2c, addr, pins=None):
        self.i2c = i2c
        self.addr = addr
        self.pins = pins
        self._b1 = bytearray(1)

    def _read8(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._b1)
        return self._b1[0]

    def _write8(self, reg, value):
        self._b1[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._b1)

def describe_bus(i2c, pins=None):
    """'I2C(0, scl=18, sda=19, freq=400000)' (the port's repr names the pins on esp32 and rp2; elsewhere pass
    pins=(scl, sda) to the driver) and what answers on the bus."""
    where = repr(i2c)
    if pins is not None:
        where += " (scl=%s, sda=%s)" % pins
    try:
        found = i2c.scan()
        seen = ", ".join("0x%02x" % a for a in found) if found else "no device answers on this bus"
    except OSError:
        seen = "the bus scan failed"
    return where, seen


def frames_to_g(raw, frames, frame_bytes, lsb_per_g, out, big_endian=False):
    """IMU frames whose first 6 bytes are accel x, y, z as int16 (little-endian, or big-endian as the MPU6050's
    FIFO gives them) -> `out` (array('f'), 3 values a frame) in g; returns the values written. Every IMU
    driver's to_g(). (On ports that box floats each value is a short-lived float.)"""
    k = 1.0 / lsb_per_g
    hi, lo = (0, 1) if big_endian else (1, 0)
    j = 0
    for f in range(frames):
        base = f * frame_bytes
        for a in range(3):
            v = (raw[base + 2 * a + hi] << 8) | raw[base + 2 * a + lo]
            if v & 0x8000:
                v -= 0x10000
            out[j] = v * k
            j += 1
    return j


def pick_rate(rates, rate_hz, ranges, accel_range_g):
    """An IMU driver's configure(): (ODR code (1-based) of the first rate in `rates` at or above rate_hz, that
    rate, the counts per g of the accel range), the range checked against `ranges` (2/4/8/16 g)."""
    if accel_range_g not in ranges:
        raise ValueError("accel_range_g must be one of 2, 4, 8, 16")
    code = 1
    while code < len(rates) and rates[code - 1] < rate_hz:
        code += 1
    return code, rates[code - 1], 32768 // accel_range_g
