#!/usr/bin/env bash
# Fetch TFLM's audio frontend (window, FFT (kissfft), filterbank, noise reduction, PCAN, log scale) from the
# PyPI sdist of pymicro-features, once, into a cache, and make a copy of the files the device runs, renamed
# .cc -> .c and patched for native modules (tools/patches/microfrontend.patch: plain C, no allocation, no
# libm: the tables are computed on the host, see host/tinyml/features.py). Prints two lines: the pristine
# sdist tree (the host table generator builds from it exactly as the wheel's setup.py does) and the patched
# tree. The sources are a build-time dependency: never committed to this repository.
set -euo pipefail
version=2.0.2
here=$(cd "$(dirname "$0")" && pwd)
cache="${TINYML_CACHE:-$HOME/.cache/tinyml-mpy}"
src="$cache/pymicro-features-$version"
if [ ! -f "$src/setup.py" ]; then
    pip="${PIP:-pip}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetching TFLM's audio frontend sources (sdist of pymicro-features==$version) into $src" >&2
    "$pip" download --quiet --no-deps --no-binary :all: "pymicro-features==$version" -d "$tmp" >&2
    tar -xzf "$tmp"/pymicro_features-$version.tar.gz -C "$tmp"
    mkdir -p "$cache"
    rm -rf "$src"
    mv "$tmp/pymicro_features-$version" "$src"
fi
patch_file="$here/patches/microfrontend.patch"
stamp=$(cat "$patch_file" "$0" | sha256sum | cut -c1-16)
dest="$cache/microfrontend-$version-$stamp"
if [ ! -f "$dest/.stamp" ]; then
    tmp=$(mktemp -d "$cache/.microfrontend.XXXXXX")
    chmod 755 "$tmp"
    lib=tensorflow/lite/experimental/microfrontend/lib
    mkdir -p "$tmp/$lib" "$tmp/kissfft/tools"
    for f in frontend window fft filterbank noise_reduction pcan_gain_control log_scale log_lut; do
        cp "$src/$lib/$f.cc" "$tmp/$lib/$f.c"
        cp "$src/$lib/$f.h" "$tmp/$lib/"
    done
    cp "$src/$lib/bits.h" "$src/$lib/kiss_fft_common.h" "$tmp/$lib/"
    cp "$src/kissfft/kiss_fft.cc" "$tmp/kissfft/kiss_fft.c"
    cp "$src/kissfft/kiss_fft.h" "$src/kissfft/_kiss_fft_guts.h" "$tmp/kissfft/"
    cp "$src/kissfft/tools/kiss_fftr.cc" "$tmp/kissfft/tools/kiss_fftr.c"
    cp "$src/kissfft/tools/kiss_fftr.h" "$tmp/kissfft/tools/"
    cp "$src/LICENSE" "$tmp/"
    patch --quiet --forward -p1 -d "$tmp" <"$patch_file" >&2
    echo "$stamp" >"$tmp/.stamp"
    rm -rf "$dest"
    mv "$tmp" "$dest"
fi
echo "$src"
echo "$dest"
