# Generated from boards/nucleo-f446re.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'nucleo-f446re',
    'name': 'ST Nucleo-F446RE (STM32F446RE)',
    'port': 'stm32',
    'power_model': 'stm32',
    'arch': 'armv7emsp',
    'mpy': 7942,
    'i2c': {'1': {'scl': 'PB8', 'sda': 'PB9', 'note': 'Arduino header D15/D14 (UNCONFIRMED)'}},
    'i2s': {'note': 'UNCONFIRMED'},
    'adc_pins': ('PA0', 'PA1', 'PA4', 'PB0', 'PC1', 'PC0'),
    'wake_pins': ('PA0',),
    'wake_sources': ('timer', 'pin'),
    'reset_causes': {'SOFT_RESET': 0, 'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4},
    'rtc_memory_bytes': 0,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'rtc_memory': 'no machine.RTC().memory() on the stm32 port (backup RAM needs stm.mem32): state goes to a file'},
    'sensors': (),
    'led': None,
}
