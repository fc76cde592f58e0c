# An analog sensor on an ADC pin (a vibration/piezo module, a sound-level module's analog output, a soil-moisture
# probe), read with machine.ADC.read_u16() (0..65535 on every port) at a fixed rate through the Sampler.
#
#   src = AnalogSensor(34)                  # checks that the pin is an ADC pin of this board
#   ring = Ring(256, 1, "H")
#   s = Sampler(src.read_into, ring, 1000)  # 1 kHz, rate/jitter/overruns measured
#   s.run(256)
#
# Stock MicroPython has no paced or DMA ADC on the esp32 (only stm32's pyb.ADC.read_timed), so the rate is what
# a Python loop or a soft Timer gives: the Sampler measures it. On the esp32 `atten` (ADC.ATTN_11DB) sets the
# input range to about 0-3.1 V; read_u16() is scaled to 16 bits on every port.
from ..board import current, Unsupported


class AnalogSensor:
    def __init__(self, pin, atten=None, vref=3.3, board=None):
        b = board or current()
        b.require("adc")
        if b.adc_pins and pin not in b.adc_pins:
            raise Unsupported("%s: pin %s is not an ADC pin; ADC pins: %s" % (
                b.name, pin, ", ".join(str(p) for p in b.adc_pins)))
        from machine import ADC, Pin
        self.pin = pin
        self.vref = vref
        if atten is None and hasattr(ADC, "ATTN_11DB"):
            atten = ADC.ATTN_11DB
        self.adc = ADC(Pin(pin), atten=atten) if atten is not None else ADC(Pin(pin))

    def __repr__(self):
        return "<AnalogSensor %r>" % self.adc

    def read_u16(self):
        return self.adc.read_u16()

    def read_into(self, frame):
        """For Sampler: one reading into frame[0] (a Ring frame of typecode 'H' or 'i')."""
        frame[0] = self.adc.read_u16()

    def volts(self, u16):
        return u16 * self.vref / 65535
