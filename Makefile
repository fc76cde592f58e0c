# tinyml-mpy: the two commands of the quick start, and a few more.
#   make demo              train, quantize, build and run the gesture demo on the MicroPython unix port
#   make demo PORT=/dev/ttyUSB0   ... on a real board over serial
#   make test              all tests
#   make setup             install what the project needs (idempotent)
.PHONY: setup demo test bench clean

PORT ?=

setup:
	@tools/setup.sh

demo: setup
	.venv/bin/tinyml demo $(if $(PORT),--port $(PORT))

test: setup
	.venv/bin/python -m pytest -q tests

bench: setup
	.venv/bin/python tools/bench_report.py

clean:
	rm -rf build
