# tinyml-mpy: the two commands of the quick start, and a few more.
#   make demo              train, quantize, build and run the gesture demo on the MicroPython unix port
#   make demo PORT=/dev/ttyUSB0   ... on a real board over serial
#   make test              all tests
#   make setup             install what the project needs (idempotent)
#   make fuzz [MINUTES=60] [JOBS=1] [SEED=n] [TARGET=engine|api]   the fuzz campaign (tools/fuzz.py)
.PHONY: setup demo test bench clean fuzz

PORT ?=

setup:
	@tools/setup.sh

demo: setup
	.venv/bin/tinyml demo $(if $(PORT),--port $(PORT))

# One pytest worker per core (pytest-xdist), a test file's tests on one worker (module fixtures stay shared);
# builds into the caches are serialized across workers (host/tinyml/buildlock.py). JOBS=1 runs serially.
test: test-models setup
	.venv/bin/python -m pytest -q -n $(or $(JOBS),$(shell nproc)) --dist loadfile tests

# Before installing anything, the reference models the tests need (not downloadable: ../shared/models beside
# the checkout, or TINYML_MODELS): when they are missing, one line saying so, and exit 2.
.PHONY: test-models
test-models:
	$(eval TEST_MODELS_MISSING := $(shell python3 tests/refmodels.py "make test" 2>&1))$(if $(TEST_MODELS_MISSING),$(error $(TEST_MODELS_MISSING)))

fuzz: setup
	MINUTES=$(MINUTES) JOBS=$(JOBS) SEED=$(SEED) TARGET=$(TARGET) .venv/bin/python tools/fuzz.py

# make fuzz-m4 [MINUTES=20] [SEED=n]: random int8 models aimed at every Cortex-M4 fast path, run on the emulated
# M4 and compared with TFLM (tests/m4diff; failing cases saved under build/m4diff/failures)
.PHONY: fuzz-m4
fuzz-m4: setup
	cd tests && ../.venv/bin/python -m m4diff --minutes $(or $(MINUTES),20) $(if $(SEED),--seed $(SEED))

bench: setup
	.venv/bin/python tools/bench_report.py

# make test-xtensa-models: every reference model bit-exact with TFLM through the xtensawin module loaded by
# MicroPython on the emulated Xtensa core (make test runs the small ones); make bench-xtensa: their
# instructions/MAC there, as a Markdown table (docs/benchmarks.md). See ports/qemu_xtensa/README.md.
# make bench-xtensa-mac16: the same with the MAC16 kernels (kernels/xtensa/) beside the portable ones.
.PHONY: test-xtensa-models bench-xtensa bench-xtensa-mac16
test-xtensa-models: test-models setup
	TINYML_XTENSA_MODELS=all .venv/bin/python -m pytest -q tests/test_qemu_xtensa.py -k bit_exact
bench-xtensa: setup
	.venv/bin/python ports/qemu_xtensa/bench_models.py
bench-xtensa-mac16: setup
	.venv/bin/python tools/bench_xtensa_mac16.py

clean:
	rm -rf build
