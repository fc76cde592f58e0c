# A register-level model of the InvenSense MPU6050 (and MPU6500, which differs in WHO_AM_I and FIFO size) on the
# simulated I2C bus. It samples the data stream at the rate the registers configure, in virtual time, and fills
# the FIFO and raises the motion interrupt as the chip does.
#
# Modelled: WHO_AM_I; PWR_MGMT_1 (DEVICE_RESET, SLEEP, CYCLE) and PWR_MGMT_2 (LP_WAKE_CTRL, the cycle-mode rate);
# SMPLRT_DIV and CONFIG.DLPF_CFG (sample rate = 8 kHz with the DLPF off or 1 kHz with it on, / (1 + SMPLRT_DIV));
# ACCEL_CONFIG/GYRO_CONFIG full-scale ranges; the output registers 0x3B..0x48; FIFO_EN, USER_CTRL (FIFO_EN,
# FIFO_RESET), FIFO_COUNTH/L, FIFO_R_W, with the FIFO order of the chip (accel, temp, gyro x, y, z) and its
# overflow (the oldest bytes are overwritten, so frames slip: the INT_STATUS FIFO_OFLOW bit tells);
# motion detection: MOT_THR (1 LSB = 2 mg), MOT_DUR (1 LSB = 1 ms), INT_ENABLE.MOT_EN, INT_STATUS.MOT_INT
# (cleared by reading INT_STATUS), INT_PIN_CFG (active-low, latched) driving the INT pin.
# Simplification: the chip's high-pass filter is stood in for by the difference from the previous sample.
import array

SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
MOT_THR = 0x1F
MOT_DUR = 0x20
FIFO_EN = 0x23
INT_PIN_CFG = 0x37
INT_ENABLE = 0x38
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
PWR_MGMT_2 = 0x6C
FIFO_COUNTH = 0x72
FIFO_COUNTL = 0x73
FIFO_R_W = 0x74
WHO_AM_I = 0x75

LP_WAKE_HZ = (1.25, 5, 20, 40)
ACCEL_LSB_PER_G = (16384, 8192, 4096, 2048)
GYRO_LSB_PER_DPS = (131.0, 65.5, 32.8, 16.4)


def _clamp16(v):
    v = int(v)
    return -32768 if v < -32768 else 32767 if v > 32767 else v


class MPU6050:
    def __init__(self, spec, data):
        self.kind = spec["type"]
        self.addr = spec.get("addr", 0x68)
        self.bus_pins = tuple(spec["bus_pins"])
        self.int_pin = spec.get("int_pin")
        self.who_am_i = spec.get("who_am_i", 0x70 if self.kind == "mpu6500" else 0x68)
        self.fifo_size = 512 if self.kind == "mpu6500" else 1024
        self.data = data
        self.pointer = 0
        saved = spec.get("state")
        if saved:
            self.regs = bytearray(bytes.fromhex(saved["regs"]))
            self.fifo = bytearray(bytes.fromhex(saved["fifo"]))
            self.next_sample_us = saved["next_sample_us"]
            self.prev = saved["prev"]
            self.over = saved["over"]
        else:
            self.power_on()

    def power_on(self):
        self.regs = bytearray(128)
        self.regs[PWR_MGMT_1] = 0x40        # SLEEP after power-on
        self.regs[WHO_AM_I] = self.who_am_i
        self.fifo = bytearray()
        self.next_sample_us = None          # absolute time of the next internal sample (None: asleep)
        self.prev = None                    # previous accel sample in g, for motion detection
        self.over = 0                       # consecutive samples above the motion threshold

    def save(self):
        return {"type": self.kind, "addr": self.addr, "bus_pins": list(self.bus_pins), "int_pin": self.int_pin,
                "who_am_i": self.who_am_i,
                "state": {"regs": bytes(self.regs).hex(), "fifo": bytes(self.fifo).hex(),
                          "next_sample_us": self.next_sample_us, "prev": self.prev, "over": self.over}}

    # ---- timing
    def _asleep(self):
        return bool(self.regs[PWR_MGMT_1] & 0x40)

    def rate_hz(self):
        if self.regs[PWR_MGMT_1] & 0x20:                # CYCLE: low-power accel-only wake-ups
            return LP_WAKE_HZ[self.regs[PWR_MGMT_2] >> 6]
        dlpf = self.regs[CONFIG] & 7
        base = 8000 if dlpf in (0, 7) else 1000
        return base / (1 + self.regs[SMPLRT_DIV])

    def _period_us(self):
        return int(1000000 / self.rate_hz())

    def catch_up(self, t):
        """Take every sample due up to absolute time t."""
        if self._asleep() or self.data is None:
            self.next_sample_us = None
            return
        if self.next_sample_us is None:
            self.next_sample_us = t
            return
        period = self._period_us()
        # Past the end of the data every sample is the last row again: skip the samples that cannot change
        # anything (a long timer sleep would otherwise cost one Python loop per sample). Keep enough to fill
        # the FIFO, and flag its overflow as the chip would.
        end = self.data.end_us() + period
        if self.next_sample_us > end and t - self.next_sample_us > 4 * period:
            skip = (t - self.next_sample_us) // period - 2
            if self.regs[USER_CTRL] & 0x40:
                keep = self.fifo_size // 2 + 1
                if skip > keep:
                    self.regs[INT_STATUS] |= 0x10
                    skip -= keep
                else:
                    skip = 0
            self.next_sample_us += skip * period
        while self.next_sample_us <= t:
            self._sample(self.next_sample_us)
            self.next_sample_us += period

    def _sample(self, t):
        row = self.data.at(t)
        fs_a = ACCEL_LSB_PER_G[(self.regs[ACCEL_CONFIG] >> 3) & 3]
        fs_g = GYRO_LSB_PER_DPS[(self.regs[GYRO_CONFIG] >> 3) & 3]
        cols = self.data.cols
        ax, ay, az = row[0], row[1], row[2]
        gx = row[3] if cols >= 6 else 0.0
        gy = row[4] if cols >= 6 else 0.0
        gz = row[5] if cols >= 6 else 0.0
        vals = (_clamp16(ax * fs_a), _clamp16(ay * fs_a), _clamp16(az * fs_a), 0,
                _clamp16(gx * fs_g), _clamp16(gy * fs_g), _clamp16(gz * fs_g))
        out = bytearray(14)
        for i in range(7):
            v = vals[i] & 0xFFFF
            out[2 * i] = v >> 8
            out[2 * i + 1] = v & 0xFF
        self.regs[ACCEL_XOUT_H:ACCEL_XOUT_H + 14] = out
        self.regs[INT_STATUS] |= 0x01                      # DATA_RDY
        # FIFO: enabled in USER_CTRL, contents chosen by FIFO_EN (TEMP 0x80, XG 0x40, YG 0x20, ZG 0x10, ACCEL 0x08)
        if self.regs[USER_CTRL] & 0x40 and not self.regs[PWR_MGMT_1] & 0x20:
            sel = self.regs[FIFO_EN]
            if sel & 0x08:
                self.fifo += out[0:6]
            if sel & 0x80:
                self.fifo += out[6:8]
            if sel & 0x40:
                self.fifo += out[8:10]
            if sel & 0x20:
                self.fifo += out[10:12]
            if sel & 0x10:
                self.fifo += out[12:14]
            if len(self.fifo) > self.fifo_size:
                self.fifo = self.fifo[len(self.fifo) - self.fifo_size:]
                self.regs[INT_STATUS] |= 0x10              # FIFO_OFLOW
        # motion detection
        if self.prev is not None and self.regs[INT_ENABLE] & 0x40:
            thr = self.regs[MOT_THR] * (0.004 if self.kind == "mpu6500" else 0.002)
            moved = (abs(ax - self.prev[0]) > thr or abs(ay - self.prev[1]) > thr
                     or abs(az - self.prev[2]) > thr)
            self.over = self.over + 1 if moved else 0
            need = max(1, (self.regs[MOT_DUR] * self.rate_hz() + 999) // 1000)
            if self.over >= need:
                self.regs[INT_STATUS] |= 0x40              # MOT_INT
        self.prev = [ax, ay, az]

    # ---- the INT pin
    def _int_asserted(self):
        return bool(self.regs[INT_STATUS] & self.regs[INT_ENABLE] & 0x51)

    def pin_level(self, t):
        self.catch_up(t)
        active_low = self.regs[INT_PIN_CFG] & 0x80
        on = self._int_asserted()
        return (0 if on else 1) if active_low else (1 if on else 0)

    def next_level(self, t, level):
        """The first absolute time >= t at which the INT pin reads `level`, or None if it never will before the
        data ends (the motion interrupt is what can change it while the MCU sleeps)."""
        self.catch_up(t)
        if self.pin_level(t) == level:
            return t
        if self.data is None or self._asleep() or not self.regs[INT_ENABLE] & 0x40:
            return None
        end = self.data.end_us() + 1000000
        period = self._period_us()
        while self.next_sample_us <= end:
            s = self.next_sample_us
            self._sample(s)
            self.next_sample_us += period
            if self.pin_level(s) == level:
                return s
        return None

    # ---- register access
    def read_into(self, reg, buf, t):
        self.catch_up(t)
        n = len(buf)
        if reg == FIFO_R_W:
            take = min(n, len(self.fifo))
            buf[0:take] = self.fifo[0:take]
            for i in range(take, n):
                buf[i] = 0xFF                      # reading an empty FIFO
            self.fifo = self.fifo[take:]
            return
        for i in range(n):
            r = (reg + i) & 0x7F
            if r == FIFO_COUNTH:
                buf[i] = len(self.fifo) >> 8
            elif r == FIFO_COUNTL:
                buf[i] = len(self.fifo) & 0xFF
            else:
                buf[i] = self.regs[r]
        if reg <= INT_STATUS < reg + n:
            self.regs[INT_STATUS] = 0               # read to clear
        self.pointer = (reg + n) & 0x7F

    def write(self, reg, data, t):
        self.catch_up(t)
        for i in range(len(data)):
            r = (reg + i) & 0x7F
            v = data[i]
            if r == WHO_AM_I or r == INT_STATUS:
                continue                            # read-only
            if r == PWR_MGMT_1 and v & 0x80:        # DEVICE_RESET
                self.power_on()
                continue
            if r == USER_CTRL and v & 0x04:         # FIFO_RESET (self-clearing)
                self.fifo = bytearray()
                v &= ~0x04
            if r == FIFO_R_W:
                continue
            was_asleep = self._asleep()
            self.regs[r] = v
            if r in (PWR_MGMT_1, SMPLRT_DIV, CONFIG, PWR_MGMT_2):
                if was_asleep and not self._asleep():
                    self.next_sample_us = t         # starts sampling now
                elif self._asleep():
                    self.next_sample_us = None
        self.pointer = (reg + len(data)) & 0x7F
