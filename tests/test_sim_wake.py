"""Wake sources of the simulated board (device/sim): a button and a PIR sensor on ext0/ext1 wake pins, with the
classic ESP32's ext1 ALL_LOW (every pin low together), and a touch pad under its threshold; the sim's deep
sleep boots again with the right wake reason, and tinyml_device.power reports it normalised. The inputs are
scheduled in the device specs (device/sim/sim_inputs.py); every script runs on the virtual clock."""

from test_device_runtime import sim, lines

INPUTS = [
    {"type": "button", "pin": 0, "presses": [[3.0, 3.2], [12.0, 13.0]]},       # active low
    {"type": "button", "pin": 13, "presses": [[12.5, 14.0]]},
    {"type": "pir", "pin": 26, "motion": [6.0], "hold_s": 2.5},                 # active high for 2.5 s
    {"type": "touchpad", "pin": 4, "touches": [[9.0, 9.4]], "untouched": 900, "touched": 150},
]

WAKE_SCRIPT = """
    import machine, esp32
    from machine import Pin, RTC
    from tinyml_device import power
    from tinyml_device.board import Unsupported
    stage = RTC().memory()[0] if RTC().memory() else 0
    RTC().memory(bytes([stage + 1]))
    print("BOOT", stage, power.wake_reason(), machine.wake_reason(), Pin(0).value(), Pin(13).value(),
          Pin(26).value(), machine.TouchPad(Pin(4)).read())
    if stage == 0:
        power.wake_on_pin(0, level=0)                # the button pulls pin 0 low
    elif stage == 1:
        power.wake_on_pins([26], level=1)            # ext1 ANY_HIGH: the PIR
    elif stage == 2:
        try:
            power.wake_on_touch(pin=5)
        except Unsupported as e:
            print("NOTOUCH", e)
        print("THRESHOLD", power.wake_on_touch(pin=4))    # 2/3 of the idle 900
        try:
            esp32.wake_on_ext0(Pin(2), 1)
        except ValueError as e:
            print("CONFLICT", e)
    elif stage == 3:
        esp32.wake_on_touch(False)
        power.wake_on_pins([0, 13], level=0)         # ext1 ALL_LOW: both buttons held together
    else:
        raise SystemExit
    power.deepsleep(60000 if stage < 3 else None)
"""


def test_button_pir_touch_and_all_low_wake(tmp_path):
    run = sim(tmp_path, WAKE_SCRIPT, boots=6, sim={"devices": INPUTS})
    boots = [l.split() for l in lines(run, "BOOT")]
    assert [b[0] for b in boots] == ["0", "1", "2", "3", "4"], run.stdout
    # boot 0: power-on, nothing pressed (pin 0 and 13 idle high, the PIR low, the pad untouched)
    assert boots[0][1:] == ["power_on", "0", "1", "1", "0", "900"]
    # the button press at 3.0 s: ext0 (PIN_WAKE = 2), the button still held at the wake
    assert boots[1][1:3] == ["pin", "2"] and boots[1][3] == "0" and run.boots[1].start_us == 3_000_000
    # the PIR at 6.0 s: ext1 (EXT1_WAKE = 3), its output high for 2.5 s
    assert boots[2][1:3] == ["pin", "3"] and boots[2][5] == "1" and run.boots[2].start_us == 6_000_000
    assert lines(run, "THRESHOLD") == ["600"]
    assert "pin 5 is not a touch pad pin" in lines(run, "NOTOUCH")[0]
    assert lines(run, "CONFLICT") == ["no resources"]    # ext0 and touch share the RTC wake hardware
    # the touch at 9.0 s (TOUCHPAD_WAKE = 5); the pad reads 150 while touched
    assert boots[3][1:3] == ["touch", "5"] and boots[3][6] == "150" and run.boots[3].start_us == 9_000_000
    # ALL_LOW: pin 0 goes low at 12.0 s, but pin 13 only at 12.5 s, the first moment both are low
    assert boots[4][1:5] == ["pin", "3", "0", "0"] and run.boots[4].start_us == 12_500_000


def test_a_timer_before_the_input_wins_and_an_input_already_active_wakes_at_once(tmp_path):
    run = sim(tmp_path, """
        import machine
        from tinyml_device import power
        print("WOKE", power.wake_reason(), machine.wake_reason())
        if power.wake_reason() == "power_on":
            power.wake_on_pin(0, level=0)
            power.deepsleep(1000)                    # the press comes at 3 s: the timer first
        elif power.wake_reason() == "timer":
            power.wake_on_pins([26], level=1)
            power.deepsleep(60000)
        elif machine.Pin(26).value():
            power.wake_on_pins([26], level=1)        # still high: ext1 is level-triggered
            power.deepsleep(60000)
    """, boots=4, sim={"devices": INPUTS})
    assert lines(run, "WOKE") == ["power_on 0", "timer 4", "pin 3", "pin 3"], run.stdout
    assert 1_000_000 <= run.boots[1].start_us < 1_001_000 and run.boots[2].start_us == 6_000_000
    # at once: after the board's 70 ms wake (boards/unix-sim.json) and a few virtual us of the script
    assert 6_070_000 <= run.boots[3].start_us < 6_071_000
