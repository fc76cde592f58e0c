# `machine` on the simulated board unix-sim. It shadows the unix port's built-in `machine` (MicroPython lets a
# .py file on sys.path override an "extensible" built-in module; the built-in stays reachable as `umachine`).
# It models an ESP32's machine module: reset causes and wake reasons with the esp32 port's numbers, deep sleep as
# a reboot, soft timer callbacks, I2C to simulated chips, RTC memory. What it does not model raises as a
# missing attribute would on a port without it.
from umachine import *          # noqa: F401,F403  mem8/16/32, idle, time_pulse_us, Signal, PinBase
import sim_world as _w
from gc import mem_alloc as _mem_alloc

# esp32 port numbering (ports/esp32/modmachine.c): reset causes, and wake reasons = ESP-IDF's
# esp_sleep_wakeup_cause_t (UNDEFINED=0, ALL=1, EXT0=2, EXT1=3, TIMER=4, TOUCHPAD=5, ULP=6).
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
PIN_WAKE = EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4
TOUCHPAD_WAKE = 5
ULP_WAKE = 6
IDLE = 0
SLEEP = 2
DEEPSLEEP = 4

_FREQ = [_w.BOARD.get("cpu_hz", 160000000)]


def freq(hz=None):
    if hz is None:
        return _FREQ[0]
    _FREQ[0] = hz


def unique_id():
    return b"\x00unixsim"


def reset_cause():
    return _w.RESET_CAUSE


def wake_reason():
    return _w.WAKE_REASON


def idle():
    _w.sleep_us(1)


def lightsleep(ms=None):
    # Execution continues after the call. Timed only: the sim models no pin wake from light sleep.
    if ms is None:
        raise ValueError("unix-sim: lightsleep() without a time would never wake (no light-sleep pin wake "
                         "is simulated)")
    _w.sleep_us(int(ms) * 1000)


def deepsleep(ms=None):
    _w.deepsleep(ms, TIMER_WAKE, EXT0_WAKE, EXT1_WAKE, TOUCHPAD_WAKE)


def reset():
    _w.reset(HARD_RESET)


def soft_reset():
    _w.reset(SOFT_RESET)


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2
    WAKE_LOW = 4
    WAKE_HIGH = 5

    def __init__(self, id, mode=-1, pull=-1, *, value=None, hold=None):
        valid = _w.BOARD.get("gpio")
        if valid is not None and id not in valid:
            raise ValueError("invalid pin")
        self.id = id
        self._value = 0 if value is None else value
        self._irq = None

    def init(self, mode=-1, pull=-1, *, value=None, hold=None):
        if value is not None:
            self._value = value

    def value(self, v=None):
        if v is not None:
            self._value = 1 if v else 0
            return None
        dev = _w.driver_of(self.id)
        if dev is not None:
            return dev.pin_level(_w.abs_us())
        return self._value

    __call__ = value

    def on(self):
        self._value = 1

    def off(self):
        self._value = 0

    def irq(self, handler=None, trigger=3, *, wake=None):
        # esp32: wake=DEEPSLEEP with WAKE_LOW/WAKE_HIGH configures ext0 on an RTC pin (machine_pin.c).
        if wake is not None and wake & DEEPSLEEP:
            if trigger not in (Pin.WAKE_LOW, Pin.WAKE_HIGH):
                raise ValueError("bad wake trigger")
            _check_rtc_pin(self.id)
            _w.wake["ext0"] = (self.id, 1 if trigger == Pin.WAKE_HIGH else 0)
        self._irq = handler
        return None

    def __repr__(self):
        return "Pin(%d)" % self.id


def _check_rtc_pin(pin_id):
    rtc = _w.BOARD.get("wake_pins")
    if rtc is not None and pin_id not in rtc:
        raise ValueError("invalid pin for wake")


def _pin_id(p):
    if p is None:
        return None
    return p.id if isinstance(p, Pin) else p


class I2C:
    """Hardware I2C to the simulated chips wired to these pins. A missing device NACKs: OSError(ENODEV=19),
    as on the esp32 port.

    The register models are Python and allocate as they run; a port's I2C is C and allocates nothing. So
    the bytes the models allocate inside each transfer are added up in sim_world.sim_alloc[0] while
    sim_world.count_alloc[0] is set (measured with gc.mem_alloc(), meaningful while gc is disabled; it walks
    the heap, so it is off by default), and a test subtracts them to see what a driver itself allocates.
    Only the memory-address transfers (readfrom_mem_into, writeto_mem) are counted: what drivers' loops use."""

    def __init__(self, id=0, *, scl=None, sda=None, freq=400000, timeout=50000):
        buses = _w.BOARD.get("i2c", {})
        key = str(id)
        if key not in buses:
            raise ValueError("I2C(%s) doesn't exist" % id)
        self.id = id
        self.scl = _pin_id(scl) if scl is not None else buses[key]["scl"]
        self.sda = _pin_id(sda) if sda is not None else buses[key]["sda"]
        self.freq = freq

    def __repr__(self):
        return "I2C(%s, scl=%d, sda=%d, freq=%d)" % (self.id, self.scl, self.sda, self.freq)

    def _dev(self, addr):
        dev = _w.device_at(self.scl, self.sda, addr)
        if dev is None:
            raise OSError(19)
        return dev

    def scan(self):
        return sorted(_w.devices_on(self.scl, self.sda))

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        if _w.count_alloc[0]:
            a = _mem_alloc()
            self._dev(addr).read_into(memaddr, buf, _w.abs_us())
            _w.sim_alloc[0] += _mem_alloc() - a
        else:
            self._dev(addr).read_into(memaddr, buf, _w.abs_us())

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        if _w.count_alloc[0]:
            a = _mem_alloc()
            self._dev(addr).write(memaddr, buf, _w.abs_us())
            _w.sim_alloc[0] += _mem_alloc() - a
        else:
            self._dev(addr).write(memaddr, buf, _w.abs_us())

    def writeto(self, addr, buf, stop=True):
        if len(buf) == 0:
            self._dev(addr)
            return 1
        self._dev(addr).write(buf[0], memoryview(buf)[1:], _w.abs_us())
        return 1

    def readfrom_into(self, addr, buf, stop=True):
        dev = self._dev(addr)
        dev.read_into(dev.pointer, buf, _w.abs_us())

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf)
        return bytes(buf)


class SoftI2C(I2C):
    def __init__(self, scl, sda, *, freq=400000, timeout=50000):
        self.id = "soft"
        self.scl = _pin_id(scl)
        self.sda = _pin_id(sda)
        self.freq = freq

    def __repr__(self):
        return "SoftI2C(scl=%d, sda=%d, freq=%d)" % (self.scl, self.sda, self.freq)


class Timer:
    """esp32-style hardware timer 0-3. Callbacks are always soft (scheduled); hard=True is refused as on the
    esp32 port."""
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=0, **kwargs):
        n = _w.BOARD.get("timers", 4)
        if not (0 <= id < n):
            raise ValueError("invalid Timer number")
        self.id = id
        self.due = None
        self.callback = None
        if kwargs:
            self.init(**kwargs)

    def init(self, *, mode=1, period=-1, freq=-1, callback=None, hard=False, tick_hz=1000):
        if hard:
            raise ValueError("hard Timer callbacks are not supported on this board (esp32: always soft)")
        if freq > 0:
            self.period_us = 1000000 // freq
        elif period > 0:
            self.period_us = period * 1000000 // tick_hz
        else:
            raise ValueError("period or freq needed")
        self.mode = mode
        self.callback = callback
        self.due = _w.clock.now() + self.period_us
        _w.add_timer(self)

    def fired(self):
        if self.mode == Timer.PERIODIC:
            self.due += self.period_us
        else:
            self.due = None

    def deinit(self):
        self.due = None
        _w.remove_timer(self)

    def value(self):
        return 0 if self.due is None else max(0, (self.due - _w.clock.now()) // 1000)


# Touch-capable GPIOs of the classic ESP32 (T0..T9; ports/esp32/machine_touchpad.c)
TOUCH_PINS = (4, 0, 2, 15, 13, 12, 14, 27, 33, 32)


class TouchPad:
    """machine.TouchPad(pin) (esp32 port): read() is the simulated pad's reading (lower while touched, as on
    the classic ESP32); config(threshold) sets the level below which a touch wakes the chip (with
    esp32.wake_on_touch(True))."""

    def __init__(self, pin):
        pid = _pin_id(pin)
        if pid not in TOUCH_PINS:
            raise ValueError("invalid pin for touchpad")
        self.pin = pid
        self.dev = _w.touchpad_on(pid)

    def read(self):
        return self.dev.value(_w.abs_us()) if self.dev is not None else 1000

    def config(self, value):
        if self.dev is not None:
            self.dev.threshold = value


class RTC:
    """RTC memory (esp32: up to 2048 bytes, survives deep sleep and resets, not power-off)."""
    MEMORY_MAX = 2048

    def __init__(self, id=0):
        pass

    def memory(self, data=None):
        if data is None:
            return bytes(_w.rtc_memory[0])
        if len(data) > RTC.MEMORY_MAX:
            raise ValueError("buffer too long")
        _w.rtc_memory[0] = bytes(data)

    def datetime(self, dt=None):
        import utime
        if dt is None:
            t = utime.localtime()
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)


class ADC:
    """esp32-style ADC on the pins the board lists (adc_pins). read_u16() is the simulated analog source wired
    to the pin (0..65535 over its full scale) at this moment of virtual time; nothing wired reads 0."""
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12

    def __init__(self, pin, *, atten=None):
        self.pin = _pin_id(pin)
        valid = _w.BOARD.get("adc_pins")
        if valid is not None and self.pin not in valid:
            raise ValueError("invalid Pin for ADC")
        self.src = _w.device_of("analog", pin=self.pin)
        self._atten = ADC.ATTN_0DB if atten is None else atten
        self._width = 12

    def __repr__(self):
        return "ADC(Pin(%d))" % self.pin

    def init(self, *, atten=None):
        if atten is not None:
            self._atten = atten

    def atten(self, a):
        self._atten = a

    def width(self, w):
        self._width = w

    def read_u16(self):
        return self.src.read_u16(_w.abs_us()) if self.src is not None else 0

    def read(self):
        return self.read_u16() >> (16 - self._width)

    def read_uv(self):
        return int(self.src.volts(_w.abs_us()) * 1000000) if self.src is not None else 0


class _I2SEvent:
    """A non-blocking I2S read completing at `due` (us since reset): run as a soft callback, like a Timer's."""
    callback = None

    def __init__(self, due, i2s):
        self.due = due
        self.i2s = i2s
        self.callback = self._done

    def fired(self):
        self.due = None

    def _done(self, _):
        _w.remove_timer(self)
        self.i2s._complete()


class I2S:
    """machine.I2S (RX) over the simulated microphone wired to the `sd` pin: samples arrive at `rate` from the
    moment of construction, in virtual time, into an internal buffer of `ibuf` bytes (the DMA buffers). readinto
    blocks until the buffer is filled, the time the samples take to arrive. If the program reads too late the
    oldest samples are lost (counted in sim_world.stats["i2s_samples_lost"]; a real port says nothing). With
    irq(handler) set, readinto returns at once and the handler is scheduled when the buffer is filled."""
    RX = 0
    TX = 1
    MONO = 0
    STEREO = 1

    def __init__(self, id, *, sck, ws, sd, mck=None, mode, bits, format, rate, ibuf):
        ids = (_w.BOARD.get("i2s") or {}).get("ids", (0, 1))
        if id not in ids:
            raise ValueError("invalid id")
        if mode != I2S.RX:
            raise ValueError("unix-sim simulates I2S RX (a microphone) only")
        if bits not in (16, 32):
            raise ValueError("invalid bits")
        if format not in (I2S.MONO, I2S.STEREO):
            raise ValueError("invalid format")
        self.id, self.bits, self.format, self.rate, self.ibuf = id, bits, format, rate, ibuf
        self.sck, self.ws, self.sd = _pin_id(sck), _pin_id(ws), _pin_id(sd)
        self.mic = _w.device_of("i2s_mic", sd=self.sd)
        self.frame_bytes = bits // 8 * (2 if format == I2S.STEREO else 1)
        self.pos = self._index(_w.abs_us())      # the next sample index to hand to the program
        self.handler = None
        self.pending = None
        self._tmp = None

    def __repr__(self):
        return "I2S(id=%d, sck=%d, ws=%d, sd=%d, rate=%d, bits=%d, ibuf=%d)" % (
            self.id, self.sck, self.ws, self.sd, self.rate, self.bits, self.ibuf)

    def _index(self, t_abs):
        return t_abs * self.rate // 1000000

    def _due_us(self, index):
        """us since reset when sample `index` has arrived."""
        return (index + 1) * 1000000 // self.rate - _w.EPOCH_US + 1

    def _drop_overflow(self):
        have = self._index(_w.abs_us()) - self.pos
        room = self.ibuf // self.frame_bytes
        if have > room:
            _w.stats["i2s_samples_lost"] = _w.stats.get("i2s_samples_lost", 0) + have - room
            self.pos += have - room

    def _fill(self, buf, frames):
        mic = self.mic
        mv = memoryview(buf)
        if self.bits == 16 and self.format == I2S.MONO and (mic is None or mic.rate in (None, self.rate)):
            if mic is None:
                for i in range(2 * frames):
                    mv[i] = 0
            else:
                mic.read_into(self.pos, mv[0:2 * frames])
        else:
            # 32-bit slots (the INMP441's 24 bits, left-aligned) or stereo (right channel silent), or a stream
            # at another rate (nearest sample): one sample at a time.
            if self._tmp is None:
                self._tmp = bytearray(2)
            step = self.bits // 8
            for f in range(frames):
                if mic is None:
                    v = 0
                else:
                    k = self.pos + f
                    if mic.rate not in (None, self.rate):
                        k = k * mic.rate // self.rate
                    mic.read_into(k, self._tmp)
                    v = self._tmp[0] | (self._tmp[1] << 8)
                base = f * self.frame_bytes
                for i in range(self.frame_bytes):
                    mv[base + i] = 0
                if step == 2:
                    mv[base], mv[base + 1] = v & 0xFF, v >> 8
                else:
                    mv[base + 2], mv[base + 3] = v & 0xFF, v >> 8
        self.pos += frames

    def readinto(self, buf):
        frames = len(buf) // self.frame_bytes
        self._drop_overflow()
        if self.handler is not None:                       # non-blocking
            self.pending = (buf, frames)
            ev = _I2SEvent(self._due_us(self.pos + frames - 1), self)
            _w.add_timer(ev)
            return 0
        due = self._due_us(self.pos + frames - 1)
        wait = due - _w.clock.now()
        if wait > 0:
            _w.sleep_us(wait)
        self._fill(buf, frames)
        return frames * self.frame_bytes

    def _complete(self):
        buf, frames = self.pending
        self.pending = None
        self._drop_overflow()
        self._fill(buf, frames)
        if self.handler is not None:
            self.handler(self)

    def irq(self, handler):
        self.handler = handler

    def write(self, buf):
        raise OSError("unix-sim simulates I2S RX only")

    def deinit(self):
        self.handler = None
        self.pending = None

    @staticmethod
    def shift(*, buf, bits, shift):
        import array
        a = array.array("h" if bits == 16 else "i", buf)
        for i in range(len(a)):
            a[i] = a[i] << shift if shift > 0 else a[i] >> -shift
        memoryview(buf)[0:len(buf)] = bytes(a)


if not _w.BOARD.get("i2s"):
    del I2S                     # as on the nrf port: machine has no I2S at all
