# Simulated wake inputs on unix-sim that the world drives on a schedule: a push button and a PIR motion sensor
# on a digital pin, and an ESP32 touch pad. Times in a spec are seconds of absolute virtual time (since the
# first power-on), the time base of every --data stream.
#
#   {"type": "button", "pin": 0, "presses": [[2.0, 2.3], [9.5, 9.6]]}          active low by default (to GND,
#                                                                                 the pin pulled up)
#   {"type": "pir", "pin": 26, "motion": [4.0, 30.0], "hold_s": 2.5}            active high for hold_s after
#                                                                                 each motion (HC-SR501-style)
#   {"type": "touchpad", "pin": 4, "touches": [[5.0, 5.4]], "untouched": 1000, "touched": 200}
#
# A touch pad's reading on the classic ESP32 falls when a finger is on it, and machine.TouchPad.config(threshold)
# with esp32.wake_on_touch(True) wakes the chip when the reading falls below the threshold (the ESP32-S2/S3
# count the other way: not modelled, the sim is a classic ESP32).
from sim_analog import SimDevice


def _intervals(spec_list, hold_s):
    """[[t0, t1], ...] or [t, ...] (an event lasting hold_s) in seconds -> sorted [(t0_us, t1_us), ...]."""
    out = []
    for ev in spec_list or ():
        if isinstance(ev, (int, float)):
            t0, t1 = ev, ev + hold_s
        else:
            t0, t1 = ev[0], ev[1]
        if t1 <= t0:
            raise ValueError("unix-sim: an input event must end after it starts: %r" % (ev,))
        out.append((int(t0 * 1000000), int(t1 * 1000000)))
    out.sort()
    merged = []                         # a retriggered PIR stays on: overlapping intervals are one
    for t0, t1 in out:
        if merged and t0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], t1))
        else:
            merged.append((t0, t1))
    return merged


class _Scheduled(SimDevice):
    """Active during its intervals, inactive otherwise."""

    def active_at(self, t):
        for t0, t1 in self.intervals:
            if t0 <= t < t1:
                return True
            if t0 > t:
                break
        return False

    def next_change(self, t, want_active):
        """The first time >= t at which active_at() == want_active, or None."""
        if self.active_at(t) == want_active:
            return t
        for t0, t1 in self.intervals:
            if want_active and t0 > t:
                return t0
            if not want_active and t0 <= t < t1:
                return t1
        return None


class DigitalInput(_Scheduled):
    """A button or a PIR sensor's output on digital pin `pin` (read by machine.Pin, and an ext0/ext1 wake
    source): `active` while an event lasts, 1 - active otherwise."""

    def __init__(self, spec, stream):
        super().__init__(spec, stream)
        self.kind = spec["type"]
        self.int_pin = spec["pin"]
        if self.kind == "pir":
            self.active = spec.get("active", 1)
            self.intervals = _intervals(spec.get("motion"), spec.get("hold_s", 2.5))
        else:
            self.active = spec.get("active", 0)
            self.intervals = _intervals(spec.get("presses"), spec.get("hold_s", 0.2))

    def pin_level(self, t):
        return self.active if self.active_at(t) else 1 - self.active

    def next_level(self, t, level):
        return self.next_change(t, level == self.active)


class TouchPad(_Scheduled):
    """An ESP32 touch pad on `pin`: machine.TouchPad(pin).read() gives `touched` while a touch lasts, `untouched`
    otherwise. The threshold machine.TouchPad.config() sets is kept here for the deep-sleep wake."""
    kind = "touchpad"

    def __init__(self, spec, stream):
        super().__init__(spec, stream)
        self.pin = spec["pin"]
        self.untouched = spec.get("untouched", 1000)
        self.touched = spec.get("touched", 200)
        self.intervals = _intervals(spec.get("touches"), spec.get("hold_s", 0.3))
        self.threshold = None

    def value(self, t):
        return self.touched if self.active_at(t) else self.untouched

    def next_touch(self, t):
        """When a touch first reads below the configured threshold (the ESP32's wake condition), or None."""
        if self.threshold is None or self.touched >= self.threshold:
            return None
        if self.untouched < self.threshold:
            return t                    # a threshold above the idle reading: wakes at once, as on the chip
        return self.next_change(t, True)
