#!/usr/bin/env bash
# Fetch CMSIS-DSP's C sources from the PyPI sdist of cmsisdsp, once, into a cache, and copy the files the
# motion features compile (tinyml.MotionFeatures, FEATURES=motion: the real FFT arm_rfft_fast_f32 and what it
# calls, and the statistics) into a small tree. No patch: the sources compile unchanged as a native module
# with -D__GNUC_PYTHON__ (the wheel's own host configuration: no CMSIS Core, plain C). The FFT tables and the
# init functions are left out (every FFT length's tables sit in one object and mpy_ld.py links whole objects):
# native_modules/features/tm_motion_gen.c copies the tables for lengths 32..1024 out of the sdist's
# arm_common_tables.c on the host, and tm_motion.c wires them as the sdist's init functions do.
# Prints two lines: the pristine sdist tree and the copied tree. Never committed to this repository.
set -euo pipefail
version=1.10.3
here=$(cd "$(dirname "$0")" && pwd)
cache="${TINYML_CACHE:-$HOME/.cache/tinyml-mpy}"
src="$cache/cmsisdsp-$version"
if [ ! -f "$src/setup.py" ]; then
    pip="${PIP:-pip}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetching CMSIS-DSP's sources (sdist of cmsisdsp==$version) into $src" >&2
    # --no-build-isolation: pip reads the sdist's metadata with this environment's setuptools and numpy
    # instead of installing its build requirements (nothing is built)
    "$pip" download --quiet --no-deps --no-binary :all: --no-build-isolation "cmsisdsp==$version" -d "$tmp" >&2
    tar -xzf "$tmp"/cmsisdsp-$version.tar.gz -C "$tmp"
    mkdir -p "$cache"
    rm -rf "$src"
    mv "$tmp/cmsisdsp-$version" "$src"
fi
files="TransformFunctions/arm_rfft_fast_f32.c TransformFunctions/arm_cfft_f32.c
TransformFunctions/arm_cfft_radix8_f32.c TransformFunctions/arm_bitreversal2.c StatisticsFunctions/arm_mean_f32.c
StatisticsFunctions/arm_rms_f32.c StatisticsFunctions/arm_absmax_no_idx_f32.c StatisticsFunctions/arm_power_f32.c"
stamp=$(echo "$files" | cat - "$0" | sha256sum | cut -c1-16)
dest="$cache/cmsisdsp-src-$version-$stamp"
if [ ! -f "$dest/.stamp" ]; then
    tmp=$(mktemp -d "$cache/.cmsisdsp.XXXXXX")
    chmod 755 "$tmp"
    mkdir -p "$tmp/Source"
    for f in $files; do
        cp "$src/Source/$f" "$tmp/Source/"
    done
    cp -r "$src/Include" "$src/PrivateInclude" "$src/LICENSE" "$tmp/"
    echo "$stamp" >"$tmp/.stamp"
    rm -rf "$dest"
    mv "$tmp" "$dest"
fi
echo "$src"
echo "$dest"
