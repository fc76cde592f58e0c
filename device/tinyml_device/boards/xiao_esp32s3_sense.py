# Generated from boards/xiao-esp32s3-sense.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'xiao-esp32s3-sense',
    'name': 'Seeed XIAO ESP32S3 Sense',
    'port': 'esp32',
    'power_model': 'esp32',
    'arch': 'xtensawin',
    'mpy': 11014,
    'i2c': {'0': {'scl': 6, 'sda': 5}},
    'i2s': {'ids': (0, 1), 'pins': 'any free GPIO on the headers', 'source': 'mp:docs/library/machine.I2S.rst'},
    'adc_pins': (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    'wake_pins': (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21),
    'wake_sources': ('timer', 'ext0', 'ext1', 'touch', 'ulp'),
    'reset_causes': {'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4, 'SOFT_RESET': 5},
    'rtc_memory_bytes': 2048,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'camera': 'no camera module in stock ESP32 firmware (cnadler86/micropython-camera-API needs a custom build)'},
    'sensors': (('microphone', 'PDM MEMS (CLK GPIO42, DATA GPIO41)', False), ('camera', 'OV2640', False), ('microSD', 'SD (CS GPIO21)', True)),
    'led': None,
}
