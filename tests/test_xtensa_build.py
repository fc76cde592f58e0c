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

from xtensa_link import R_XTENSA_32, R_XTENSA_SLOT0_OP, link_image  # noqa: E402


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
    # (GOT entries of section symbols are named "<object>:<section>+0x<offset>": mpy_ld-xtensa-rela-llvm.patch)
    got = re.findall(r"^\s+[0-9a-f]{8} (\S+:\.text\+0x([0-9a-f]+)) -> \.text\+([0-9a-f]{8})$", log, re.M)
    assert got, log
    text_addr = int(re.search(r"^\s+([0-9a-f]{8}) \.text size=", log, re.M).group(1), 16)
    for _, addend, addr in got:
        assert int(addr, 16) == text_addr + int(addend, 16)


# ---------------------------------------------------------------------------------------------
# Execution on an emulated Xtensa core


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
    start, image, symbols = link_image(objs, base, allow_undefined=True)  # MicroPython wrappers never run
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
