# Generated from boards/nano33ble-rev2.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
B = {
    'id': 'nano33ble-rev2',
    'name': 'Arduino Nano 33 BLE Sense rev2 (nRF52840, BMI270 + BMM150)',
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
    'sensors': (('imu', 'BMI270 0x68 (CHIP_ID 0x24) + BMM150 0x10 on I2C(1)', True), ('gesture_light_proximity', 'APDS-9960 0x39 on I2C(1)', True), ('microphone', 'MP34DT06JTR (PDM)', False), ('humidity', 'HS3003', True), ('pressure', 'LPS22H', True)),
    'led': None,
}
