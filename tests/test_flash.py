"""`tinyml flash` against esptool's own behaviour, without a chip: the offsets (against esptool's chip
definitions), the exact esptool command line (parsed by esptool's own parser), firmware images made by esptool's
elf2image and read back by its image-info, esptool's real failure when no board answers on a pseudo-terminal or
the port does not exist, and the steps printed for the boards esptool does not flash."""

import os
import pty
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from tinyml import TinymlError
from tinyml.boards import load_boards
from tinyml.flash import FIRMWARE_OFFSETS, esptool_argv, firmware_chip, flash, guidance

# Where a tiny program's code goes on each chip (its internal instruction RAM), and the assembler for its ISA.
CHIPS = {"esp32": (0x40080000, ["-arch=xtensa", "-mcpu=esp32"]),
         "esp32s3": (0x40378000, ["-arch=xtensa", "-mcpu=esp32"]),   # LLVM has no esp32s3 CPU; nop and j are alike
         "esp32c3": (0x4037C000, ["-triple=riscv32"])}


def _tool(name):
    path = shutil.which(name)
    assert path, f"{name} is missing (Debian package llvm-22): run `make setup`"
    return path


def _esptool(*argv):
    import esptool
    esptool.main([str(a) for a in argv])


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """{chip: (app_image, combined_firmware)}: a two-instruction program assembled and placed in IRAM with LLVM,
    turned into an ESP app image by esptool's elf2image, and laid out as MicroPython's combined firmware is
    (an image at the bootloader offset, the partition table at 0x8000, the app at 0x10000)."""
    d = tmp_path_factory.mktemp("fw")
    out = {}
    for chip, (iram, mc_arch) in CHIPS.items():
        (d / f"{chip}.S").write_text('    .section .iram0.text,"ax"\n    .global _start\n    .align 4\n'
                                     "_start:\n    nop\n    j _start\n")
        subprocess.run([_tool("llvm-mc-22"), *mc_arch, "-filetype=obj", d / f"{chip}.S", "-o", d / f"{chip}.o"],
                       check=True)
        subprocess.run([_tool("llvm-objcopy-22"), f"--change-section-address=.iram0.text=0x{iram:x}",
                        f"--set-start=0x{iram:x}", d / f"{chip}.o", d / f"{chip}.elf"], check=True)
        app = d / f"{chip}-app.bin"
        _esptool("--chip", chip, "elf2image", "-o", app, d / f"{chip}.elf")
        offset = FIRMWARE_OFFSETS[chip]
        # One partition entry in ESP-IDF's 32-byte format: magic, type app, subtype factory, offset, size, label.
        table = struct.pack("<2sBBII16sI", b"\xaa\x50", 0, 0, 0x10000, 0x100000, b"factory", 0)
        fw = bytearray(b"\xff" * (0x10000 - offset))
        fw[:app.stat().st_size] = app.read_bytes()
        fw[0x8000 - offset:0x8000 - offset + len(table)] = table
        firmware = d / f"{chip}-firmware.bin"
        firmware.write_bytes(bytes(fw) + app.read_bytes())
        out[chip] = (app, firmware)
    return out


def test_offsets_are_micropythons_and_esptools():
    from esptool.targets import CHIP_DEFS
    # micropython.org's flash_offset per generic board (ESP32 0x1000, S2 0x1000, S3/C3/C6 0, C5/P4 0x2000) ...
    assert (FIRMWARE_OFFSETS["esp32"], FIRMWARE_OFFSETS["esp32s2"], FIRMWARE_OFFSETS["esp32s3"],
            FIRMWARE_OFFSETS["esp32c3"], FIRMWARE_OFFSETS["esp32c6"], FIRMWARE_OFFSETS["esp32p4"]) == \
        (0x1000, 0x1000, 0x0, 0x0, 0x0, 0x2000)
    # ... is where esptool puts each chip's bootloader.
    for chip, offset in FIRMWARE_OFFSETS.items():
        assert CHIP_DEFS[chip].BOOTLOADER_FLASH_OFFSET == offset, chip


@pytest.mark.parametrize("chip,offset", [("esp32", "0x1000"), ("esp32s2", "0x1000"), ("esp32s3", "0x0"),
                                         ("esp32c3", "0x0"), ("esp32c6", "0x0"), ("esp32p4", "0x2000")])
def test_esptool_argv_per_chip(chip, offset):
    common = ["--chip", chip, "--port", "/dev/ttyUSB0", "--baud", "460800", "--before", "default-reset",
              "--after", "hard-reset", "write-flash"]
    assert esptool_argv(chip, "/dev/ttyUSB0", "fw.bin") == common + ["--erase-all", offset, "fw.bin"]
    assert esptool_argv(chip, "/dev/ttyUSB0", "fw.bin", erase=False) == common + [offset, "fw.bin"]


def test_esptool_parses_the_argv_as_meant(images):
    """esptool's own command-line parser reads our argv: the chip, the erase, and the file at the offset."""
    from esptool import cli
    fw = images["esp32s3"][1]
    cli._esp = None    # what esptool.main sets before parsing (no connected chip object passed in)
    argv = esptool_argv("esp32s3", "/dev/ttyACM0", fw)
    at = argv.index("write-flash")      # the group's options, then the command's
    ctx = cli.make_context("esptool", argv[:at])
    assert (ctx.params["chip"], ctx.params["port"], ctx.params["baud"]) == ("esp32s3", "/dev/ttyACM0", 460800)
    sub = cli.get_command(ctx, argv[at]).make_context(argv[at], argv[at + 1:], parent=ctx)
    ((address, f),) = sub.params["addr_filename"]
    f.close()
    assert (address, Path(f.name), sub.params["erase_all"]) == (0x0, fw, True)


def test_images_made_by_elf2image_are_read_back(images, capsys):
    for chip, (app, firmware) in images.items():
        assert firmware_chip(firmware) == chip
        _esptool("image-info", firmware)      # esptool's own reader of what we would write at the offset
        out = capsys.readouterr().out
        assert f"Detected image type: {chip.upper().replace('ESP32', 'ESP32-') if chip != 'esp32' else 'ESP32'}" \
            in out, out
        assert "Checksum:" in out and "(valid)" in out


def test_not_a_micropython_firmware(images, tmp_path):
    with pytest.raises(TinymlError, match="firmware file not found"):
        firmware_chip(tmp_path / "missing.bin")
    uf2 = tmp_path / "RPI_PICO-v1.28.0.uf2"
    uf2.write_bytes(b"UF2\n" + bytes(508))
    with pytest.raises(TinymlError, match=r"not an ESP32 firmware image .*\.uf2, \.dfu or \.hex is for another"):
        firmware_chip(uf2)
    # An app image alone (what a build's micropython.bin is) would be written where the bootloader goes.
    with pytest.raises(TinymlError, match="no partition table at 0x8000: it is not a complete MicroPython"):
        firmware_chip(images["esp32"][0])
    broken = tmp_path / "broken.bin"
    broken.write_bytes(images["esp32"][1].read_bytes()[:20])
    with pytest.raises(TinymlError, match="not an ESP32 firmware image"):
        firmware_chip(broken)


def test_a_firmware_for_another_chip_is_refused_before_connecting(images):
    s3 = images["esp32s3"][1]
    with pytest.raises(TinymlError, match=r"built for ESP32-S3, but esp32 is an ESP32: download its firmware from "
                                          r"https://micropython.org/download/ESP32_GENERIC/"):
        flash("/dev/tinyml-no-such-port", s3, board="esp32")
    with pytest.raises(TinymlError, match=r"the board on /dev/tinyml-no-such-port is an ESP32 but .* is built for "
                                          r"ESP32-S3"):
        flash("/dev/tinyml-no-such-port", s3, chip="esp32")
    with pytest.raises(TinymlError, match="--board pico is not flashed with esptool"):
        flash("/dev/tinyml-no-such-port", s3, board="pico")


@pytest.fixture
def silent_pty():
    """A serial port where nothing answers: esptool opens it, resets (it cannot toggle DTR/RTS on a pty, and
    says so), syncs, and hears nothing."""
    master, slave = pty.openpty()
    yield os.ttyname(slave)
    os.close(slave)
    os.close(master)


@pytest.mark.parametrize("chip", ["auto", "esp32"])
def test_no_board_answers(images, silent_pty, chip):
    """auto: esptool's chip detection fails; a named chip: esptool's write-flash run fails to connect."""
    with pytest.raises(TinymlError) as err:
        flash(silent_pty, images["esp32"][1], chip=chip, connect_attempts=1, echo=lambda s: None)
    msg = str(err.value)
    assert msg.startswith(f"no ESP32 bootloader answered on {silent_pty}"), msg
    assert re.search(r"Failed to connect to (Espressif device|ESP32): No serial data received", msg), msg
    assert "\n" not in msg


def test_cli_port_missing_is_one_line(images):
    res = subprocess.run([sys.executable, "-m", "tinyml.cli", "flash", "--port", "/dev/tinyml-no-such-port",
                          "--firmware", images["esp32"][1]], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "host")})
    assert res.returncode == 1
    assert res.stderr.startswith("tinyml: error: cannot open /dev/tinyml-no-such-port: esptool says: Could not "
                                 "open /dev/tinyml-no-such-port, the port is busy or doesn't exist"), res.stderr
    assert res.stderr.count("\n") == 1


def test_every_real_board_says_how_to_flash_it(tmp_path):
    boards = {b: d for b, d in load_boards().items() if "port" in d and b != "unix-sim"}
    assert set(boards) >= {"esp32", "esp32s3", "pico", "pico2", "nano33ble", "nucleo-f446re", "pyboard"}
    for bid, d in boards.items():
        spec = d["flash"]
        assert spec["firmware"].startswith("https://micropython.org/download/") and spec["source"], bid
        text = guidance(bid, port="/dev/ttyACM0", firmware=f"fw{spec['file']}")
        assert spec["firmware"] in text and "{" not in text, text
        if spec["method"] == "esptool":
            assert spec["chip"] in FIRMWARE_OFFSETS and d["arch"] == "xtensawin", bid
            assert f"tinyml flash --port /dev/ttyACM0 --firmware fw.bin --board {bid}" in text
    assert "Copy fw.uf2 onto that drive" in guidance("pico", firmware="fw.uf2")
    assert "bossac -e -w --offset=0x16000 --port=ttyACM0 -i -d -U -R fw.bin" in \
        guidance("nano33ble-rev2", port="/dev/ttyACM0", firmware="fw.bin")
    assert "dfu-util --alt 0 -D fw.dfu" in guidance("pyboard", firmware="fw.dfu")
    assert "st-flash --format ihex write fw.hex" in guidance("nucleo-f446re", firmware="fw.hex")
    with pytest.raises(TinymlError, match=r"pico takes a \.uf2 firmware, not ESP32_GENERIC\.bin"):
        guidance("pico", firmware="ESP32_GENERIC.bin")
    with pytest.raises(TinymlError, match="is not a physical board: nothing to flash"):
        guidance("qemu-m4")
