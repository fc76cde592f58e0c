# Generated from boards/pyboard.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'pyboard',
    'name': 'PYBv1.1 / STM32F405',
    'port': 'stm32',
    'power_model': 'stm32',
    'arch': 'armv7emsp',
    'mpy': 7942,
    'i2c': {'1': {'scl': 'X9', 'sda': 'X10'}, '2': {'scl': 'Y9', 'sda': 'Y10'}},
    'i2s': {'ids': (2,), 'note': 'UNCONFIRMED pins', 'source': 'mp:docs/library/machine.I2S.rst'},
    'adc_pins': ('X1', 'X2', 'X3', 'X4', 'X5', 'X6', 'X7', 'X8', 'X11', 'X12', 'X19', 'X20', 'X21', 'X22', 'Y11', 'Y12'),
    'wake_pins': ('X1',),
    'wake_sources': ('timer', 'pin'),
    'reset_causes': {'SOFT_RESET': 0, 'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4},
    'rtc_memory_bytes': 0,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'rtc_memory': 'no machine.RTC().memory() on the stm32 port (backup RAM needs stm.mem32): state goes to a file'},
    'sensors': (),
    'led': None,
}
