# A register-level model of the Panasonic AMG8833 (Grid-EYE) 8x8 thermal array on the simulated I2C bus.
#
# Modelled: PCTL 0x00 (0x00 normal; sleep 0x10 and the standby modes stop the frames), RST 0x01 (0x3F initial
# reset: registers to their defaults; 0x30 flag reset), FPSC 0x02 (bit 0: 1 fps, else 10 fps), INTC/AVE and the
# other setting registers (stored), STAT 0x04 / SCLR 0x05, the thermistor TTHL/TTHH 0x0E/0x0F (12-bit sign and
# magnitude, 0.0625 degC/LSB) and the 64 pixels 0x80..0xFF (12-bit two's complement, 0.25 degC/LSB, little-
# endian, row by row). A frame is the stream's row at the frame's time (64 values in degC); without a stream,
# every pixel reads `background_c`. The chip has no identity register.
from sim_chip import Chip, put16le

PCTL, RST, FPSC, STAT, SCLR, TTHL, PIXELS = 0x00, 0x01, 0x02, 0x04, 0x05, 0x0E, 0x80


class AMG8833(Chip):
    NREGS = 256
    STATE = ("frames",)

    def power_on(self):
        self.regs = bytearray(256)
        self.frames = 0
        th = self.spec.get("thermistor_c", 25.0)
        raw = int(abs(th) / 0.0625 + 0.5) & 0x7FF
        if th < 0:
            raw |= 0x800
        put16le(self.regs, TTHL, raw)
        bg = int(self.spec.get("background_c", 22.0) / 0.25)
        for i in range(64):
            put16le(self.regs, PIXELS + 2 * i, bg & 0xFFF)

    def period_us(self):
        if self.regs[PCTL] != 0x00:
            return None
        return 1000000 if self.regs[FPSC] & 1 else 100000

    def sample(self, t):
        row = self.data.at(t)
        for i in range(64):
            v = int(row[i] / 0.25)                      # 12-bit two's complement, 0.25 degC
            v = -2048 if v < -2048 else 2047 if v > 2047 else v
            put16le(self.regs, PIXELS + 2 * i, v & 0xFFF)
        self.frames += 1

    def read_into(self, reg, buf, t):
        self.catch_up(t)
        n = len(buf)
        for i in range(n):
            buf[i] = self.regs[(reg + i) & 0xFF]
        self.pointer = (reg + n) & 0xFF

    def write(self, reg, data, t):
        self.catch_up(t)
        for i in range(len(data)):
            r = (reg + i) & 0xFF
            v = data[i]
            if r == RST:
                if v == 0x3F:
                    keep = self.regs[PCTL]
                    self.power_on()
                    self.regs[PCTL] = keep
                self.regs[STAT] = 0
                continue
            if r == SCLR:
                self.regs[STAT] &= ~v
                continue
            if r >= TTHL and r != 0x1F:                 # read-only: thermistor, interrupt table, pixels
                continue
            old = self.regs[r]
            self.regs[r] = v
            if r in (PCTL, FPSC) and old != v:
                self.restart(t)
        self.pointer = (reg + len(data)) & 0xFF
