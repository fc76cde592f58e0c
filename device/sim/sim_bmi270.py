# A register-level model of Bosch's BMI270 (the Arduino Nano 33 BLE Sense rev2's IMU) on the simulated I2C bus.
#
# Modelled (BMI270 datasheet register map):
# - CHIP_ID 0x00 = 0x24; CMD 0x7E (0xB6 soft reset: back to power-on, config lost; 0xB0 FIFO flush);
#   PWR_CONF 0x7C (adv_power_save; power-on 0x03), PWR_CTRL 0x7D (acc_en bit 2, gyr_en bit 1).
# - The config load every driver does at init: INIT_CTRL 0x59 = 0, the 8 KB config file written in bursts to
#   INIT_DATA 0x5E at the word address INIT_ADDR_0 0x5B (bits 3:0) / INIT_ADDR_1 0x5C (bits 11:4), INIT_CTRL
#   = 1. INTERNAL_STATUS 0x21 then reads 0x01 (init_ok) if all 8192 bytes arrived, else 0x02 (init_err). The
#   file's content cannot be checked here (it is Bosch's firmware for the chip's feature engine): its length
#   and coverage are. Without init_ok the feature engine (any-motion) never runs, as on the chip.
# - ACC_CONF 0x40 (acc_odr 3:0: 100 Hz * 2^(code - 8), codes 1..12), ACC_RANGE 0x41 (+-2/4/8/16 g), GYR_CONF
#   0x42 (gyr_odr), GYR_RANGE 0x43 (2000/1000/500/250/125 dps); data ACC 0x0C..0x11, GYR 0x12..0x17
#   little-endian; bursts increment the address except at FIFO_DATA.
# - FIFO (2048 bytes): FIFO_CONFIG_0 0x48 (fifo_stop_on_full bit 0), FIFO_CONFIG_1 0x49 (gyr_en bit 7, acc_en
#   bit 6, header_en bit 4; power-on 0x10); frames at the accel ODR: headerless = gyro x,y,z then accel
#   x,y,z (the chip's order: aux, gyr, acc); with headers each frame starts with 0x84 (acc), 0x88 (gyr) or
#   0x8C (both). FIFO_LENGTH_0/1 0x24/0x25 (bytes, 14 bits), FIFO_DATA 0x26 (each byte read pops one; past
#   the end reads 0x80), FIFO_WTM_0/1 0x46/0x47. Full: stop_on_full keeps the old frames, otherwise the
#   oldest frames go; either way INT_STATUS_1.ffull_int (bit 0) is set, cleared by reading INT_STATUS_1.
# - Any-motion (feature page 1, FEAT_PAGE 0x2F = 1, FEATURES 0x3C..0x3F: duration 12:0 in 20 ms steps and
#   select_x/y/z 13..15 in the first word, threshold 10:0 in 0.48828 mg (1 g / 2048) and enable bit 15 in
#   the second): the slope of each selected axis between samples 20 ms apart (50 Hz), above the threshold
#   for `duration` steps in a row (at least one), sets any_motion_out (bit 6) in INT_STATUS_0 0x1C, cleared
#   by reading it.
#   INT1_MAP_FEAT 0x56 bit 6 / INT_MAP_DATA 0x58 (ffull bit 0, fwm bit 1 for INT1) route to INT1;
#   INT1_IO_CTRL 0x53 (output_en bit 3, lvl bit 1: 1 = active high), INT_LATCH 0x55 (bit 0: latched; not
#   latched, the pin follows the status bit here).
# - The slope stands in for the chip's own any-motion filter (UNCONFIRMED in detail).
from sim_chip import Chip, clamp16, put16le

CHIP_ID = 0x00
ACC_X = 0x0C
GYR_X = 0x12
INT_STATUS_0 = 0x1C
INT_STATUS_1 = 0x1D
INTERNAL_STATUS = 0x21
FIFO_LENGTH_0 = 0x24
FIFO_DATA = 0x26
FEAT_PAGE = 0x2F
FEATURES = 0x30
ACC_CONF, ACC_RANGE, GYR_CONF, GYR_RANGE = 0x40, 0x41, 0x42, 0x43
FIFO_WTM_0 = 0x46
FIFO_CONFIG_0, FIFO_CONFIG_1 = 0x48, 0x49
INT1_IO_CTRL = 0x53
INT_LATCH = 0x55
INT1_MAP_FEAT = 0x56
INT_MAP_DATA = 0x58
INIT_CTRL = 0x59
INIT_ADDR_0, INIT_ADDR_1 = 0x5B, 0x5C
INIT_DATA = 0x5E
PWR_CONF, PWR_CTRL, CMD = 0x7C, 0x7D, 0x7E

CONFIG_BYTES = 8192
FIFO_BYTES = 2048
ACC_FS_G = (2, 4, 8, 16)
GYR_FS_DPS = (2000, 1000, 500, 250, 125)
ANY_MOTION = 0x40
FFULL, FWM = 0x01, 0x02


def _odr_hz(code):
    return 100 * 2 ** (code - 8) if 1 <= code <= 13 else 0


class BMI270(Chip):
    STATE = ("loaded", "feat", "status0", "status1", "motion_ref", "motion_t", "motion_over", "out")

    def power_on(self):
        self.regs[CHIP_ID] = self.spec.get("who_am_i", 0x24)
        self.regs[PWR_CONF] = 0x03
        self.regs[ACC_CONF] = 0xA8
        self.regs[ACC_RANGE] = 0x02
        self.regs[GYR_CONF] = 0xA9
        self.regs[FIFO_CONFIG_0] = 0x02
        self.regs[FIFO_CONFIG_1] = 0x10
        self.fifo = bytearray()
        self.loaded = []              # [start, end) byte ranges of the config file written so far
        self.feat = [[0] * 16 for _ in range(8)]    # feature pages 0..7, 16 bytes each
        self.feat[1][0x0C:0x10] = [0x05, 0xE0, 0xAA, 0x00]  # any-motion: 5 x 20 ms, x/y/z, 83 mg, off
        self.status0 = 0              # INT_STATUS_0 (features), cleared by reading
        self.status1 = 0              # INT_STATUS_1 bits this model latches (ffull)
        self.motion_ref = None        # accel (g) at the last 50 Hz any-motion step
        self.motion_t = None
        self.motion_over = 0
        self.out = [0] * 12           # the newest gyro + accel sample (bytes of GYR then ACC registers)

    # ---- rates
    def rate_hz(self):
        acc = _odr_hz(self.regs[ACC_CONF] & 0x0F) if self.regs[PWR_CTRL] & 0x04 else 0
        gyr = _odr_hz(self.regs[GYR_CONF] & 0x0F) if self.regs[PWR_CTRL] & 0x02 else 0
        return acc or gyr

    def period_us(self):
        r = self.rate_hz()
        return int(1000000 / r) if r else None

    def init_ok(self):
        return self.regs[INTERNAL_STATUS] & 0x0F == 0x01

    # ---- sampling
    def sample(self, t):
        row = self.data.at(t)
        cols = self.data.cols
        acc_on = self.regs[PWR_CTRL] & 0x04
        gyr_on = self.regs[PWR_CTRL] & 0x02
        fs_g = ACC_FS_G[self.regs[ACC_RANGE] & 3]
        fs_dps = GYR_FS_DPS[min(4, self.regs[GYR_RANGE] & 7)]
        out = bytearray(12)
        for a in range(3):
            put16le(out, 2 * a, clamp16((row[3 + a] if cols >= 6 else 0.0) * 32768 / fs_dps) if gyr_on else 0)
            put16le(out, 6 + 2 * a, clamp16(row[a] * 32768 / fs_g) if acc_on else 0)
        self.out = list(out)
        cfg = self.regs[FIFO_CONFIG_1]
        want_g, want_a = cfg & 0x80 and gyr_on, cfg & 0x40 and acc_on
        if want_g or want_a:
            frame = bytearray()
            if cfg & 0x10:
                frame.append(0x80 | (0x08 if want_g else 0) | (0x04 if want_a else 0))
            if want_g:
                frame += out[0:6]
            if want_a:
                frame += out[6:12]
            if len(self.fifo) + len(frame) > FIFO_BYTES:
                self.status1 |= FFULL
                if self.regs[FIFO_CONFIG_0] & 0x01:
                    frame = None                            # stop on full
                else:
                    while len(self.fifo) + len(frame) > FIFO_BYTES:
                        self.fifo = self.fifo[len(frame):]  # the oldest frames go (all frames alike here)
            if frame is not None:
                self.fifo += frame
        if acc_on:
            self._any_motion(t, row)

    def _any_motion(self, t, row):
        f1 = self.feat[1]
        w1 = f1[0x0C] | f1[0x0D] << 8
        w2 = f1[0x0E] | f1[0x0F] << 8
        if not (w2 & 0x8000 and self.init_ok()):
            self.motion_ref = None
            return
        if self.motion_t is not None and t - self.motion_t < 20000:
            return                                          # the feature engine runs at 50 Hz
        v = [row[0], row[1], row[2]]
        if self.motion_ref is not None:
            thr = (w2 & 0x7FF) / 2048
            hit = False
            for a in range(3):
                if w1 & (0x2000 << a) and abs(v[a] - self.motion_ref[a]) > thr:
                    hit = True
            self.motion_over = self.motion_over + 1 if hit else 0
            if hit and self.motion_over >= max(1, w1 & 0x1FFF):
                self.status0 |= ANY_MOTION
        self.motion_ref = v
        self.motion_t = t

    # ---- interrupt line
    def active_low(self):
        return not self.regs[INT1_IO_CTRL] & 0x02

    def _status1(self):
        s = self.status1
        wtm = self.regs[FIFO_WTM_0] | (self.regs[FIFO_WTM_0 + 1] & 0x1F) << 8
        if wtm and len(self.fifo) >= wtm:
            s |= FWM
        if self.next_sample_us is not None:
            s |= 0x80 if self.regs[PWR_CTRL] & 0x04 else 0     # acc_drdy
        return s

    def int_asserted(self):
        if self.status0 & self.regs[INT1_MAP_FEAT]:
            return True
        m = self.regs[INT_MAP_DATA]
        return bool(self._status1() & ((FFULL if m & 0x01 else 0) | (FWM if m & 0x02 else 0)))

    def pin_level(self, t):
        self.catch_up(t)
        on = self.int_asserted()
        if not self.regs[INT1_IO_CTRL] & 0x08:
            return 0                        # output_en off: the chip drives nothing, an undriven pin reads 0 here
        return (0 if on else 1) if self.active_low() else (1 if on else 0)

    # ---- registers
    def read_into(self, reg, buf, t):
        self.catch_up(t)
        n = len(buf)
        for i in range(n):
            r = reg if reg == FIFO_DATA else (reg + i) & 0x7F
            if r == FIFO_DATA:
                if self.fifo:
                    buf[i] = self.fifo[0]
                    self.fifo = self.fifo[1:]
                else:
                    buf[i] = 0x80
            elif GYR_X <= r < GYR_X + 6:
                buf[i] = self.out[r - GYR_X]
            elif ACC_X <= r < ACC_X + 6:
                buf[i] = self.out[6 + r - ACC_X]
            elif r == INT_STATUS_0:
                buf[i] = self.status0
                self.status0 = 0
            elif r == INT_STATUS_1:
                buf[i] = self._status1()
                self.status1 = 0
            elif r == FIFO_LENGTH_0:
                buf[i] = len(self.fifo) & 0xFF
            elif r == FIFO_LENGTH_0 + 1:
                buf[i] = len(self.fifo) >> 8
            elif FEATURES <= r < FEATURES + 16:
                buf[i] = self.feat[self.regs[FEAT_PAGE] & 7][r - FEATURES]
            else:
                buf[i] = self.regs[r]
        self.pointer = (reg + n) & 0x7F

    def _init_addr(self):
        return ((self.regs[INIT_ADDR_1] << 4) | (self.regs[INIT_ADDR_0] & 0x0F)) * 2

    def write(self, reg, data, t):
        self.catch_up(t)
        if reg == INIT_DATA:                                # a burst of the config file: no increment
            start = self._init_addr()
            self.loaded.append([start, start + len(data)])
            return
        for i in range(len(data)):
            r = (reg + i) & 0x7F
            v = data[i]
            if r in (CHIP_ID, INT_STATUS_0, INT_STATUS_1, INTERNAL_STATUS, FIFO_LENGTH_0, FIFO_LENGTH_0 + 1,
                     FIFO_DATA) or ACC_X <= r < GYR_X + 6:
                continue
            if r == CMD:
                if v == 0xB6:                               # soft reset
                    self.regs = bytearray(self.NREGS)
                    self.power_on()
                    self.restart(t)
                elif v == 0xB0:
                    self.fifo = bytearray()
                continue
            if FEATURES <= r < FEATURES + 16:
                self.feat[self.regs[FEAT_PAGE] & 7][r - FEATURES] = v
                continue
            old = self.regs[r]
            self.regs[r] = v
            if r == INIT_CTRL and v == 0x00:
                self.loaded = []
                self.regs[INTERNAL_STATUS] = 0x00
            elif r == INIT_CTRL and v & 0x01:
                ok = self._config_complete()
                self.regs[INTERNAL_STATUS] = 0x01 if ok else 0x02
                self.loaded = [[0, CONFIG_BYTES]] if ok else self.loaded
            if r in (PWR_CTRL, ACC_CONF, GYR_CONF) and old != v:
                self.restart(t)
            if r == FIFO_CONFIG_1 and old != v:
                self.fifo = bytearray()
        self.pointer = (reg + len(data)) & 0x7F

    def _config_complete(self):
        covered = 0
        for s, e in sorted(self.loaded):
            if s > covered:
                return False
            covered = max(covered, e)
        return covered >= CONFIG_BYTES
