# The world of the simulated board `unix-sim`: a virtual clock, soft timers, pins, I2C devices, RTC memory and
# deep sleep. The sim's machine.py, time.py and esp32.py (which shadow the unix port's built-in modules, see
# docs/device-runtime.md) are thin fronts over this module.
#
# The host runner (host/tinyml/simboard.py) writes $TINYML_SIM_DIR/boot.json before each boot: which boot this
# is, the reset cause and wake reason to report, the absolute virtual time, the board's buses and the devices
# wired to them (with their register state carried over from the previous boot: a sensor stays powered while
# the MCU deep-sleeps). machine.deepsleep() writes sleep.json (when to wake and why, the devices' state) and
# rtc.bin, then ends the process; the runner boots the script again.
#
# Time. ticks_* count from this boot's reset (as on a real board). Two clock modes:
#   "virtual": time moves only when the program sleeps, plus 1 us per clock read (so busy-wait loops progress).
#              Deterministic: what the tests use.
#   "hybrid":  real elapsed time of the process, plus every sleep skipped instantly. Compute phases show real
#              durations; sleeping costs nothing. What `tinyml run` uses by default.
import os
import sys
import json
import utime
import micropython

TICKS_PERIOD = 1 << 30          # the unix port's ticks period (MICROPY_PY_TIME_TICKS_PERIOD)
SCHEDULE_DEPTH = 8              # esp32/rp2/stm32 scheduler queue depth (4 is MicroPython's default)


def _sim_dir():
    d = os.getenv("TINYML_SIM_DIR")
    if not d:
        raise RuntimeError("unix-sim: TINYML_SIM_DIR is not set; run device scripts with "
                           "`tinyml run --board unix-sim SCRIPT.py`")
    return d


def _read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError:
        return default


SIM_DIR = _sim_dir()
CONFIG = _read_json(SIM_DIR + "/boot.json")
if CONFIG is None:
    raise RuntimeError("unix-sim: no boot.json in " + SIM_DIR)
BOARD = CONFIG["board"]


# ---- the clock --------------------------------------------------------------------------------------------
class _Clock:
    def __init__(self, mode, boot_us):
        self.mode = mode
        self.us = boot_us               # virtual us since reset, not counting real time (hybrid adds it)
        self.real0 = utime.ticks_us()

    def now(self):
        if self.mode == "hybrid":
            return self.us + utime.ticks_diff(utime.ticks_us(), self.real0)
        self.us += 1
        return self.us

    def jump_to(self, t):
        cur = self.now()
        if t > cur:
            self.us += t - cur


clock = _Clock(CONFIG.get("clock", "virtual"), CONFIG.get("boot_us", 0))
EPOCH_US = CONFIG.get("epoch_us", 0)    # absolute virtual time (since power-on) of this boot's reset


def now_us():
    """Microseconds since this boot's reset. Timers that fell due meanwhile are queued as soft callbacks."""
    t = clock.now()
    if _timers:
        _queue_due(t)
    return t


def abs_us(t=None):
    """Absolute virtual time since the first power-on: where the sensors' data streams are read."""
    return EPOCH_US + (clock.now() if t is None else t)


def ticks_us():
    return now_us() & (TICKS_PERIOD - 1)


def ticks_ms():
    return (now_us() // 1000) & (TICKS_PERIOD - 1)


# ---- soft timers (esp32 semantics: callbacks are always scheduled, never hard) ---------------------------
_timers = []
stats = {"timer_callbacks": 0, "timer_callbacks_dropped": 0}
# The ISR-side queue of the esp32 port holds 8 callbacks; the unix port's own scheduler holds only 4. So the
# sim keeps its own queue of 8 and schedules one function that drains it (a soft callback, between bytecodes).
_queue = []
_drain_scheduled = [False]


def add_timer(timer):
    if timer not in _timers:
        _timers.append(timer)


def remove_timer(timer):
    if timer in _timers:
        _timers.remove(timer)


def _run_callback(timer):
    stats["timer_callbacks"] += 1
    cb = timer.callback
    if cb is not None:
        cb(timer)


def _drain(_):
    _drain_scheduled[0] = False
    while _queue:
        _run_callback(_queue.pop(0))


def _queue_due(t):
    """Timers due by t while the program computes: the timer ISR queues the callback; when the queue is full
    the port drops it (the esp32 port ignores mp_sched_schedule's failure), as here."""
    for tm in _timers:
        while tm.due is not None and tm.due <= t:
            if len(_queue) >= SCHEDULE_DEPTH:
                stats["timer_callbacks_dropped"] += 1
            else:
                _queue.append(tm)
                if not _drain_scheduled[0]:
                    _drain_scheduled[0] = True
                    micropython.schedule(_drain, None)
            tm.fired()


def sleep_us(us):
    """time.sleep_*: the port's sleep loop runs pending callbacks as they fall due (MICROPY_EVENT_POLL_HOOK),
    so each timer callback runs at its own virtual time, in order."""
    end = clock.now() + max(0, int(us))
    while True:
        nxt = None
        for tm in _timers:
            if tm.due is not None and tm.due <= end and (nxt is None or tm.due < nxt.due):
                nxt = tm
        if nxt is None:
            break
        clock.jump_to(nxt.due)
        nxt.fired()
        _run_callback(nxt)
    clock.jump_to(end)


# ---- data streams ------------------------------------------------------------------------------------------
class DataStream:
    """Rows of float32 values (e.g. ax, ay, az in g [, gx, gy, gz in deg/s]) at `rate` Hz, from the file the
    runner made of --data. Row i holds for times [i/rate, (i+1)/rate); past the end the last row holds."""

    def __init__(self, path, cols, rate):
        import array
        self.f = open(path, "rb")
        self.cols = cols
        self.rate = rate
        self.rows = os.stat(path)[6] // (4 * cols)
        self.buf = array.array("f", bytes(4 * cols))
        self.row = -1

    def at(self, t_abs_us):
        """The row at absolute time t (a shared array('f'): copy what you keep)."""
        i = t_abs_us * self.rate // 1000000
        if i >= self.rows:
            i = self.rows - 1
        if i != self.row and i >= 0:
            self.f.seek(i * 4 * self.cols)
            self.f.readinto(self.buf)
            self.row = i
        return self.buf

    def end_us(self):
        return self.rows * 1000000 // self.rate


class PCMStream:
    """Mono int16 samples at `rate` Hz (a microphone's signal), from the file the runner made of a --data
    stream. Sample i is at time i/rate; before the start and past the end: silence."""

    def __init__(self, path, rate):
        self.f = open(path, "rb")
        self.rate = rate
        self.samples = os.stat(path)[6] // 2

    def index(self, t_abs_us):
        return t_abs_us * self.rate // 1000000

    def read_into(self, start, buf):
        """Samples start.. into buf (a bytearray/memoryview of int16 bytes). Allocates only a memoryview."""
        n = len(buf) // 2
        mv = memoryview(buf)
        have = 0
        if 0 <= start < self.samples:
            have = min(n, self.samples - start)
            self.f.seek(2 * start)
            self.f.readinto(mv[0:2 * have])
        for i in range(2 * have, 2 * n):
            mv[i] = 0

    def end_us(self):
        return self.samples * 1000000 // self.rate


# Named streams (--data NAME=FILE): "imu" (the unnamed --data) feeds the accelerometers, others the devices
# whose spec names them ("stream"). float32 rows, or int16 PCM for a microphone.
streams = {}
for _name, _d in (CONFIG.get("streams") or {}).items():
    streams[_name] = PCMStream(_d["path"], _d["rate"]) if _d.get("pcm") else DataStream(_d["path"], _d["cols"],
                                                                                       _d["rate"])
data = None
if CONFIG.get("data"):
    d = CONFIG["data"]
    data = DataStream(d["path"], d["cols"], d["rate"])
    streams.setdefault("imu", data)


# Bytes the simulated chips allocated inside I2C transfers (see machine.I2C): not the driver's doing.
sim_alloc = [0]
count_alloc = [False]


# ---- pins and devices --------------------------------------------------------------------------------------
devices = []            # simulated chips, each with .bus_pins (scl, sda), .addr, .int_pin


# device type -> (module, class) in device/sim; each is made as Class(spec, stream or None)
DEVICE_TYPES = {"mpu6050": ("sim_mpu6050", "MPU6050"), "mpu6500": ("sim_mpu6050", "MPU6050"),
                "lsm6ds3": ("sim_lsm6ds", "LSM6DS"), "lsm6dsox": ("sim_lsm6ds", "LSM6DS"),
                "adxl345": ("sim_adxl345", "ADXL345"), "amg8833": ("sim_amg8833", "AMG8833"),
                "analog": ("sim_analog", "AnalogSource"), "comparator": ("sim_analog", "Comparator"),
                "i2s_mic": ("sim_analog", "I2SMic"),
                "lsm9ds1": ("sim_lsm9ds1", "LSM9DS1"), "lsm9ds1_mag": ("sim_lsm9ds1", "LSM9DS1Mag"),
                "bmi270": ("sim_bmi270", "BMI270"),
                "button": ("sim_inputs", "DigitalInput"), "pir": ("sim_inputs", "DigitalInput"),
                "touchpad": ("sim_inputs", "TouchPad")}


def _make_devices():
    for spec in CONFIG.get("devices", ()):
        kind = DEVICE_TYPES.get(spec["type"])
        if kind is None:
            raise RuntimeError("unix-sim: unknown simulated device " + spec["type"])
        mod = __import__(kind[0])
        stream = streams.get(spec.get("stream", "imu"))
        devices.append(getattr(mod, kind[1])(spec, stream))


_make_devices()


def device_at(scl, sda, addr):
    for dev in devices:
        if dev.bus_pins == (scl, sda) and dev.addr == addr:
            return dev
    return None


def devices_on(scl, sda):
    return [dev.addr for dev in devices if dev.bus_pins == (scl, sda)]


def driver_of(pin):
    """The device whose output (INT line) is wired to this MCU pin, if any."""
    for dev in devices:
        if dev.int_pin == pin:
            return dev
    return None


def touchpad_on(pin):
    """The simulated touch pad wired to this pin, if any."""
    for dev in devices:
        if getattr(dev, "kind", None) == "touchpad" and dev.pin == pin:
            return dev
    return None


def device_of(kind, **match):
    """The non-I2C device of this kind ('analog', 'i2s_mic') whose attributes equal `match`, if any."""
    for dev in devices:
        if getattr(dev, "kind", None) == kind and all(getattr(dev, k, None) == v for k, v in match.items()):
            return dev
    return None


# ---- RTC memory, reset cause, wake reason ------------------------------------------------------------------
def rtc_load():
    try:
        with open(SIM_DIR + "/rtc.bin", "rb") as f:
            return f.read()
    except OSError:
        return b""


rtc_memory = [rtc_load()]
RESET_CAUSE = CONFIG.get("reset_cause", 1)
WAKE_REASON = CONFIG.get("wake_reason", 0)

# Wake sources armed for the next deep sleep (esp32 model: ext0 = one pin and a level; ext1 = pins, level).
wake = {"ext0": None, "ext1": None, "touch": False, "ulp": False}


def _level_at(pin, t):
    dev = driver_of(pin)
    return dev.pin_level(t) if dev is not None else 0      # an undriven pin: pulled low in the sim


def _all_low_from(pins, t):
    """ext1 ALL_LOW on the classic ESP32: the first time >= t at which every pin reads 0 together."""
    for _ in range(10000):
        latest = t
        for p in pins:
            dev = driver_of(p)
            tp = dev.next_level(t, 0) if dev is not None else t
            if tp is None:
                return None
            latest = tp if tp > latest else latest
        if all(_level_at(p, latest) == 0 for p in pins):
            return latest
        t = latest + 1
    return None


def _touch_wake_from(t):
    best = None
    for dev in devices:
        if getattr(dev, "kind", None) == "touchpad":
            tt = dev.next_touch(t)
            if tt is not None and (best is None or tt < best):
                best = tt
    return best


def deepsleep(ms, timer_wake, pin_wake, ext1_wake, touch_wake=5):
    """Save what survives (RTC memory, the devices' state), work out when and why the board wakes, end the
    process. The runner boots the script again. Wake sources (esp32 semantics, all level-triggered: a level
    already there wakes at once): the timer; ext0 (one pin at a level); ext1 (ANY_HIGH: any pin high;
    ALL_LOW: every pin low together, as on the classic ESP32); touch (a configured pad reading below its
    threshold)."""
    t_sleep = clock.now()
    start = abs_us(t_sleep)
    # Finding when a chip drives its pin runs its model forward; a chip whose pin never changes runs to the
    # end of its data. So each chip's state is kept here and the chips are started again from it below.
    asleep = [dev.save() for dev in devices]
    candidates = []      # (absolute wake time, wake reason number)
    if ms is not None:
        candidates.append((start + int(ms) * 1000, timer_wake))
    sources = []
    if wake["ext0"] is not None:
        sources.append((wake["ext0"][0], wake["ext0"][1], pin_wake))
    if wake["ext1"] is not None:
        pins, level = wake["ext1"]
        if level:
            for p in pins:
                sources.append((p, 1, ext1_wake))
        else:
            t = _all_low_from(pins, start)
            if t is not None:
                candidates.append((t, ext1_wake))
    for pin, level, reason in sources:
        dev = driver_of(pin)
        if dev is not None:
            t = dev.next_level(start, level)
            if t is not None:
                candidates.append((t, reason))
    if wake["touch"]:
        t = _touch_wake_from(start)
        if t is not None:
            candidates.append((t, touch_wake))
    wake_at, reason = None, 0
    for t, r in candidates:
        if wake_at is None or t < wake_at:
            wake_at, reason = t, r
    for i, dev in enumerate(devices):
        devices[i] = type(dev)(asleep[i], getattr(dev, "data", None) or getattr(dev, "stream", None))
    if wake_at is not None:
        for dev in devices:
            dev.catch_up(wake_at)   # the chip keeps sampling while the MCU sleeps
    with open(SIM_DIR + "/rtc.bin", "wb") as f:
        f.write(rtc_memory[0])
    with open(SIM_DIR + "/sleep.json", "w") as f:
        json.dump({"kind": "deepsleep", "asleep_at_us": start, "wake_at_us": wake_at, "wake_reason": reason,
                   "devices": [dev.save() for dev in devices], "stats": stats}, f)
    sys.stdout.flush() if hasattr(sys.stdout, "flush") else None
    raise SystemExit(0)


def reset(cause):
    """machine.reset(): a reboot with the given reset cause; RTC memory survives (esp32: RTC_NOINIT)."""
    with open(SIM_DIR + "/rtc.bin", "wb") as f:
        f.write(rtc_memory[0])
    with open(SIM_DIR + "/sleep.json", "w") as f:
        json.dump({"kind": "reset", "reset_cause": cause, "asleep_at_us": abs_us(),
                   "devices": [dev.save() for dev in devices], "stats": stats}, f)
    raise SystemExit(0)
