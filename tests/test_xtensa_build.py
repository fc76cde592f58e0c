"""xtensawin (ESP32) native module build with the clang/LLVM pipeline (tools/xtensa/README.md).

Builds tests/natmod_xtensa_fixture with py/dynruntime.mk unmodified, using
tools/xtensa/xtensa-esp32-elf-gcc and the patched mpy_ld.py, then checks the object and the .mpy.
If qemu-system-xtensa is installed, the fixture's plain C helpers are also run on an emulated
windowed-ABI Xtensa core with an FPU (de233_fpu on the `sim` machine) by a bare-metal harness.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "natmod_xtensa_fixture")
DRIVER = os.path.join(ROOT, "tools", "xtensa", "xtensa-esp32-elf-gcc")
CROSS = DRIVER[: -len("gcc")]
LIBC_INCLUDE = "/usr/lib/arm-none-eabi/include"
INSTALL = "apt-get install clang-22 llvm-22 gcc-arm-none-eabi"

R_XTENSA_NONE, R_XTENSA_32, R_XTENSA_ASM_EXPAND, R_XTENSA_SLOT0_OP = 0, 1, 11, 20


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    assert p.returncode == 0, "%s failed:\n%s" % (" ".join(cmd), p.stdout)
    return p.stdout


@pytest.fixture(scope="session")
def toolchain():
    missing = [t for t in ("clang-22", "llc-22", "llvm-mc-22", "make") if shutil.which(t) is None]
    if not os.path.isdir(LIBC_INCLUDE):
        missing.append(LIBC_INCLUDE)
    if missing:
        pytest.fail("xtensawin toolchain incomplete, missing %s; install with: %s" % (missing, INSTALL))


@pytest.fixture(scope="session")
def mpy_dir():
    env = dict(os.environ)
    venv_pip = os.path.join(os.path.dirname(sys.executable), "pip")
    if "PIP" not in env and os.path.exists(venv_pip):
        env["PIP"] = venv_pip
    return run([os.path.join(ROOT, "tools", "fetch_micropython.sh")], env=env).strip().splitlines()[-1]


@pytest.fixture(scope="session")
def patched_mpy_ld(mpy_dir):
    return run([os.path.join(ROOT, "tools", "patched_mpy_ld.sh")]).strip().splitlines()[-1]


@pytest.fixture(scope="session")
def built(toolchain, mpy_dir, patched_mpy_ld, tmp_path_factory):
    d = tmp_path_factory.mktemp("xtfix")
    for f in ("Makefile", "xtfix.c"):
        shutil.copy(os.path.join(FIXTURE, f), d)
    make = [
        "make", "-C", str(d), "ARCH=xtensawin", "MPY_DIR=" + mpy_dir, "CROSS=" + CROSS,
        "PYTHON=" + sys.executable, "MPY_LD=%s %s" % (sys.executable, patched_mpy_ld),
    ]
    run(make)
    return d


def test_mpy_header(built, mpy_dir):
    with open(os.path.join(mpy_dir, "tools", "mpy_ld.py")) as f:
        src = f.read()
    arch = int(re.search(r"^MP_NATIVE_ARCH_XTENSAWIN = (\d+)", src, re.M).group(1))
    sub = int(re.search(r"^MPY_SUB_VERSION = (\d+)", src, re.M).group(1))
    with open(built / "xtfix.mpy", "rb") as f:
        header = f.read(4)
    # 'M', ABI version 6, arch xtensawin (10) << 2 | sub-version 3, small-int bits
    assert header[:3] == bytes([0x4D, 6, arch << 2 | sub]) == b"\x4d\x06\x2b", header.hex()


def test_object_relocations(built):
    """Only relocations mpy_ld.py handles, one literal pool, no relocated .rodata."""
    with open(built / "build" / "xtfix.o", "rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_XTENSA"
        names = [s.name for s in elf.iter_sections()]
        assert [n for n in names if n.startswith(".literal")] == [".literal"]
        assert not [n for n in names if n.startswith(".data") and not n.startswith((".data.rel.ro", ".data.rel."))], names
        relocated_ro = []
        for s in elf.iter_sections():
            if s.header.sh_type not in ("SHT_REL", "SHT_RELA"):
                continue
            target = elf.get_section(s.header.sh_info).name
            assert not target.startswith(".rodata"), target
            relocated_ro += [target] if target.startswith(".data.rel.ro") else []
            for r in s.iter_relocations():
                assert r["r_info_type"] in (R_XTENSA_32, R_XTENSA_SLOT0_OP), (target, r)
        # the function objects (and the tables holding pointers) were moved to .data.rel.ro
        for obj in ("add_obj", "counter_incr_obj", "ops", "funs", "counter_locals"):
            assert ".data.rel.ro." + obj in relocated_ro


def test_link_needs_patch_and_resolves_everything(built, mpy_dir, patched_mpy_ld):
    obj = str(built / "build" / "xtfix.o")
    qstrs = str(built / "build" / "xtfix.config.h")
    args = ["--arch", "xtensawin", "--qstrs", qstrs, "-o", str(built / "t.mpy"), obj]
    stock = subprocess.run([sys.executable, os.path.join(mpy_dir, "tools", "mpy_ld.py")] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert stock.returncode != 0 and "r_addend" in stock.stdout  # why the patch exists
    log = run([sys.executable, patched_mpy_ld, "-vvv"] + args)
    assert "LinkError" not in log
    # a section+addend literal (pointer to a static function) got its offset applied
    got = re.findall(r"^\s+[0-9a-f]{8} (\.text\+0x([0-9a-f]+)) -> \.text\+([0-9a-f]{8})$", log, re.M)
    assert got, log
    text_addr = int(re.search(r"^\s+([0-9a-f]{8}) \.text size=", log, re.M).group(1), 16)
    for _, addend, addr in got:
        assert int(addr, 16) == text_addr + int(addend, 16)


# ---------------------------------------------------------------------------------------------
# Execution on an emulated Xtensa core


def link_image(objects, base):
    """Minimal static linker for the harness: literal pools just below `base` (l32r only reaches
    backwards), then the code of each object (the first object's at `base`), then data.
    Returns (load address, image bytes, global symbols). Undefined symbols resolve to 0; only
    the MicroPython wrappers use them and those are not run."""
    elfs = [ELFFile(open(o, "rb")) for o in objects]
    groups = ([], [], [])  # literal, text, data
    for e in elfs:
        for i, s in enumerate(e.iter_sections()):
            if s.header.sh_type in ("SHT_PROGBITS", "SHT_NOBITS") and s.header.sh_flags & 2:  # SHF_ALLOC
                g = 0 if s.name.startswith(".literal") else 1 if s.name.startswith(".text") else 2
                groups[g].append((e, i, s))
    addr = {}
    lit_size = sum((s.data_size + 3) & ~3 for _, _, s in groups[0])
    start = base - ((lit_size + 15) & ~15)
    pos = start
    for g, members in enumerate(groups):
        if g == 1:
            assert pos <= base
            pos = base
        for e, i, s in members:
            pos = (pos + max(s.header.sh_addralign, 4) - 1) & ~(max(s.header.sh_addralign, 4) - 1)
            addr[(id(e), i)] = pos
            pos += s.data_size
    image = bytearray(pos - start)
    for e, i, s in groups[0] + groups[1] + groups[2]:
        if s.header.sh_type == "SHT_PROGBITS":
            a = addr[(id(e), i)] - start
            image[a : a + s.data_size] = s.data()

    def sym_addr(e, sym):
        shndx = sym["st_shndx"]
        if shndx == "SHN_UNDEF":
            return symbols.get(sym.name, 0)
        return addr[(id(e), shndx)] + sym["st_value"]

    symbols = {}
    for e in elfs:
        for sym in e.get_section_by_name(".symtab").iter_symbols():
            if sym["st_info"]["bind"] == "STB_GLOBAL" and sym["st_shndx"] != "SHN_UNDEF":
                symbols[sym.name] = sym_addr(e, sym)

    for e in elfs:
        symtab = list(e.get_section_by_name(".symtab").iter_symbols())
        for rs in e.iter_sections():
            if rs.header.sh_type != "SHT_RELA" or (id(e), rs.header.sh_info) not in addr:
                continue
            sec_addr = addr[(id(e), rs.header.sh_info)]
            for r in rs.iter_relocations():
                sym = symtab[r["r_info_sym"]]
                P = sec_addr + r["r_offset"]
                T = sym_addr(e, sym) + r["r_addend"]
                o = P - start
                t = r["r_info_type"]
                if t == R_XTENSA_32:
                    v = int.from_bytes(image[o : o + 4], "little") + T
                    image[o : o + 4] = (v & 0xFFFFFFFF).to_bytes(4, "little")
                elif t == R_XTENSA_SLOT0_OP:
                    ins = int.from_bytes(image[o : o + 3], "little")
                    if ins & 0xF == 1:  # l32r: literal at ((P + 3) & ~3) + (negative imm16 << 2)
                        off = T - ((P + 3) & ~3)
                        assert -0x40000 <= off < 0 and off % 4 == 0, hex(off)
                        ins = (ins & 0xFF) | ((off >> 2) & 0xFFFF) << 8
                    elif ins & 0xF == 5:  # call0/4/8/12: target (P & ~3) + 4 + (offset << 2)
                        off = T - ((P & ~3) + 4)
                        assert off % 4 == 0
                        ins = (ins & 0x3F) | ((off >> 2) & 0x3FFFF) << 6
                    else:  # branch/jump inside its own section: already resolved by the assembler
                        assert sym["st_shndx"] == rs.header.sh_info, sym.name
                        continue
                    image[o : o + 3] = ins.to_bytes(3, "little")
                elif t not in (R_XTENSA_NONE, R_XTENSA_ASM_EXPAND):
                    raise AssertionError("unsupported relocation type %d" % t)
    return start, bytes(image), symbols


def test_run_on_qemu(built, tmp_path):
    qemu = shutil.which("qemu-system-xtensa")
    assert qemu, "qemu-system-xtensa is not installed: apt-get install qemu-system-misc"
    objs = []
    # The bare-metal start-up (vectors, window handlers, exit) is the engine harness's (tests/xtensa_engine).
    for src in (os.path.join(os.path.dirname(FIXTURE), "xtensa_engine", "start.S"),
                os.path.join(FIXTURE, "qemu_harness.c")):
        out = str(tmp_path / (os.path.basename(src).rsplit(".", 1)[0] + ".o"))
        run([DRIVER, "-Os", "-Wall", "-Werror", "-c", src, "-o", out])
        objs.append(out)
    objs.append(str(built / "build" / "xtfix.o"))  # the very object linked into xtfix.mpy
    base = 0x100000  # sysram; 4 KiB aligned for VECBASE
    start, image, symbols = link_image(objs, base)
    assert symbols["_vectors"] == base
    img = tmp_path / "image.bin"
    img.write_bytes(image)
    cmd = [
        qemu, "-M", "sim", "-cpu", "de233_fpu", "-nographic", "-monitor", "none", "-semihosting",
        "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (img, start),
        "-device", "loader,addr=0x%x,cpu-num=0" % symbols["_start"],
    ]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("harness did not exit (crashed into an exception vector?)")
    # exit code = bit mask of failed checks in qemu_harness.c
    assert p.returncode == 0, "failed checks mask 0x%x\n%s" % (p.returncode, p.stdout)
