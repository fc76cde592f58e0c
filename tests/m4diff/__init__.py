"""Differential testing of the Cortex-M4 fast paths against TFLM: random int8 models written as flatbuffers
(tflite_writer.py, generate.py), run by the hundred per QEMU boot (device_batch.py, harness.py), compared
with the tflite-micro wheel. `python -m m4diff` (from tests/) is the long campaign behind `make fuzz-m4`."""
