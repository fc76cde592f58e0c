# tinyml_device: the device runtime of tinyml-mpy (sampling, windows, power, state across sleep, board data,
# sensor drivers, the duty cycle). Import the modules you use: `from tinyml_device import ring, power`.
# Nothing is imported here, so a board pays RAM only for what a script uses.
VERSION = "0.1.0"
