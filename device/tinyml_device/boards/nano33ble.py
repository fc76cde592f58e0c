# Generated from boards/nano33ble.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'nano33ble',
    'name': 'Arduino Nano 33 BLE Sense rev1 (nRF52840, LSM9DS1)',
    'port': 'nrf',
    'power_model': 'nrf',
    'arch': 'armv7emsp',
    'mpy': 7942,
    'i2c': {'1': {'scl': 15, 'sda': 14, 'note': 'internal sensor bus; the board drives P0.22 (sensor 3V3) and P1.00 (I2C pull-ups) high at boot'}, '0': {'scl': 2, 'sda': 31, 'note': 'header I2C (P0.02, P0.31)'}},
    'i2s': None,
    'adc_pins': (2, 3, 4, 5, 28, 29, 30, 31),
    'wake_pins': (),
    'wake_sources': (),
    'reset_causes': {'HARD_RESET': 0, 'WDT_RESET': 1, 'SOFT_RESET': 2, 'LOCKUP_RESET': 3, 'PWRON_RESET': 16, 'LPCOMP_RESET': 17, 'DEBUG_IF_RESET': 18, 'NFC_RESET': 19},
    'rtc_memory_bytes': 0,
    'lacks': {'i2s': 'the nrf port has no machine.I2S (ports/nrf/boards/ARDUINO_NANO_33_BLE_SENSE enables no I2S)', 'pdm_mic': "no PDM microphone can be read by stock MicroPython on any port (mainline has no PDM input); the board's MP34DT05/06 is PDM (DIN P0.25, CLK P0.26, PWR P0.17)", 'deepsleep': 'deepsleep() on the nrf port resets at once without sleeping (System OFF is not implemented)', 'timed_lightsleep': 'lightsleep(ms) on the nrf port ignores ms (a single WFE)', 'rtc_memory': 'no machine.RTC().memory() on the nrf port: state goes to a file'},
    'sensors': (('imu', 'LSM9DS1 accel/gyro 0x6B + mag 0x1E on I2C(1)', True), ('gesture_light_proximity', 'APDS-9960 0x39 on I2C(1)', True), ('microphone', 'MP34DT05 (PDM)', False), ('humidity', 'HTS221', True), ('pressure', 'LPS22H', True)),
    'led': None,
}
