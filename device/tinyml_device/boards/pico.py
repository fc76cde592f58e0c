# Generated from boards/pico.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'pico',
    'name': 'Raspberry Pi Pico (RP2040)',
    'port': 'rp2',
    'power_model': 'rp2',
    'arch': 'armv6m',
    'mpy': 4870,
    'i2c': {'0': {'scl': 9, 'sda': 8}, '1': {'scl': 7, 'sda': 6}},
    'i2s': {'ids': (0, 1), 'pins': 'PIO: ws must be sck + 1', 'source': 'mp:docs/rp2/quickref.rst L358-376'},
    'adc_pins': (26, 27, 28),
    'wake_pins': (),
    'wake_sources': ('timer',),
    'reset_causes': {'PWRON_RESET': 1, 'WDT_RESET': 3},
    'rtc_memory_bytes': 0,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'pin_wake': 'pin wake from deep sleep is not available on the rp2 port (deepsleep is a timed lightsleep then a watchdog reboot)', 'rtc_memory': 'no machine.RTC().memory() on the rp2 port: state goes to a file'},
    'sensors': (),
    'led': {'pin': 'LED', 'on': 1, 'source': "mp:docs/rp2/quickref.rst (Pin('LED') on Pico and Pico W)"},
}
