# What the register models of I2C sensor chips on unix-sim share (LSM6DS3/LSM6DSOX, ADXL345, AMG8833; the
# MPU6050 model predates it): a register file, a sample schedule in absolute virtual time that catches up when
# the program touches the chip (or the board wakes), state carried across deep sleep, and an INT pin.
#
# A subclass sets NREGS, defines power_on() (registers at power-on), period_us() (None: not sampling),
# sample(t) (one sample at absolute time t), int_asserted(), read_into, and the register side effects of writes
# (written(), with read_only(), is_reset() and auto_increment()) or a write of its own.


def clamp16(v):
    v = int(v)
    return -32768 if v < -32768 else 32767 if v > 32767 else v


def put16le(buf, i, v):
    v &= 0xFFFF
    buf[i] = v & 0xFF
    buf[i + 1] = v >> 8


class Chip:
    NREGS = 128
    STATE = ()                      # extra attributes saved across deep sleep (JSON-able)

    def __init__(self, spec, data):
        self.kind = spec["type"]
        self.spec = spec
        self.addr = spec["addr"]
        self.bus_pins = tuple(spec["bus_pins"])
        self.int_pin = spec.get("int_pin")
        self.data = data
        self.pointer = 0
        saved = spec.get("state")
        if saved:
            self.regs = bytearray(bytes.fromhex(saved["regs"]))
            self.fifo = bytearray(bytes.fromhex(saved["fifo"]))
            self.next_sample_us = saved["next_sample_us"]
            for k in self.STATE:
                setattr(self, k, saved[k])
        else:
            self.regs = bytearray(self.NREGS)
            self.fifo = bytearray()
            self.next_sample_us = None
            self.power_on()

    def save(self):
        spec = dict(self.spec)
        st = {"regs": bytes(self.regs).hex(), "fifo": bytes(self.fifo).hex(), "next_sample_us": self.next_sample_us}
        for k in self.STATE:
            st[k] = getattr(self, k)
        spec["state"] = st
        return spec

    # ---- the sample schedule
    def restart(self, t):
        """Registers changed the rate or the power state at absolute time t."""
        self.next_sample_us = t if self.period_us() else None

    def catch_up(self, t):
        period = self.period_us()
        if not period or self.data is None:
            self.next_sample_us = None
            return
        if self.next_sample_us is None:
            self.next_sample_us = t
            return
        # Past the end of the data nothing changes but the FIFO fills: skip ahead, keeping enough samples to
        # fill the FIFO (and overflow it) as the chip would.
        end = self.data.end_us() + period
        if self.next_sample_us > end and t - self.next_sample_us > 4 * period:
            skip = (t - self.next_sample_us) // period - self.keep_samples()
            if skip > 0:
                self.next_sample_us += skip * period
        while self.next_sample_us <= t:
            self.sample(self.next_sample_us)
            self.next_sample_us += period

    def keep_samples(self):
        return 2

    # ---- register writes
    ADDR_MASK = 0x7F                # register addresses wrap within this

    def write(self, reg, data, t):
        """A write of `data` from register `reg` on: the address advances per byte when auto_increment(); writes
        to read_only() registers are dropped; a byte is_reset() restores the power-on registers; any other
        lands in the register file, then written() applies its side effects."""
        self.catch_up(t)
        reg &= self.ADDR_MASK
        inc = self.auto_increment()
        for i, v in enumerate(data):
            r = (reg + i) & self.ADDR_MASK if inc else reg
            if self.read_only(r):
                continue
            if self.is_reset(r, v):
                self.regs = bytearray(self.NREGS)
                self.power_on()
                self.restart(t)
                continue
            old = self.regs[r]
            self.regs[r] = v
            self.written(r, old, v, t)
        self.pointer = (reg + len(data)) & self.ADDR_MASK

    def auto_increment(self):
        return True

    def read_only(self, r):
        return False

    def is_reset(self, r, v):
        return False

    def written(self, r, old, v, t):
        """Side effects of register r changed from old to v at time t."""

    # ---- the INT pin (active high unless active_low())
    def active_low(self):
        return False

    def pin_level(self, t):
        self.catch_up(t)
        on = self.int_asserted()
        return (0 if on else 1) if self.active_low() else (1 if on else 0)

    def next_level(self, t, level):
        self.catch_up(t)
        if self.pin_level(t) == level:
            return t
        period = self.period_us()
        if self.data is None or not period:
            return None
        end = self.data.end_us() + 1000000
        while self.next_sample_us <= end:
            s = self.next_sample_us
            self.sample(s)
            self.next_sample_us += period
            if self.pin_level(s) == level:
                return s
        return None

    def int_asserted(self):
        return False
