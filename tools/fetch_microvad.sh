#!/usr/bin/env bash
# Fetch microVAD's weights from the PyPI sdist of pymicro-vad, once, into a cache: its micro_vad/model.h holds
# the trained float32 weights of ESPHome's microVAD voice-activity model as C arrays (the package runs them in
# its own C++, not as a .tflite). tests/microvad.py builds the streaming int8 .tflite from them with the TF
# Lite converter. Prints the directory twice (the pristine tree and the tree used: the same here, as
# host/tinyml/sdist.py expects two paths). Never committed to this repository.
set -euo pipefail
version=2.1.0
cache="${TINYML_CACHE:-$HOME/.cache/tinyml-mpy}"
dest="$cache/pymicro-vad-$version"
if [ ! -f "$dest/micro_vad/model.h" ]; then
    pip="${PIP:-pip}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetching microVAD's weights (sdist of pymicro-vad==$version) into $dest" >&2
    "$pip" download --quiet --no-deps --no-binary :all: "pymicro-vad==$version" -d "$tmp" >&2
    tar -xzf "$tmp"/pymicro_vad-$version.tar.gz -C "$tmp" \
        pymicro_vad-$version/micro_vad/model.h pymicro_vad-$version/LICENSE
    mkdir -p "$cache"
    rm -rf "$dest"
    mv "$tmp/pymicro_vad-$version" "$dest"
fi
echo "$dest"
echo "$dest"
