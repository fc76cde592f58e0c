#!/usr/bin/env bash
# Make a copy of MicroPython 1.23's tools/mpy_ld.py with tools/patches/mpy_ld-*.patch applied
# (needed to link objects from the LLVM xtensawin pipeline, see tools/xtensa/README.md) and print
# its path. The fetched tree itself is left untouched. Use with py/dynruntime.mk as:
#   make ARCH=xtensawin CROSS=$PWD/tools/xtensa/xtensa-esp32-elf- \
#        MPY_LD="python3 $(tools/patched_mpy_ld.sh)"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$("$here/fetch_micropython.sh")
cache="${TINYML_CACHE:-$HOME/.cache/tinyml-mpy}"
dest="$cache/micropython-1.23-mpy_ld-patched"
patches=("$here"/patches/mpy_ld-*.patch)
stamp=$(cat "${patches[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$dest/.stamp" 2>/dev/null)" != "$stamp" ]; then
    tmp=$(mktemp -d "$cache/.mpy_ld-patched.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    chmod 755 "$tmp"
    mkdir -p "$tmp/tools" "$tmp/py"
    cp "$src/tools/mpy_ld.py" "$tmp/tools/"
    cp "$src/py/makeqstrdata.py" "$tmp/py/"  # imported by mpy_ld.py via ../py
    for p in "${patches[@]}"; do
        patch --quiet --forward -p1 -d "$tmp" <"$p" >&2
    done
    echo "$stamp" >"$tmp/.stamp"
    rm -rf "$dest"
    mv "$tmp" "$dest"
fi
echo "$dest/tools/mpy_ld.py"
