# Generated from boards/unix-sim.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'unix-sim',
    'name': 'Simulated ESP32-like board on the MicroPython unix port',
    'port': 'unix',
    'power_model': 'esp32',
    'arch': 'x64',
    'mpy': 2822,
    'i2c': {'0': {'scl': 18, 'sda': 19}, '1': {'scl': 25, 'sda': 26}},
    'i2s': None,
    'adc_pins': (),
    'wake_pins': (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39),
    'wake_sources': ('timer', 'ext0', 'ext1', 'touch', 'ulp'),
    'reset_causes': {'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4, 'SOFT_RESET': 5},
    'rtc_memory_bytes': 2048,
    'lacks': {'i2s': 'unix-sim does not simulate machine.I2S yet', 'adc': 'unix-sim does not simulate machine.ADC yet', 'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'camera': 'no camera module in stock ESP32 firmware (cnadler86/micropython-camera-API needs a custom build)'},
    'sensors': (('imu', 'MPU6050 0x68 on I2C(0), INT -> pin 4', True),),
}
