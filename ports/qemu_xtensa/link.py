"""Links the QEMU Xtensa firmware: the objects laid out by the project's Xtensa linker (tests/xtensa_link.py,
as for the bare-metal engine tests; Debian's LLVM has no Xtensa linker) at BASE, written as an ELF
executable with one loadable segment, so that `qemu-system-xtensa -M sim -kernel firmware.elf` loads it
and starts at _start.

    python link.py -o firmware.elf start.o a.o b.o ...   (start.o first: its vectors go at BASE)
"""

import argparse
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from xtensa_link import link_image  # noqa: E402

BASE = 0x100000          # VECBASE must be 4 KiB aligned; the sim machine's RAM starts at 0
IMAGE_LIMIT = 0x7C0000   # mphalport.h: the 256 KiB stack below 8 MiB starts here
EM_XTENSA = 94


def elf_executable(start, image, entry):
    """An ELF32 little-endian executable: header, one program header, the image as one RWX PT_LOAD."""
    ehsize, phentsize = 52, 32
    offset = 0x1000   # the segment's file offset, page aligned
    header = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + bytes(9), 2, EM_XTENSA, 1, entry,
                         ehsize, 0, 0, ehsize, phentsize, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, offset, start, start, len(image), len(image), 7, 0x1000)
    return header + phdr + bytes(offset - ehsize - phentsize) + image


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", required=True)
    ap.add_argument("objects", nargs="+")
    args = ap.parse_args()
    try:
        start, image, symbols = link_image(args.objects, BASE)
    except AssertionError as exc:
        sys.exit("link.py: error: %s" % exc)
    if symbols.get("_vectors") != BASE:
        sys.exit("link.py: error: start.o (with _vectors) must be the first object")
    if start + len(image) > IMAGE_LIMIT:
        sys.exit("link.py: error: image ends at %#x, over the stack at %#x" % (start + len(image), IMAGE_LIMIT))
    Path(args.o).write_bytes(elf_executable(start, image, symbols["_start"]))
    with open(Path(args.o).with_suffix(".map"), "w") as f:
        for name, addr in sorted(symbols.items(), key=lambda kv: kv[1]):
            f.write("%08x %s\n" % (addr, name))
    print("image %#x..%#x (%d bytes), entry %#x" % (start, start + len(image), len(image), symbols["_start"]))


if __name__ == "__main__":
    main()
