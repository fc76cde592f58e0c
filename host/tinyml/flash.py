"""`tinyml flash`: put MicroPython itself on a board.

ESP32 family: esptool does all the work (it is used as a library: `esptool.cmds.detect_chip`, `esptool.main`),
this module only decides what to ask it. The firmware is the single `.bin` from micropython.org, which holds the
bootloader, the partition table and MicroPython (mp:ports/esp32/README.md, "combined firmware.bin"), so it must
start at the chip's bootloader offset. That offset differs per chip, and writing at the wrong one leaves a board
that does not boot, so three things must agree before anything is written:
  - the chip the image was built for (the chip id in its header, read with esptool's image parser),
  - the chip that answers on the port (esptool's detection), and the board's chip when --board is given,
  - the offset: FIRMWARE_OFFSETS[chip].
Then one esptool run erases the whole flash (a filesystem left by another firmware confuses MicroPython's),
writes, and checks the MD5 of what was written: esptool v5's `write-flash` has no `--verify` option because it
always verifies ("The write-flash command always verifies the MD5 hash of data which is written to flash",
esptool's docs, Advanced Commands, verify-flash); see docs/flash.md.

Other boards cannot be flashed over their serial port by a host tool that is part of this project: the Pico is a
UF2 drive, the Nano 33 BLE needs Arduino's bossac fork, STM32 boards need DFU or an ST-Link. For those, the
steps from the board's "flash" entry in boards/*.json are printed, with the firmware download page.
"""

import shlex
from pathlib import Path

from . import TinymlError
from .boards import get_board

# Where MicroPython's combined firmware image goes, per chip: the `flash_offset` of each generic board in
# mp:ports/esp32/boards/*/board.json (ESP32_GENERIC 0x1000, ESP32_GENERIC_S3/C3/C6 0, ESP32_GENERIC_C5/P4 0x2000)
# and mp:ports/esp32/boards/deploy_s2.md for the S2 (0x1000). These are the chips' second-stage bootloader
# offsets, which esptool also knows (esptool.targets.<chip>.BOOTLOADER_FLASH_OFFSET): tests/test_flash.py checks
# that the two agree. A chip missing here has no MicroPython firmware on micropython.org.
FIRMWARE_OFFSETS = {
    "esp32": 0x1000,
    "esp32s2": 0x1000,
    "esp32s3": 0x0,
    "esp32c2": 0x0,
    "esp32c3": 0x0,
    "esp32c5": 0x2000,
    "esp32c6": 0x0,
    "esp32h2": 0x0,
    "esp32p4": 0x2000,
}

# micropython.org's download page of the generic firmware per chip (used when no --board names a better one).
GENERIC_FIRMWARE = {chip: f"https://micropython.org/download/ESP32_GENERIC{'' if chip == 'esp32' else '_' + chip[5:].upper()}/"
                    for chip in FIRMWARE_OFFSETS}

# MicroPython's partition table sits at 0x8000 on every esp32 board (ESP-IDF's default
# CONFIG_PARTITION_TABLE_OFFSET); its entries start with these two bytes (ESP-IDF gen_esp32part.py).
PARTITION_TABLE_AT = 0x8000
PARTITION_MAGIC = b"\xaa\x50"

# MicroPython's deploy instructions flash at 460800 baud (mp:ports/esp32/boards/deploy.md), and say to drop to
# the default 115200 when a write fails partway.
DEFAULT_BAUD = 460800

ESP_IMAGE_MAGIC = 0xE9


def chip_key(chip_name: str) -> str:
    """esptool's display name ("ESP32-S3") -> its --chip value ("esp32s3")."""
    return chip_name.lower().replace("-", "")


def firmware_chip(path) -> str:
    """The chip a combined MicroPython firmware image was built for (its header's chip id), after checking that it
    is one: an ESP image (magic 0xE9) that esptool's parser reads, with a partition table at 0x8000."""
    from esptool.bin_image import LoadFirmwareImage
    from esptool.targets import CHIP_DEFS
    from esptool.util import FatalError

    path = Path(path)
    if not path.is_file():
        raise TinymlError(f"firmware file not found: {path}")
    data = path.read_bytes()
    if len(data) < 24 or data[0] != ESP_IMAGE_MAGIC:
        hint = " (a .uf2, .dfu or .hex is for another board family: see `tinyml flash --board B`)" \
            if path.suffix.lower() in (".uf2", ".dfu", ".hex") else ""
        raise TinymlError(f"{path} is not an ESP32 firmware image (no 0xE9 image header){hint}: "
                          "download the .bin for your chip from https://micropython.org/download/?port=esp32")
    # The extended header after the 8-byte common one: chip id at bytes 12-13 (what esptool image-info reads).
    chip_id = int.from_bytes(data[12:14], "little")
    chips = [k for k, rom in CHIP_DEFS.items() if rom.IMAGE_CHIP_ID == chip_id and k != "esp8266"]
    if not chips:
        raise TinymlError(f"{path}: unknown chip id {chip_id} in the image header: is it an ESP32 firmware?")
    chip = chips[0]
    try:
        LoadFirmwareImage(chip, data)
    except (FatalError, ValueError, IndexError) as exc:
        raise TinymlError(f"{path}: esptool cannot read it as an {CHIP_DEFS[chip].CHIP_NAME} image: "
                          f"{_one_line(exc)}") from None
    if chip not in FIRMWARE_OFFSETS:
        raise TinymlError(f"{path} is built for {CHIP_DEFS[chip].CHIP_NAME}, which MicroPython does not support")
    table = PARTITION_TABLE_AT - FIRMWARE_OFFSETS[chip]
    if data[table:table + 2] != PARTITION_MAGIC:
        raise TinymlError(f"{path} has no partition table at 0x{PARTITION_TABLE_AT:x}: it is not a complete "
                          f"MicroPython firmware (the app-only micropython.bin?); download the .bin from "
                          f"{GENERIC_FIRMWARE[chip]}")
    return chip


def esptool_argv(chip: str, port: str, firmware, erase: bool = True, baud: int = DEFAULT_BAUD) -> list:
    """The esptool command line (v5 spellings) that writes `firmware` to a `chip` on `port`.
    --erase-all erases the whole flash first, in the same connection (`erase-flash` then `write-flash` would
    reset the chip twice); write-flash then checks the MD5 of every written region."""
    if chip not in FIRMWARE_OFFSETS:
        raise TinymlError(f"--chip {chip}: MicroPython has no firmware for it; choose one of "
                          f"{', '.join(FIRMWARE_OFFSETS)}")
    argv = ["--chip", chip, "--port", str(port), "--baud", str(baud),
            "--before", "default-reset", "--after", "hard-reset", "write-flash"]
    if erase:
        argv.append("--erase-all")
    return argv + [f"0x{FIRMWARE_OFFSETS[chip]:x}", str(firmware)]


def detect_chip(port: str, connect_attempts=None) -> str:
    """Ask esptool which chip answers on `port` (it resets it into the ROM bootloader): its --chip value."""
    from esptool.cmds import detect_chip as esptool_detect

    kwargs = {} if connect_attempts is None else {"connect_attempts": connect_attempts}
    esp = _esptool_call(lambda: esptool_detect(port, **kwargs), port, "detect the chip")
    with esp:       # closes the port on leaving, for the esptool run that writes
        return chip_key(esp.CHIP_NAME)


def run_esptool(argv: list, port: str) -> None:
    import esptool
    _esptool_call(lambda: esptool.main(argv), port, "write the firmware")


def _esptool_call(fn, port, what):
    """Run an esptool step; its failures (no answer, port missing, a chip that is not the one named) become one
    TinymlError line that keeps esptool's own words."""
    import serial
    from esptool.util import FatalError
    try:
        return fn()
    except FatalError as exc:
        text = _one_line(exc)
        if "Could not open" in text or "could not open port" in text:
            raise TinymlError(f"cannot open {port}: esptool says: {text}. Give the board's serial port "
                              "(/dev/ttyUSB0, /dev/ttyACM0, COM4)") from None
        if "Failed to connect" in text or "No serial data received" in text:
            raise TinymlError(f"no ESP32 bootloader answered on {port}, so esptool could not {what}: {text}. "
                              "Check the port and cable; if it still fails, hold BOOT, press and release RESET, "
                              "release BOOT, and run again") from None
        raise TinymlError(f"esptool could not {what} on {port}: {text}") from None
    except serial.SerialException as exc:
        raise TinymlError(f"the serial port {port} failed while esptool tried to {what}: {_one_line(exc)}") from None
    except SystemExit as exc:   # click's usage errors (the argv is ours, so this is a bug here)
        raise TinymlError(f"esptool rejected its arguments (exit status {exc.code}) while trying to {what}") from None


def _one_line(exc) -> str:
    return " ".join(str(exc).split()).rstrip(".")


def flash(port: str, firmware, board=None, chip: str = "auto", erase: bool = True, baud: int = DEFAULT_BAUD,
          connect_attempts=None, echo=print) -> list:
    """Write a MicroPython firmware to the ESP32-family board on `port`; returns the esptool argv it ran."""
    b = get_board(board) if board else None
    spec = (b or {}).get("flash") or {}
    if b is not None and spec.get("method") != "esptool":
        raise TinymlError(f"--board {board} is not flashed with esptool: run `tinyml flash --board {board}` "
                          "for its steps")
    image_chip = firmware_chip(firmware)
    page = spec.get("firmware") or GENERIC_FIRMWARE[image_chip]
    if spec and spec["chip"] != image_chip:
        raise TinymlError(f"{firmware} is built for {_name(image_chip)}, but {board} is an {_name(spec['chip'])}: "
                          f"download its firmware from {page}")
    if chip == "auto":
        found = detect_chip(port, connect_attempts)
        echo(f"flash: {port} answers as an {_name(found)}")
    else:
        found = chip_key(chip)
    if found != image_chip:
        raise TinymlError(f"the board on {port} is an {_name(found)} but {firmware} is built for {_name(image_chip)}: "
                          f"download the firmware for it from {GENERIC_FIRMWARE.get(found, page)}")
    argv = esptool_argv(found, port, firmware, erase=erase, baud=baud)
    if connect_attempts is not None:
        argv = ["--connect-attempts", str(connect_attempts)] + argv
    echo(f"flash: esptool {shlex.join(argv)}")
    run_esptool(argv, port)
    echo(f"flash: done: MicroPython is on {port}; check it with `mpremote connect {port} repl`")
    return argv


def _name(chip: str) -> str:
    from esptool.targets import CHIP_DEFS
    return CHIP_DEFS[chip].CHIP_NAME if chip in CHIP_DEFS else chip


def guidance(board: str, port=None, firmware=None) -> str:
    """The exact steps for a board that is not flashed over serial with esptool, from its "flash" entry."""
    b = get_board(board)
    spec = b.get("flash")
    if not spec:
        raise TinymlError(f"--board {board} ({b['name']}) is not a physical board: nothing to flash")
    if firmware is not None and spec.get("file") and not str(firmware).lower().endswith(spec["file"]):
        raise TinymlError(f"{board} takes a {spec['file']} firmware, not {Path(firmware).name}: download it from "
                          f"{spec['firmware']}")
    fw = str(firmware) if firmware else f"FIRMWARE{spec.get('file', '.bin')}"
    values = {"firmware": fw, "board": board, "port": port or spec.get("port_example", "PORT"),
              "port_name": Path(port).name if port else Path(spec.get("port_example", "PORT")).name}
    lines = [f"{b['name']}: {spec['summary']}",
             f"  1. Download the MicroPython firmware ({spec.get('file', '.bin')}) from {spec['firmware']}"]
    for i, step in enumerate(spec["steps"], 2):
        lines.append(f"  {i}. {step.format(**values)}")
    lines.append(f"  (sources: {spec['source']})")
    return "\n".join(lines)
