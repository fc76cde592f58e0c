# What this board can do, from data: tinyml_device/boards/<id>.py, generated from the repository's
# boards/*.json (a dict literal: nothing is parsed at boot, and only this board's description is imported).
#
#   from tinyml_device import board
#   b = board.current()           # detected from sys.implementation._machine (or the simulated board)
#   b.require("i2s")              # raises Unsupported naming the board and the reason, if it lacks I2S
#   b.i2c_pins(0)                 # (scl, sda) of MicroPython's default I2C(0) pins on this board
import sys


class Unsupported(Exception):
    """The board, or its MicroPython port, lacks a capability. The message names the board and says why."""


class Board:
    def __init__(self, board_id):
        name = board_id.replace("-", "_")
        try:
            mod = __import__("tinyml_device.boards." + name, None, None, ("B",))
        except ImportError:
            raise Unsupported("unknown board '%s': no tinyml_device/boards/%s.py" % (board_id, name))
        d = mod.B
        self.id = d["id"]
        self.name = d["name"]
        self.port = d["port"]
        self.power_model = d["power_model"]
        self.arch = d["arch"]
        self.mpy = d["mpy"]
        self.i2c = d["i2c"] or {}
        self.i2s = d["i2s"]
        self.adc_pins = d["adc_pins"] or ()
        self.wake_pins = d["wake_pins"]
        self.wake_sources = d["wake_sources"]
        self.reset_causes = d["reset_causes"] or {}
        self.rtc_memory_bytes = d["rtc_memory_bytes"] or 0
        self.lacks = d["lacks"] or {}
        self.sensors = d["sensors"]
        self.led = d.get("led")     # {"pin": id, "on": level} of a user LED, or None

    def __repr__(self):
        return "<Board %s: %s, %s port>" % (self.id, self.name, self.port)

    def has(self, capability):
        return capability not in self.lacks

    def require(self, capability):
        """Raise Unsupported if this board lacks `capability` ('i2s', 'adc', 'pdm_mic', 'camera', 'deepsleep',
        'rtc_memory', 'pin_wake', ...)."""
        why = self.lacks.get(capability)
        if why is not None:
            raise Unsupported("%s (%s port) cannot do %s: %s" % (self.name, self.port, capability, why))

    def led_pin(self):
        """(machine.Pin of the user LED, its 'on' level), or (None, None) when the board has none."""
        if not self.led:
            return None, None
        from machine import Pin
        return Pin(self.led["pin"], Pin.OUT), self.led["on"]

    def i2c_pins(self, bus=0):
        b = self.i2c.get(str(bus))
        if b is None:
            raise Unsupported("%s has no I2C(%s) in its description (buses: %s)" % (
                self.name, bus, ", ".join(sorted(self.i2c)) or "none"))
        return b["scl"], b["sda"]

    def check_wake_pin(self, pin):
        if pin not in self.wake_pins:
            if not self.wake_pins:
                raise Unsupported("%s (%s port) has no pin that can wake it from deep sleep" % (self.name, self.port))
            raise Unsupported("%s: pin %s cannot wake it from deep sleep; wake-capable pins: %s" % (
                self.name, pin, ", ".join(str(p) for p in self.wake_pins)))

    def check_wake_source(self, source):
        if source not in self.wake_sources:
            raise Unsupported("%s (%s port) cannot wake from deep sleep on %s; it can on: %s" % (
                self.name, self.port, source, ", ".join(self.wake_sources) or "nothing (no deep sleep)"))


def detect():
    """The id of the board this runs on."""
    try:
        import sim_world    # only the simulated board has it
        return sim_world.BOARD["id"]
    except ImportError:
        pass
    from tinyml_device.boards import MATCH
    machine = getattr(sys.implementation, "_machine", sys.platform)
    for sub, mod in MATCH:
        if sub in machine:
            return mod.replace("_", "-")
    raise Unsupported("unknown board '%s': pass its id, e.g. board.current('esp32')" % machine)


_current = [None]  # type: list  # the Board, once detected


def current(board_id=None):
    """The Board this runs on (detected once), or the one named."""
    if board_id is not None:
        if _current[0] is None or _current[0].id != board_id:
            _current[0] = Board(board_id)
        return _current[0]
    if _current[0] is None:
        _current[0] = Board(detect())
    return _current[0]
