# A register-level model of the Analog Devices ADXL345 3-axis accelerometer on the simulated I2C bus.
#
# Modelled: DEVID (0xE5); BW_RATE (rate = 3200 Hz / 2^(15 - code)); POWER_CTL.Measure (standby until set);
# DATA_FORMAT (range, FULL_RES: 256 LSB/g at every range; 10-bit: 256 LSB/g at +-2 g down to 32 at +-16 g;
# INT_INVERT); DATAX0..DATAZ1 little-endian; the 32-level FIFO (FIFO_CTL: bypass, FIFO = stop when full,
# stream = keep the newest 32, trigger treated as stream), popped one entry per read of the data registers,
# FIFO_STATUS entries; INT_SOURCE (DATA_READY, Activity, Watermark, Overrun), INT_ENABLE, INT_MAP (0 = INT1,
# the pin wired in the spec); activity detection (THRESH_ACT 62.5 mg/LSB, ACT_INACT_CTL axes, dc- or
# ac-coupled against the first sample after it was enabled), cleared by reading INT_SOURCE.
from sim_chip import Chip, clamp16, put16le

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

DATA_READY, ACTIVITY, WATERMARK, OVERRUN = 0x80, 0x10, 0x02, 0x01


class ADXL345(Chip):
    ADDR_MASK = 0x3F
    NREGS = 64
    STATE = ("latched", "ref", "out")

    def power_on(self):
        self.regs[DEVID] = self.spec.get("who_am_i", 0xE5)
        self.regs[BW_RATE] = 0x0A
        self.fifo = bytearray()
        self.latched = 0            # INT_SOURCE bits cleared by reading it (activity)
        self.ref = None             # ac-coupled activity reference
        self.out = [0] * 6          # the latest sample (bytes of DATAX0..DATAZ1)

    def period_us(self):
        if not self.regs[POWER_CTL] & 0x08:
            return None
        return int(1000000 * (1 << (15 - (self.regs[BW_RATE] & 0x0F))) / 3200)

    def active_low(self):
        return bool(self.regs[DATA_FORMAT] & 0x20)

    def mode(self):
        return self.regs[FIFO_CTL] >> 6

    def sample(self, t):
        row = self.data.at(t)
        fmt = self.regs[DATA_FORMAT]
        rng = fmt & 3
        if fmt & 0x08:
            lsb, lim = 256, 256 << (rng + 1)
        else:
            lsb, lim = 256 >> rng, 512
        out = bytearray(6)
        for a in range(3):
            v = clamp16(row[a] * lsb)
            v = -lim if v < -lim else lim - 1 if v > lim - 1 else v
            put16le(out, 2 * a, v)
        self.out = list(out)
        if self.mode():
            self.fifo += out
            if len(self.fifo) > 32 * 6:
                if self.mode() == 1:                    # FIFO mode: full, the new sample is not kept
                    self.fifo = self.fifo[:32 * 6]
                else:                                   # stream: the oldest goes
                    self.fifo = self.fifo[6:]
                self.latched |= OVERRUN
        # activity
        ctl = self.regs[ACT_INACT_CTL]
        if self.regs[INT_ENABLE] & ACTIVITY and ctl & 0x70:
            thr = self.regs[THRESH_ACT] * 0.0625
            if ctl & 0x80 and self.ref is None:
                self.ref = [row[0], row[1], row[2]]
            else:
                for a in range(3):
                    if ctl & (0x40 >> a):
                        v = row[a] - self.ref[a] if ctl & 0x80 else row[a]
                        if abs(v) > thr and thr > 0:
                            self.latched |= ACTIVITY
        else:
            self.ref = None

    def source(self):
        s = self.latched & (ACTIVITY | OVERRUN)
        if self.mode():
            n = len(self.fifo) // 6
            if n:
                s |= DATA_READY
            if n >= (self.regs[FIFO_CTL] & 0x1F) and self.regs[FIFO_CTL] & 0x1F:
                s |= WATERMARK
        elif self.next_sample_us is not None:
            s |= DATA_READY
        return s

    def int_asserted(self):
        return bool(self.source() & self.regs[INT_ENABLE] & ~self.regs[INT_MAP])

    def read_into(self, reg, buf, t):
        self.catch_up(t)
        n = len(buf)
        pop = DATAX0 <= reg <= DATAX0 + 5 < reg + n      # the read reached DATAZ1: one entry popped
        head = self.fifo[0:6] if self.mode() and self.fifo else bytes(self.out)
        src = self.source()
        for i in range(n):
            r = (reg + i) & 0x3F
            if DATAX0 <= r <= DATAX0 + 5:
                buf[i] = head[r - DATAX0]
            elif r == INT_SOURCE:
                buf[i] = src
            elif r == FIFO_STATUS:
                buf[i] = min(32, len(self.fifo) // 6)
            else:
                buf[i] = self.regs[r]
        if reg <= INT_SOURCE < reg + n:
            self.latched &= ~ACTIVITY
        if pop:
            if self.mode() and self.fifo:
                self.fifo = self.fifo[6:]
            self.latched &= ~OVERRUN
        self.pointer = (reg + n) & 0x3F

    def read_only(self, r):
        return r in (DEVID, INT_SOURCE, FIFO_STATUS) or DATAX0 <= r <= DATAX0 + 5

    def written(self, r, old, v, t):
        if r == FIFO_CTL and (v >> 6) != (old >> 6):
            self.fifo = bytearray()                 # a mode change empties the FIFO
            self.latched &= ~OVERRUN
        if r in (POWER_CTL, BW_RATE) and old != v:
            self.restart(t)
        if r in (INT_ENABLE, ACT_INACT_CTL):
            self.ref = None
