# Generated from boards/esp32s3.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'esp32s3',
    'name': 'ESP32-S3-DevKitC-1 (N8R8: 8 MB PSRAM)',
    'port': 'esp32',
    'power_model': 'esp32',
    'arch': 'xtensawin',
    'mpy': 11014,
    'i2c': {'0': {'scl': 9, 'sda': 8, 'note': 'UNCONFIRMED default pins: pass scl= and sda= explicitly'}},
    'i2s': {'ids': (0, 1), 'pins': 'any GPIO', 'source': 'mp:docs/library/machine.I2S.rst'},
    'adc_pins': (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    'wake_pins': (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21),
    'wake_sources': ('timer', 'ext0', 'ext1', 'touch', 'ulp'),
    'reset_causes': {'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4, 'SOFT_RESET': 5},
    'rtc_memory_bytes': 2048,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'camera': 'no camera module in stock ESP32 firmware (cnadler86/micropython-camera-API needs a custom build)'},
    'sensors': (),
    'led': None,
}
