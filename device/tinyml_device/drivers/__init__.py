# Sensor drivers over machine.I2C. Each one checks the chip's identity at construction and names the bus,
# address and pins when the chip does not answer.


class DeviceNotFound(OSError):
    """The chip did not answer on the bus (or answered as another chip)."""


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
