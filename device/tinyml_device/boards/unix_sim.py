# Generated from boards/unix-sim.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'unix-sim',
    'name': 'Simulated ESP32-like board on the MicroPython unix port',
    'port': 'unix',
    'power_model': 'esp32',
    'arch': 'x64',
    'mpy': 2822,
    'i2c': {'0': {'scl': 18, 'sda': 19}, '1': {'scl': 25, 'sda': 26}},
    'i2s': {'ids': (0, 1), 'pins': 'any GPIO', 'example_inmp441': {'sck': 14, 'ws': 15, 'sd': 32}, 'source': 'device/sim/machine.py (RX only)'},
    'adc_pins': (32, 33, 34, 35, 36, 39),
    'wake_pins': (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39),
    'wake_sources': ('timer', 'ext0', 'ext1', 'touch', 'ulp'),
    'reset_causes': {'PWRON_RESET': 1, 'HARD_RESET': 2, 'WDT_RESET': 3, 'DEEPSLEEP_RESET': 4, 'SOFT_RESET': 5},
    'rtc_memory_bytes': 2048,
    'lacks': {'pdm_mic': 'no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input)', 'camera': 'no camera module in stock ESP32 firmware (cnadler86/micropython-camera-API needs a custom build)'},
    'sensors': (('imu', 'MPU6050 0x68 on I2C(0), INT -> pin 4', True), ('thermal', "AMG8833 0x69 on I2C(0) (stream 'thermal')", True), ('imu2', 'LSM6DSOX 0x6A on I2C(1)', True), ('imu3', 'LSM6DS3 0x6B on I2C(1)', True), ('accel', 'ADXL345 0x53 on I2C(1), INT1 -> pin 27', True), ('microphone', "INMP441 on I2S(0): sck 14, ws 15, sd 32 (stream 'mic')", True), ('analog', "analog sensor on ADC pin 34 (stream 'adc', volts)", True), ('sound_trigger', "sound-level comparator DO -> pin 33 (envelope of stream 'mic')", True)),
    'led': {'pin': 2, 'on': 1, 'source': "the simulated board's LED (device/sim/machine.py)"},
}
