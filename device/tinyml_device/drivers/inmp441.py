# An I2S MEMS microphone (InvenSense INMP441, or any I2S mic with its L/R pin low) through machine.I2S: 16-bit
# mono PCM at 16 kHz into a caller's buffer, blocking or non-blocking (irq: the callback is scheduled when the
# buffer is full).
#
#   mic = INMP441(sck=14, ws=15, sd=32)     # I2S(0), RX, 16 kHz, 16-bit, MONO (the left channel: L/R to GND)
#   clip = bytearray(2 * 8000)              # 0.5 s, allocated once
#   mic.readinto(clip)                      # blocks for 0.5 s of audio
#   peak, rms = level(clip)                 # int16 full scale = 32767
#
# Where machine.I2S exists: esp32, rp2 (PIO: ws must be sck + 1), stm32, mimxrt. The nrf port has none (so not
# the Nano 33 BLE Sense), and no port reads a PDM microphone: a board that cannot gets Unsupported, naming it,
# instead of an AttributeError. The mic needs its clock running to give data, so nothing records in deep or
# light sleep: wake first (a sound-level comparator on a wake pin), then record.
from ..board import Unsupported, current


class INMP441:
    def __init__(self, sck, ws, sd, i2s_id=0, rate=16000, bits=16, ibuf=16000, board=None):
        b = board or current()
        b.require("i2s")
        if b.port == "rp2" and ws != sck + 1:
            raise ValueError("%s: the rp2 port's I2S (PIO) needs ws = sck + 1 (got sck=%d, ws=%d)" % (b.name, sck, ws))
        try:
            from machine import I2S, Pin
        except ImportError:
            raise Unsupported("%s (%s port): this firmware's machine module has no I2S" % (b.name, b.port))
        self.rate = rate
        self.bits = bits
        self.i2s = I2S(i2s_id, sck=Pin(sck), ws=Pin(ws), sd=Pin(sd), mode=I2S.RX, bits=bits, format=I2S.MONO,
                       rate=rate, ibuf=ibuf)
        self._cb = None
        self._buf = None
        self._done = self._on_done            # a bound method made once

    def __repr__(self):
        return "<INMP441 %r>" % self.i2s

    def readinto(self, buf):
        """Fill `buf` (bits/8 bytes a sample), blocking until the samples have arrived. Returns bytes read."""
        return self.i2s.readinto(buf)

    def start(self, buf, callback):
        """Non-blocking: returns at once; callback(buf) is scheduled when `buf` is full. Call again to read
        the next buffer (the I2S keeps sampling into its own buffer meanwhile)."""
        self._cb = callback
        self._buf = buf
        self.i2s.irq(self._done)
        self.i2s.readinto(buf)

    def _on_done(self, _i2s):
        cb = self._cb
        if cb is not None:
            cb(self._buf)

    def stop(self):
        self.i2s.irq(None)   # type: ignore[arg-type]  # None: blocking again (machine_i2s.c; the stubs omit it)
        self._cb = None

    def deinit(self):
        self.i2s.deinit()


def level(buf, n=None):
    """(peak, rms) of int16 little-endian samples in `buf` (the first n): the peak as an int, rms a float."""
    mv = memoryview(buf)
    count = len(buf) // 2 if n is None else n
    peak = 0
    acc = 0
    for i in range(count):
        v = mv[2 * i] | (mv[2 * i + 1] << 8)
        if v & 0x8000:
            v -= 0x10000
        if v < 0:
            v = -v
        if v > peak:
            peak = v
        acc += v * v
    return peak, (acc / count) ** 0.5 if count else 0.0


def dbfs(x):
    """A level (0..32767) in dB below full scale (-99 for silence)."""
    import math
    return 20 * math.log10(x / 32767) if x > 0 else -99.0
