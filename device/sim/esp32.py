# `esp32` on the simulated board unix-sim: the deep-sleep wake configuration of the esp32 port
# (ports/esp32/modesp32.c), with its resource conflicts. ext0/ext1 wake when the simulated chip wired to the pin
# drives it to the level; touch and ULP wake are accepted but nothing in the sim ever triggers them.
import sim_world as _w

WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True


def _pin_id(p):
    return p if isinstance(p, int) else p.id


def _check_rtc(pin_id):
    rtc = _w.BOARD.get("wake_pins")
    if rtc is not None and pin_id not in rtc:
        raise ValueError("invalid pin for wake")


def wake_on_ext0(pin, level):
    if _w.wake["touch"]:
        raise ValueError("no resources")
    if pin is None:
        _w.wake["ext0"] = None
        return
    _check_rtc(_pin_id(pin))
    _w.wake["ext0"] = (_pin_id(pin), 1 if level else 0)


def wake_on_ext1(pins, level):
    if pins is None:
        _w.wake["ext1"] = None
        return
    ids = [_pin_id(p) for p in pins]
    for i in ids:
        _check_rtc(i)
    _w.wake["ext1"] = (ids, 1 if level else 0)


def wake_on_touch(wake):
    if wake and _w.wake["ext0"] is not None:
        raise ValueError("no resources")
    _w.wake["touch"] = bool(wake)


def wake_on_ulp(wake):
    if wake and _w.wake["ext0"] is not None:
        raise ValueError("no resources")
    _w.wake["ulp"] = bool(wake)

