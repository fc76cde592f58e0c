# Generated from boards/esp32.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'esp32',
    'name': 'ESP32-DevKitC (ESP32-WROOM-32, no PSRAM)',
    'port': 'esp32',
    'power_model': 'esp32',
    'arch': 'xtensawin',
    'mpy': 11014,
    'i2c': {'0': {'scl': 18, 'sda': 19}, '1': {'scl': 25, 'sda': 26}},
    'i2s': {'ids': (0, 1), 'pins': 'any GPIO', 'example_inmp441': {'sck': 19, 'ws': 18, 'sd': 23}, 'source': 'mp:docs/library/machine.I2S.rst; tensorflow-micropython-examples micro-speech/esp32/README.md'},
    'adc_pins': (32, 33, 34, 35, 36, 39),
    'wake_pins': (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39),
    'wake_sources': ('timer', 'ext0', 'ext1', 'touch', 'ulp'),
    'reset_causes': {'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4, 'SOFT_RESET': 5},
    'rtc_memory_bytes': 2048,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'camera': 'no camera module in stock ESP32 firmware (cnadler86/micropython-camera-API needs a custom build)'},
    'sensors': (),
    'led': None,
}
