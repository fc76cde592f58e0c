# Sleep and wake over what each MicroPython port really has (checked in the ports' sources; see
# docs/device-runtime.md for the table):
#   esp32  deepsleep is a reboot; wake on timer, ext0 (one RTC pin), ext1 (RTC pins), touch, ULP;
#          machine.wake_reason() gives raw ESP-IDF numbers, compared here against the port's constants.
#   rp2    deepsleep = lightsleep(ms) then a watchdog reboot: reset_cause() reads WDT_RESET; timer wake only.
#   nrf    deepsleep() resets at once and lightsleep() ignores its timeout: a timed "deep sleep" is done as
#          time.sleep_ms() then a reset (no power saved: said once, on the console).
#   stm32  deepsleep = STANDBY, woken by the RTC (or PA0 after a register write); reset_cause() reads
#          DEEPSLEEP_RESET.
# unix-sim follows the esp32 model. wake_reason() gives the same names on every board:
#   'timer', 'pin', 'touch', 'ulp', 'deepsleep' (woke from deep sleep, source unknown),
#   'power_on', 'reset', 'watchdog', 'soft_reset', 'unknown'.
# Where the port cannot tell why it woke (rp2, nrf, stm32), what was armed is recorded in a tiny marker file
# just before sleeping, and read back (and removed) after the reboot.
import machine
import time

from .board import Unsupported, current

MARKER = "tm_sleep.txt"

_armed = {"pin": None, "pins": None, "touch": False}
_cache = {}


def _board():
    return current()


def _const(name):
    return getattr(machine, name, None)


def reset_cause():
    """'power_on', 'reset', 'watchdog', 'deepsleep', 'soft_reset', 'lockup' or 'unknown'."""
    if "reset" in _cache:
        return _cache["reset"]
    try:
        raw = machine.reset_cause()
    except AttributeError:
        return "unknown"
    name = "unknown"
    for const, n in (("PWRON_RESET", "power_on"), ("HARD_RESET", "reset"), ("WDT_RESET", "watchdog"),
                     ("DEEPSLEEP_RESET", "deepsleep"), ("SOFT_RESET", "soft_reset"), ("LOCKUP_RESET", "lockup")):
        if _const(const) is not None and raw == _const(const):
            name = n
            break
    _cache["reset"] = name
    return name


def _take_marker():
    try:
        with open(MARKER) as f:
            what = f.read().strip()
    except OSError:
        return None
    import os
    try:
        os.remove(MARKER)
    except OSError:
        pass
    return what


def _leave_marker(what):
    with open(MARKER, "w") as f:
        f.write(what)


def wake_reason():
    """Why the board is running: see the names at the top of this module."""
    if "wake" in _cache:
        return _cache["wake"]
    model = _board().power_model
    cause = reset_cause()
    name = {"power_on": "power_on", "reset": "reset", "watchdog": "watchdog", "soft_reset": "soft_reset",
            "lockup": "reset"}.get(cause, cause)
    if model == "esp32":
        if cause == "deepsleep":
            raw = machine.wake_reason()
            name = "deepsleep"
            for const, n in (("PIN_WAKE", "pin"), ("EXT0_WAKE", "pin"), ("EXT1_WAKE", "pin"),
                             ("TIMER_WAKE", "timer"), ("TOUCHPAD_WAKE", "touch"), ("ULP_WAKE", "ulp")):
                if _const(const) is not None and raw == _const(const):
                    name = n
                    break
    else:
        marker = _take_marker()
        # rp2: the deep-sleep reboot is a watchdog reset; nrf: our timed sleep ends in machine.reset();
        # stm32: STANDBY wakes with DEEPSLEEP_RESET. The marker says a sleep was under way and what was armed.
        if marker is not None and cause in ("watchdog", "soft_reset", "reset", "deepsleep"):
            name = marker
    _cache["wake"] = name
    return name


def woke_from_deepsleep():
    return wake_reason() in ("timer", "pin", "touch", "ulp", "deepsleep")


def wake_on_pin(pin, level=1):
    """Arm a wake from deep sleep when `pin` (a number as in machine.Pin) is at `level`. esp32: ext0, an RTC
    pin; stm32: only PA0/X1. Raises Unsupported where the board cannot."""
    b = _board()
    b.check_wake_source("ext0" if b.power_model == "esp32" else "pin")
    b.check_wake_pin(pin)
    if b.power_model == "esp32":
        import esp32
        esp32.wake_on_ext0(machine.Pin(pin, machine.Pin.IN), esp32.WAKEUP_ANY_HIGH if level else esp32.WAKEUP_ALL_LOW)
    elif b.power_model == "stm32":
        if not level:
            raise Unsupported("%s: the WKUP pin wakes on a rising edge only" % b.name)
        import stm
        stm.mem32[stm.PWR + stm.PWR_CSR] |= 1 << 8      # PWR_CSR.EWUP (issue micropython#5350)
    _armed["pin"] = (pin, level)


def wake_on_pins(pins, level=1):
    """esp32 ext1: any of `pins` high (level=1), or all low (level=0; on the S2/S3 level 0 means ANY low)."""
    b = _board()
    b.check_wake_source("ext1")
    for p in pins:
        b.check_wake_pin(p)
    import esp32
    esp32.wake_on_ext1([machine.Pin(p, machine.Pin.IN) for p in pins],
                       esp32.WAKEUP_ANY_HIGH if level else esp32.WAKEUP_ALL_LOW)
    _armed["pins"] = (tuple(pins), level)


def wake_on_touch(pin=None, threshold=None):
    """esp32: wake when a touch pad reads below its threshold. With `pin`, configure that pad here: at
    `threshold`, or at 2/3 of what it reads now (untouched: a finger lowers the reading on the classic ESP32).
    Without, configure it first with machine.TouchPad(pin).config(threshold). Returns the threshold set."""
    b = _board()
    b.check_wake_source("touch")
    import esp32
    if pin is not None:
        try:
            pad = machine.TouchPad(machine.Pin(pin))
        except ValueError:
            raise Unsupported("%s: pin %s is not a touch pad pin" % (b.name, pin))
        if threshold is None:
            threshold = pad.read() * 2 // 3
        pad.config(threshold)
    esp32.wake_on_touch(True)
    _armed["touch"] = True
    return threshold


def deepsleep(ms=None):
    """Sleep until a wake source fires, or `ms` pass. On every board the program then starts again from the
    top (a reboot): keep what must survive in tinyml_device.state. Never returns."""
    b = _board()
    model = b.power_model
    if model == "esp32":
        if ms is None and not (_armed["pin"] or _armed["pins"] or _armed["touch"]):
            raise Unsupported("%s: deepsleep() with no time and no wake source armed would never wake" % b.name)
        machine.deepsleep(ms) if ms is not None else machine.deepsleep()
    elif model == "rp2":
        if ms is None:
            raise Unsupported("%s (rp2 port): deep sleep wakes only on a timer: give ms (at most about 71 min)"
                              % b.name)
        _leave_marker("timer")
        machine.deepsleep(ms)
    elif model == "nrf":
        if ms is None:
            raise Unsupported("%s (nrf port): deepsleep() resets at once and nothing could wake the board; give ms"
                              % b.name)
        print("power: %s has no deep sleep in stock MicroPython (the nrf port resets at once): waiting %d ms "
              "awake, then resetting" % (b.name, ms))
        _leave_marker("timer")
        time.sleep_ms(ms)
        machine.reset()
    elif model == "stm32":
        _leave_marker("pin" if ms is None else ("deepsleep" if _armed["pin"] else "timer"))
        machine.deepsleep(ms) if ms is not None else machine.deepsleep()
    else:
        raise Unsupported("%s: no deep sleep on the %s port" % (b.name, b.port))


def lightsleep(ms):
    """Sleep `ms` with RAM kept; execution continues after the call. On nrf, where lightsleep() ignores the
    time, this is time.sleep_ms()."""
    if _board().power_model == "nrf":
        time.sleep_ms(ms)
    else:
        machine.lightsleep(ms)
