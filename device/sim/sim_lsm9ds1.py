# A register-level model of ST's LSM9DS1 (the Arduino Nano 33 BLE Sense rev1's IMU) on the simulated I2C bus:
# the accelerometer/gyroscope at 0x6B and the magnetometer at 0x1E, two I2C devices as on the chip.
#
# Accel/gyro (register map of the LSM9DS1 datasheet): WHO_AM_I 0x0F = 0x68; CTRL_REG1_G 0x10 (ODR_G 7:5: 14.9,
# 59.5, 119, 238, 476, 952 Hz; FS_G 4:3: 245/500/-/2000 dps); CTRL_REG6_XL 0x20 (ODR_XL 7:5: 10, 50, 119, 238,
# 476, 952 Hz when the gyro is off, the gyro's ODR otherwise; FS_XL 4:3: +-2/16/4/8 g); CTRL_REG7_XL 0x21
# (HPIS1: the interrupt sees high-passed data); CTRL_REG8 0x22 (H_LACTIVE, IF_ADD_INC: bursts increment the
# address, SW_RESET); CTRL_REG9 0x23 (FIFO_EN); outputs OUT_X_G 0x18..0x1D and OUT_X_XL 0x28..0x2D,
# little-endian; the register address is 7 bits (micropython-lib's driver sets bit 7 on reads: ignored, as
# the chip does).
# FIFO: FIFO_CTRL 0x2E (FMODE 7:5: 0 bypass, 1 FIFO = stop when full, 6 continuous = the oldest go; FTH 4:0),
# FIFO_SRC 0x2F (FTH, OVRN, FSS 5:0 = unread samples). A slot holds one gyro and one accel sample; the slot
# is read from the output registers and popped when a read passes OUT_Z_H_XL (0x2D): gyro first, then accel,
# as micropython-lib's iter_accel_gyro() reads. Depth 32 slots (the datasheet's 32 levels; UNCONFIRMED).
# Interrupt: INT_GEN_CFG_XL 0x06 (AOI_XL: AND of the enabled axes, else OR; XHIE/YHIE/ZHIE), INT_GEN_THS_X/Y/Z
# _XL 0x07-0x09 (1 LSB = FS / 256: 128 output counts), INT_GEN_DUR_XL 0x0A (samples above the threshold
# before it fires), INT1_CTRL 0x0C (INT1_IG_XL, INT1_OVR, INT1_FTH) -> the INT1_A/G pin wired in the spec;
# INT_GEN_SRC_XL 0x26 (IA_XL and the axis bits; cleared by reading it when latched: CTRL_REG4 LIR_XL1).
# The chip's high-pass filter is stood in for by the difference from the previous sample (as for the MPU6050).
#
# Magnetometer: WHO_AM_I 0x0F = 0x3D, CTRL_REG1_M..5_M 0x20-0x24 writable, OUT_X_M 0x28..0x2D: a constant
# field from the spec ("field_gauss", default [0.2, 0, 0.4]) at FS +-4 gauss (6842 LSB/gauss); the bit 7
# of the address is the auto-increment flag, ignored here. Only what the frozen driver touches.
from sim_chip import Chip, clamp16, put16le

INT_GEN_CFG_XL = 0x06
INT_GEN_THS_X_XL = 0x07
INT_GEN_DUR_XL = 0x0A
INT1_CTRL = 0x0C
WHO_AM_I = 0x0F
CTRL_REG1_G = 0x10
OUT_X_G = 0x18
CTRL_REG4 = 0x1E
CTRL_REG5_XL = 0x1F
CTRL_REG6_XL = 0x20
CTRL_REG7_XL = 0x21
CTRL_REG8 = 0x22
CTRL_REG9 = 0x23
INT_GEN_SRC_XL = 0x26
STATUS_REG = 0x27
OUT_X_XL = 0x28
FIFO_CTRL = 0x2E
FIFO_SRC = 0x2F

ODR_G_HZ = (0, 14.9, 59.5, 119, 238, 476, 952)
ODR_XL_HZ = (0, 10, 50, 119, 238, 476, 952)
XL_FS_G = (2, 16, 4, 8)
G_FS_DPS = (245, 500, 500, 2000)       # code 2 is not used by the chip
DEPTH = 32
IA_XL = 0x40


class LSM9DS1(Chip):
    STATE = ("over", "src", "above", "prev", "slot")

    def power_on(self):
        self.regs[WHO_AM_I] = self.spec.get("who_am_i", 0x68)
        self.regs[CTRL_REG4] = 0x38
        self.regs[CTRL_REG5_XL] = 0x38
        self.regs[CTRL_REG8] = 0x04          # IF_ADD_INC
        self.fifo = bytearray()
        self.over = False                    # FIFO_SRC.OVRN
        self.src = 0                         # INT_GEN_SRC_XL
        self.above = 0                       # consecutive samples past the threshold (INT_GEN_DUR_XL)
        self.prev = None                     # previous accel sample in g (the stand-in high-pass filter)
        self.slot = [0] * 12                 # the newest gyro + accel sample (bytes of the output registers)

    def rate_hz(self):
        g = ODR_G_HZ[self.regs[CTRL_REG1_G] >> 5 & 7] if (self.regs[CTRL_REG1_G] >> 5) < 7 else 0
        if g:
            return g                         # the gyro on: both run at its rate
        code = self.regs[CTRL_REG6_XL] >> 5
        return ODR_XL_HZ[code] if code < 7 else 0

    def period_us(self):
        r = self.rate_hz()
        return int(1000000 / r) if r else None

    def fifo_mode(self):
        return self.regs[FIFO_CTRL] >> 5 if self.regs[CTRL_REG9] & 0x02 else 0

    def active_low(self):
        return bool(self.regs[CTRL_REG8] & 0x20)

    def sample(self, t):
        row = self.data.at(t)
        cols = self.data.cols
        fs_g = XL_FS_G[(self.regs[CTRL_REG6_XL] >> 3) & 3]
        fs_dps = G_FS_DPS[(self.regs[CTRL_REG1_G] >> 3) & 3]
        gyro_on = self.regs[CTRL_REG1_G] >> 5
        out = bytearray(12)
        for a in range(3):
            put16le(out, 2 * a, clamp16((row[3 + a] if cols >= 6 else 0.0) * 32768 / fs_dps) if gyro_on else 0)
            put16le(out, 6 + 2 * a, clamp16(row[a] * 32768 / fs_g))
        self.slot = list(out)
        self.regs[STATUS_REG] |= 0x01 | (0x02 if gyro_on else 0)
        if self.fifo_mode() in (1, 6):
            if len(self.fifo) >= 12 * DEPTH:
                if self.fifo_mode() == 1:
                    out = None                              # FIFO mode: stops when full
                else:
                    self.fifo = self.fifo[12:]              # continuous: the oldest goes
                    self.over = True
            if out is not None:
                self.fifo += out
        self._interrupt(row, fs_g)

    def _interrupt(self, row, fs_g):
        cfg = self.regs[INT_GEN_CFG_XL]
        hp = self.regs[CTRL_REG7_XL] & 0x01
        v = [row[0], row[1], row[2]]
        if hp:
            if self.prev is None:
                self.prev = v
                return
            d = [v[a] - self.prev[a] for a in range(3)]
            self.prev = v
        else:
            d = v
        hits = 0
        enabled = 0
        for a in range(3):
            if cfg & (0x02 << 2 * a):                       # XHIE, YHIE, ZHIE
                enabled |= 0x02 << 2 * a
                thr = self.regs[INT_GEN_THS_X_XL + a] * fs_g / 256
                if abs(d[a]) > thr:
                    hits |= 0x02 << 2 * a
        fired = (hits == enabled) if cfg & 0x80 else bool(hits)
        fired = fired and enabled
        latched = self.regs[CTRL_REG4] & 0x02
        if fired:
            self.above += 1
            if self.above >= max(1, self.regs[INT_GEN_DUR_XL] & 0x7F):
                self.src = (self.src if latched else 0) | IA_XL | hits
        else:
            self.above = 0
            if not latched:
                self.src = 0

    def _fifo_src(self):
        n = len(self.fifo) // 12
        fth = self.regs[FIFO_CTRL] & 0x1F
        return (0x80 if fth and n >= fth else 0) | (0x40 if self.over else 0) | min(n, 63)

    def int_asserted(self):
        route = self.regs[INT1_CTRL]
        if route & 0x40 and self.src & IA_XL:
            return True
        if route & 0x10 and self.over:
            return True
        fth = self.regs[FIFO_CTRL] & 0x1F
        return bool(route & 0x08 and fth and len(self.fifo) // 12 >= fth)

    def read_into(self, reg, buf, t):
        self.catch_up(t)
        reg &= 0x7F
        n = len(buf)
        inc = self.regs[CTRL_REG8] & 0x04
        fifo_on = self.fifo_mode() in (1, 6)
        head = None
        popped = False
        for i in range(n):
            r = (reg + i) & 0x7F if inc else reg
            if OUT_X_G <= r <= OUT_X_G + 5 or OUT_X_XL <= r <= OUT_X_XL + 5:
                if head is None:
                    head = self.fifo[0:12] if fifo_on and len(self.fifo) >= 12 else bytes(self.slot)
                buf[i] = head[r - OUT_X_G] if r < OUT_X_XL else head[6 + r - OUT_X_XL]
                if r == OUT_X_XL + 5 and fifo_on and len(self.fifo) >= 12:
                    self.fifo = self.fifo[12:]
                    head = None
                    popped = True
            elif r == FIFO_SRC:
                buf[i] = self._fifo_src()
            elif r == INT_GEN_SRC_XL:
                buf[i] = self.src
                if self.regs[CTRL_REG4] & 0x02:
                    self.src = 0                            # latched: cleared by reading it
            else:
                buf[i] = self.regs[r]
        if popped:
            self.over = False
            self.regs[STATUS_REG] &= ~0x03
        self.pointer = (reg + n) & 0x7F

    def auto_increment(self):
        return self.regs[CTRL_REG8] & 0x04

    def read_only(self, r):
        return r in (WHO_AM_I, INT_GEN_SRC_XL, STATUS_REG, FIFO_SRC) or OUT_X_G <= r <= OUT_X_G + 5 \
            or OUT_X_XL <= r <= OUT_X_XL + 5

    def is_reset(self, r, v):
        return r == CTRL_REG8 and v & 0x01                   # SW_RESET

    def written(self, r, old, v, t):
        if r in (CTRL_REG1_G, CTRL_REG6_XL) and old != v:
            self.restart(t)
        if r == FIFO_CTRL and (v >> 5) == 0:
            self.fifo = bytearray()                         # bypass mode empties the FIFO
            self.over = False
        if r == CTRL_REG9 and not v & 0x02:
            self.fifo = bytearray()
            self.over = False
        if r in (INT_GEN_CFG_XL, CTRL_REG7_XL):
            self.prev = None
            self.above = 0


class LSM9DS1Mag(Chip):
    """The LSM9DS1's magnetometer: identity, control registers, a constant field."""

    def power_on(self):
        self.regs[WHO_AM_I] = self.spec.get("who_am_i", 0x3D)
        field = self.spec.get("field_gauss", [0.2, 0.0, 0.4])
        out = bytearray(6)
        for a in range(3):
            put16le(out, 2 * a, clamp16(field[a] * 6842))
        self.regs[0x28:0x2E] = out

    def period_us(self):
        return None

    def read_into(self, reg, buf, t):
        reg &= 0x7F                                         # bit 7: auto-increment, always on here
        for i in range(len(buf)):
            buf[i] = self.regs[(reg + i) & 0x7F]
        self.pointer = (reg + len(buf)) & 0x7F

    def write(self, reg, data, t):
        reg &= 0x7F
        for i in range(len(data)):
            r = (reg + i) & 0x7F
            if 0x05 <= r <= 0x0A or 0x20 <= r <= 0x24:      # offsets and CTRL_REG1_M..5_M
                self.regs[r] = data[i]
        self.pointer = (reg + len(data)) & 0x7F
