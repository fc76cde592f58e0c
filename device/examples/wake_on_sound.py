# Wake on sound: sleep until a sound-level trigger fires, then record a short clip from an I2S microphone into
# a buffer allocated once, report its level, and sleep again.
#
# Wiring: a sound-level module's comparator output (DO of a KY-038/LM393-style board: high while loud) on
# GPIO 33, an RTC pin that can wake the ESP32 (ext0); an INMP441 on I2S(0): SCK 14, WS 15, SD 32, L/R to GND.
# Why two: the I2S mic needs its clock running to hear anything, and no clock runs in deep sleep; the
# comparator draws microamps and needs no MCU. (Not on the Nano 33 BLE Sense: the nrf port has no I2S, and its
# PDM mic cannot be read by stock MicroPython; INMP441() says so.)
#
#   tinyml run --board unix-sim device/examples/wake_on_sound.py --data mic=sounds.wav --boots 4
import time

from machine import Pin
from tinyml_device import board, power
from tinyml_device.duty import Phases
from tinyml_device.state import State
from tinyml_device.drivers.inmp441 import INMP441, level, dbfs

TRIGGER_PIN = 33
SCK, WS, SD = 14, 15, 32
RATE = 16000
CLIP_MS = 500
QUIET_WAIT_MS = 3000        # before sleeping, wait (up to this long) for the trigger to go quiet

phases = Phases()
b = board.current()
state = State(words=2, version=1)       # [clips recorded, loudest peak seen]
wake = power.wake_reason()
print("wake-on-sound on %s: woke by %s, %d clips so far" % (b.id, wake, state.values[0]))

if wake == "pin":
    clip = bytearray(2 * RATE * CLIP_MS // 1000)        # 16-bit mono: allocated once, before recording
    with phases("record"):
        mic = INMP441(SCK, WS, SD, rate=RATE, ibuf=8000)
        mic.readinto(clip)
        mic.deinit()
    with phases("level"):
        peak, rms = level(clip)
    state.values[0] += 1
    if peak > state.values[1]:
        state.values[1] = peak
    print("REPORT clip %d: %d ms at %d Hz, peak %.1f dBFS, rms %.1f dBFS" % (
        state.values[0], CLIP_MS, RATE, dbfs(peak), dbfs(rms)))

trigger = Pin(TRIGGER_PIN, Pin.IN)
t0 = time.ticks_ms()
while trigger.value() and time.ticks_diff(time.ticks_ms(), t0) < QUIET_WAIT_MS:
    time.sleep_ms(20)       # ext0 is level-triggered: sleeping while it is loud would wake at once
state.save()
power.wake_on_pin(TRIGGER_PIN, level=1)
print(phases.report())
print("sleeping until the sound trigger on pin %d" % TRIGGER_PIN)
power.deepsleep()
