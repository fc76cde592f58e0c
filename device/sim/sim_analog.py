# Simulated devices on unix-sim that are not I2C chips: an analog source on an ADC pin (a vibration, sound-level
# or soil sensor's voltage), a sound-level comparator module driving a digital pin (an analog microphone with an
# envelope detector and an LM393-style comparator: its DO pin goes active while the sound is loud), and an I2S
# MEMS microphone (INMP441) whose samples machine.I2S reads. Each reads a --data stream in virtual time.
from array import array


class SimDevice:
    """What sim_world asks of every device: where it is wired, its state across deep sleep, its output pin."""
    kind = None
    bus_pins = None
    addr = None
    int_pin = None

    def __init__(self, spec, stream):
        self.spec = spec
        self.stream = stream

    def catch_up(self, t):
        pass

    def save(self):
        return self.spec            # stateless: the spec is all there is

    def pin_level(self, t):
        return 0

    def next_level(self, t, level):
        return None


class AnalogSource(SimDevice):
    """A voltage on ADC pin `pin`: the stream's column `col` in volts (or a constant `volts`), seen by an ADC
    whose full scale is `vref` volts (read_u16 0..65535). ESP32 attenuation is accepted and not modelled."""
    kind = "analog"

    def __init__(self, spec, stream):
        super().__init__(spec, stream)
        self.pin = spec["pin"]
        self.col = spec.get("col", 0)
        self.vref = spec.get("vref", 3.3)
        self.volts_const = spec.get("volts", 0.0)

    def volts(self, t):
        if self.stream is None:
            return self.volts_const
        v = self.stream.at(t)[self.col]
        return 0.0 if v < 0 else self.vref if v > self.vref else v

    def read_u16(self, t):
        return int(self.volts(t) * 65535 / self.vref + 0.5)


class Comparator(SimDevice):
    """A sound-level trigger on digital pin `pin`: the envelope of the source stream (the peak of |x| over
    `window_ms`) compared with `threshold` (in the stream's units: int16 PCM counts, or volts of a trace). The
    pin reads `active` (1 by default) while the envelope is at or above the threshold."""
    kind = "comparator"

    def __init__(self, spec, stream):
        super().__init__(spec, stream)
        self.int_pin = spec["pin"]
        self.threshold = spec.get("threshold", 4000)
        self.window_us = int(spec.get("window_ms", 5) * 1000)
        self.active = spec.get("active", 1)
        self.pcm = stream is not None and hasattr(stream, "samples")
        if self.pcm:
            self.block = array("h", bytes(2 * max(1, stream.rate * self.window_us // 1000000)))
        self._last = (None, 0)

    def _loud(self, t):
        if self.stream is None:
            return False
        w = t // self.window_us
        if self._last[0] == w:
            return self._last[1]
        if self.pcm:
            s = self.stream
            s.read_into(s.index(w * self.window_us), self.block)
            peak = 0
            for x in self.block:
                if x > peak:
                    peak = x
                elif -x > peak:
                    peak = -x
        else:
            peak = abs(self.stream.at(t)[0])
        loud = peak >= self.threshold
        self._last = (w, loud)
        return loud

    def pin_level(self, t):
        loud = self._loud(t)
        return self.active if loud else 1 - self.active

    def next_level(self, t, level):
        """The first time >= t (to a window) at which the pin reads `level`, before the stream ends."""
        if self.stream is None:
            return t if self.pin_level(t) == level else None
        end = self.stream.end_us() + self.window_us
        while t <= end:
            if self.pin_level(t) == level:
                return t
            t = (t // self.window_us + 1) * self.window_us
        return None


class I2SMic(SimDevice):
    """An INMP441 on the I2S pins (sck, ws, sd): machine.I2S RX on those pins reads the stream's int16 PCM
    (its L/R pin to GND: the left channel, which is what MONO reads). No stream: silence."""
    kind = "i2s_mic"

    def __init__(self, spec, stream):
        super().__init__(spec, stream)
        self.sck, self.ws, self.sd = spec["sck"], spec["ws"], spec["sd"]
        self.rate = stream.rate if stream is not None else None

    def read_into(self, start, buf):
        if self.stream is None:
            for i in range(len(buf)):
                buf[i] = 0
        else:
            self.stream.read_into(start, buf)
