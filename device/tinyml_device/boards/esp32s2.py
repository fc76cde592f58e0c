# Generated from boards/esp32s2.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'esp32s2',
    'name': 'LOLIN S2 Mini (ESP32-S2FN4R2: 4 MB flash, 2 MB PSRAM)',
    'port': 'esp32',
    'power_model': 'esp32',
    'arch': 'xtensawin',
    'mpy': 11014,
    'i2c': {'0': {'scl': 35, 'sda': 33, 'source': 'mp:ports/esp32/boards/LOLIN_S2_MINI/mpconfigboard.h (MICROPY_HW_I2C0_SCL/SDA)'}},
    'i2s': {'ids': (0,), 'pins': 'any GPIO', 'note': "the ESP32-S2 has one I2S peripheral (UNCONFIRMED in MicroPython's machine.I2S)", 'source': 'mp:docs/library/machine.I2S.rst'},
    'adc_pins': (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    'wake_pins': (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21),
    'wake_sources': ('timer', 'ext0', 'ext1', 'touch', 'ulp'),
    'reset_causes': {'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4, 'SOFT_RESET': 5},
    'rtc_memory_bytes': 2048,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'camera': 'no camera module in stock ESP32 firmware (cnadler86/micropython-camera-API needs a custom build)', 'bluetooth': 'the ESP32-S2 has no Bluetooth radio (MICROPY_PY_BLUETOOTH 0 in its board files)', 'fpu': 'no floating-point unit: float arithmetic is done in software'},
    'sensors': (),
    'led': None,
}
