# A register-level model of ST's LSM6DS3 and LSM6DSOX 6-axis IMUs on the simulated I2C bus.
#
# Both: WHO_AM_I 0x0F (LSM6DS3 0x69, LSM6DSOX 0x6C); CTRL1_XL (ODR_XL, FS_XL: +-2/16/4/8 g for codes 0-3),
# CTRL2_G (ODR_G, FS_G), CTRL3_C (SW_RESET; IF_INC: register addresses increment in a burst), STATUS_REG
# (XLDA, GDA), output registers OUTX_L_G 0x22..OUTZ_H_XL 0x2D little-endian (gyro first). The FIFO fills in
# continuous mode (the oldest data go when it is full: the overrun flag tells) or FIFO mode (stops when full):
#  - LSM6DS3: FIFO_CTRL1/2 threshold, FIFO_CTRL3 decimation (DEC_FIFO_XL, DEC_FIFO_GYRO: 1 = in the FIFO),
#    FIFO_CTRL5 (ODR_FIFO, FIFO_MODE); untagged 16-bit words, data sets gyro then accel (the ST Linux driver's
#    "1st data set is reserved for gyroscope data"); FIFO_STATUS1/2 (unread words, WTM, OVER_RUN, FULL,
#    EMPTY), FIFO_STATUS3/4 = FIFO_PATTERN, the position of the next word in the pattern; FIFO_DATA_OUT_L/H
#    0x3E/0x3F, one word popped per two bytes read. 8 KB = 4096 words.
#  - LSM6DSOX: FIFO_CTRL1/2 watermark, FIFO_CTRL3 (BDR_GY, BDR_XL: batch rates), FIFO_CTRL4 (FIFO_MODE);
#    tagged words of 7 bytes at FIFO_DATA_OUT_TAG 0x78..0x7E (TAG_SENSOR 0x01 gyro, 0x02 accel, in bits 7:3;
#    TAG_CNT in bits 2:1; a parity bit), popped when the read passes 0x7E; FIFO_STATUS1/2 (unread words,
#    WTM_IA, OVR_IA, FULL_IA, OVR_LATCHED cleared by reading FIFO_STATUS2). Depth: "fifo_words" in the spec
#    (512 by default; the datasheet's 9 KB counts compressed data: the uncompressed depth is UNCONFIRMED).
# A batch rate slower than the ODR keeps every k-th sample (k = ODR / BDR, rounded).
# Wake-up interrupt (both chips): WAKE_UP_THS 0x5B (WK_THS 5:0, 1 LSB = full scale / 64), WAKE_UP_DUR 0x5C
# (WAKE_DUR 6:5: samples above the threshold needed, + 1), the slope filter (a[n] - a[n-1]) / 2 of each axis
# against the threshold, WAKE_UP_SRC 0x1B (WU_IA 0x08, X/Y/Z_WU 0x04/0x02/0x01; cleared by reading it when
# LIR latches: TAP_CFG 0x58 bit 0 on the DS3, TAP_CFG0 0x56 bit 0 on the DSOX, whose TAP_CFG2 0x58 bit 7
# INTERRUPTS_ENABLE must be set too), routed to INT1 by MD1_CFG 0x5E bit 5 (INT1_WU); CTRL3_C H_LACTIVE (bit
# 5) makes the pin active low. The pin is the spec's "int_pin".
from sim_chip import Chip, clamp16, put16le

WHO_AM_I = 0x0F
CTRL1_XL, CTRL2_G, CTRL3_C = 0x10, 0x11, 0x12
STATUS_REG = 0x1E
OUTX_L_G = 0x22
FIFO_STATUS1, FIFO_STATUS2, FIFO_STATUS3, FIFO_STATUS4 = 0x3A, 0x3B, 0x3C, 0x3D
DS3_FIFO_CTRL1, DS3_FIFO_CTRL3, DS3_FIFO_CTRL5, DS3_FIFO_OUT = 0x06, 0x08, 0x0A, 0x3E
OX_FIFO_CTRL1, OX_FIFO_CTRL3, OX_FIFO_CTRL4, OX_FIFO_TAG = 0x07, 0x09, 0x0A, 0x78
WAKE_UP_SRC, TAP_CFG0, TAP_CFG, WAKE_UP_THS, WAKE_UP_DUR, MD1_CFG = 0x1B, 0x56, 0x58, 0x5B, 0x5C, 0x5E
WU_IA = 0x08
XL_FS_G = (2, 16, 4, 8)

ODR_HZ = (0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)
XL_LSB_PER_G = (16384, 2048, 8192, 4096)                # FS_XL 00 +-2 g, 01 +-16 g, 10 +-4 g, 11 +-8 g
G_LSB_PER_DPS = (114.29, 57.14, 28.57, 14.29)           # 8.75/17.5/35/70 mdps per LSB
TAG_GYRO, TAG_ACCEL = 0x01, 0x02


def _odr(code):
    return ODR_HZ[code] if 0 < code < len(ODR_HZ) else 0


class LSM6DS(Chip):
    STATE = ("count", "over", "latched", "wu_prev", "wu_src", "wu_over")

    def power_on(self):
        self.ox = self.kind == "lsm6dsox"
        self.regs[WHO_AM_I] = self.spec.get("who_am_i", 0x6C if self.ox else 0x69)
        self.regs[CTRL3_C] = 0x04
        self.fifo = bytearray()
        self.count = 0              # samples taken (decimation, TAG_CNT)
        self.over = False           # overrun since the FIFO was last read (DS3) / is full and overwriting
        self.latched = False        # DSOX FIFO_OVR_LATCHED
        self.wu_prev = None         # previous accel sample in g (the slope filter)
        self.wu_src = 0             # WAKE_UP_SRC
        self.wu_over = 0            # consecutive samples above the wake-up threshold

    def __init__(self, spec, data):
        self.ox = spec["type"] == "lsm6dsox"
        self.word = 7 if self.ox else 2
        self.depth = spec.get("fifo_words", 512 if self.ox else 4096)
        super().__init__(spec, data)

    def rate_hz(self):
        return max(_odr(self.regs[CTRL1_XL] >> 4), _odr(self.regs[CTRL2_G] >> 4))

    def period_us(self):
        r = self.rate_hz()
        return int(1000000 / r) if r else None

    def fifo_mode(self):
        return self.regs[OX_FIFO_CTRL4 if self.ox else DS3_FIFO_CTRL5] & 7

    def _batch(self):
        """(accel every k samples or 0, gyro every k samples or 0)."""
        rate = self.rate_hz()
        if self.ox:
            bxl, bg = _odr(self.regs[OX_FIFO_CTRL3] & 15), _odr(self.regs[OX_FIFO_CTRL3] >> 4)
        else:
            f = _odr((self.regs[DS3_FIFO_CTRL5] >> 3) & 15)
            dec = self.regs[DS3_FIFO_CTRL3]
            bxl = f if dec & 7 else 0
            bg = f if (dec >> 3) & 7 else 0
        return tuple(max(1, round(rate / b)) if b and rate else 0 for b in (bxl, bg))

    def sample(self, t):
        row = self.data.at(t)
        cols = self.data.cols
        fa = XL_LSB_PER_G[(self.regs[CTRL1_XL] >> 2) & 3]
        fg = G_LSB_PER_DPS[(self.regs[CTRL2_G] >> 2) & 3]
        out = bytearray(12)
        for a in range(3):
            put16le(out, 2 * a, clamp16((row[3 + a] if cols >= 6 else 0.0) * fg) if self.regs[CTRL2_G] >> 4 else 0)
            put16le(out, 6 + 2 * a, clamp16(row[a] * fa) if self.regs[CTRL1_XL] >> 4 else 0)
        self.regs[OUTX_L_G:OUTX_L_G + 12] = out
        self.regs[STATUS_REG] |= (1 if self.regs[CTRL1_XL] >> 4 else 0) | (2 if self.regs[CTRL2_G] >> 4 else 0)
        if self.regs[CTRL1_XL] >> 4:
            self._wake_up(row)
        self.count += 1
        mode = self.fifo_mode()
        if mode not in (1, 6):
            return
        kxl, kg = self._batch()
        words = []
        if kg and self.count % kg == 0:
            words.append((TAG_GYRO, out[0:6]))
        if kxl and self.count % kxl == 0:
            words.append((TAG_ACCEL, out[6:12]))
        if not words:
            return
        add = bytearray()
        for tag, payload in words:
            if self.ox:
                tb = (tag << 3) | ((self.count & 3) << 1)
                p = 0
                for b in range(1, 8):
                    p ^= (tb >> b) & 1
                add.append(tb | p)
                add += payload
            else:
                add += payload                          # 3 words of 16 bits
        nwords = len(add) // self.word if self.ox else len(add) // 2
        room = self.depth - self._words()
        if nwords > room:
            if mode == 1:                               # FIFO mode: stops when full
                return
            drop = nwords - room                        # continuous: the oldest go (DS3: whole data sets)
            if self.ox:
                nbytes = 7 * drop
            else:
                nbytes = 6 * ((drop + 2) // 3)
            self.fifo = self.fifo[nbytes:]
            self.over = True
            self.latched = True
        self.fifo += add

    def _latched_wu(self):
        return self.regs[TAP_CFG0 if self.ox else TAP_CFG] & 0x01

    def _wake_up(self, row):
        ths = self.regs[WAKE_UP_THS] & 0x3F
        if not ths or (self.ox and not self.regs[TAP_CFG] & 0x80):
            self.wu_prev = None
            return
        v = [row[0], row[1], row[2]]
        if self.wu_prev is None:
            self.wu_prev = v
            return
        thr = ths * XL_FS_G[(self.regs[CTRL1_XL] >> 2) & 3] / 64
        axes = 0
        for a in range(3):
            if abs(v[a] - self.wu_prev[a]) / 2 > thr:
                axes |= 0x04 >> a
        self.wu_prev = v
        if axes:
            self.wu_over += 1
            if self.wu_over > (self.regs[WAKE_UP_DUR] >> 5) & 3:
                self.wu_src = (self.wu_src if self._latched_wu() else 0) | WU_IA | axes
        else:
            self.wu_over = 0
            if not self._latched_wu():
                self.wu_src = 0

    def int_asserted(self):
        return bool(self.regs[MD1_CFG] & 0x20 and self.wu_src & WU_IA)

    def active_low(self):
        return bool(self.regs[CTRL3_C] & 0x20)

    def _words(self):
        return len(self.fifo) // (7 if self.ox else 2)

    def _set_words(self):
        kxl, kg = self._batch()
        return 3 * ((1 if kxl else 0) + (1 if kg else 0)) or 3

    def _status(self, r):
        n = self._words()
        if self.ox:
            wtm = self.regs[OX_FIFO_CTRL1] | ((self.regs[OX_FIFO_CTRL1 + 1] & 1) << 8)
            shown = min(n, 1023)
            if r == FIFO_STATUS1:
                return shown & 0xFF
            return ((0x80 if wtm and n >= wtm else 0) | (0x40 if self.over and n >= self.depth else 0)
                    | (0x20 if n >= self.depth else 0) | (0x08 if self.latched else 0) | (shown >> 8))
        wtm = self.regs[DS3_FIFO_CTRL1] | ((self.regs[DS3_FIFO_CTRL1 + 1] & 15) << 8)
        shown = min(n, 4095)
        if r == FIFO_STATUS1:
            return shown & 0xFF
        if r == FIFO_STATUS2:
            return ((0x80 if wtm and n >= wtm else 0) | (0x40 if self.over else 0) | (0x20 if n >= self.depth else 0)
                    | (0x10 if n == 0 else 0) | (shown >> 8))
        sw = self._set_words()
        pattern = (sw - n % sw) % sw
        return pattern & 0xFF if r == FIFO_STATUS3 else pattern >> 8

    def read_into(self, reg, buf, t):
        self.catch_up(t)
        n = len(buf)
        inc = self.regs[CTRL3_C] & 0x04
        head = None
        popped = False
        for i in range(n):
            r = (reg + i) & 0x7F if inc else reg
            if self.ox and OX_FIFO_TAG <= r <= OX_FIFO_TAG + 6:
                if head is None:
                    head = self.fifo[0:7] if len(self.fifo) >= 7 else bytes(7)
                buf[i] = head[r - OX_FIFO_TAG]
                if r == OX_FIFO_TAG + 6 and len(self.fifo) >= 7:
                    self.fifo = self.fifo[7:]
                    head = None
                    popped = True
            elif not self.ox and r in (DS3_FIFO_OUT, DS3_FIFO_OUT + 1):
                buf[i] = self.fifo[r - DS3_FIFO_OUT] if len(self.fifo) >= 2 else 0
                if r == DS3_FIFO_OUT + 1 and len(self.fifo) >= 2:
                    self.fifo = self.fifo[2:]
                    popped = True
            elif r == WAKE_UP_SRC:
                buf[i] = self.wu_src
                if self._latched_wu():
                    self.wu_src = 0
            elif FIFO_STATUS1 <= r <= FIFO_STATUS4:
                buf[i] = self._status(r)
                if self.ox and r == FIFO_STATUS2:
                    self.latched = False
            else:
                buf[i] = self.regs[r]
        if popped and not self.ox:
            self.over = False
        if popped and self.ox and self._words() < self.depth:
            self.over = False
        self.pointer = (reg + n) & 0x7F

    def auto_increment(self):
        return self.regs[CTRL3_C] & 0x04

    def read_only(self, r):
        return r in (WHO_AM_I, WAKE_UP_SRC) or STATUS_REG <= r <= 0x2D or FIFO_STATUS1 <= r <= 0x3F or r >= OX_FIFO_TAG

    def is_reset(self, r, v):
        return r == CTRL3_C and v & 0x01                # SW_RESET

    def written(self, r, old, v, t):
        if r in (CTRL1_XL, CTRL2_G) and old != v:
            self.restart(t)
        if r in (WAKE_UP_THS, WAKE_UP_DUR, TAP_CFG, TAP_CFG0):
            self.wu_prev = None
            self.wu_over = 0
        if r == (OX_FIFO_CTRL4 if self.ox else DS3_FIFO_CTRL5) and (v & 7) == 0:
            self.fifo = bytearray()                     # bypass mode empties the FIFO
            self.over = self.latched = False
