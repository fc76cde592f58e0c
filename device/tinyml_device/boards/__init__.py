# Generated from boards/*.json by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.
# sys.implementation._machine substring -> board module, longest first.
MATCH = (('Nano 33 BLE Sense', 'nano33ble'), ('NUCLEO-F446RE', 'nucleo_f446re'), ('ESP32 module', 'esp32'), ('XIAO ESP32S3', 'xiao_esp32s3_sense'), ('with ESP32', 'esp32'), ('ESP32S3', 'esp32s3'), ('PYBLITE', 'pyboard'), ('RP2040', 'pico'), ('RP2350', 'pico2'), ('PYBv1', 'pyboard'))
