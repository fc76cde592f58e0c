# Small state kept across deep sleep: a few 32-bit integers with a version and a CRC32, in RTC memory where the
# port has it (esp32: machine.RTC().memory(), up to 2048 bytes, survives deep sleep and resets but not
# power-off) and otherwise in a small file, written only when the values changed (flash wears out).
# Absent or corrupt state (wrong magic, size, version or CRC) is detected and replaced by zeros: the reason is
# in `status`, and nothing raises.
import struct
from array import array

MAGIC = b"TMs1"
HEADER = "<4sHHI"               # magic, version, payload bytes, crc32(version + size + payload)
HEADER_BYTES = struct.calcsize(HEADER)

try:
    from binascii import crc32
except ImportError:             # ports built without binascii.crc32
    def crc32(data, crc=0):     # type: ignore[misc]  # (binascii's has another signature: same results)
        crc ^= 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF


class RTCMemory:
    name = "rtc"

    def __init__(self):
        from machine import RTC
        self.rtc = RTC()

    def read(self):
        return self.rtc.memory()

    def write(self, blob):
        self.rtc.memory(blob)


class File:
    name = "file"

    def __init__(self, path):
        self.path = path

    def read(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def write(self, blob):
        # Write a new file then rename it over the old: a reset mid-write leaves the old state, not half of
        # the new (littlefs renames atomically).
        tmp = self.path + ".new"
        with open(tmp, "wb") as f:
            f.write(blob)
        import os
        os.rename(tmp, self.path)


def default_store(path="state.bin", board=None):
    """RTC memory where this board has it, else a file."""
    if board is None:
        from . import board as _b
        try:
            board = _b.current()
        except Exception:
            board = None
    if board is None or board.rtc_memory_bytes:
        try:
            import machine
            if hasattr(machine, "RTC") and hasattr(machine.RTC(), "memory"):
                return RTCMemory()
        except Exception:
            pass
    return File(path)


class State:
    """st = State(words=4, version=1): st.values is an array('i') of 4 ints, loaded from the store (or zeros,
    with st.status saying why: 'ok', 'absent', 'corrupt: ...', 'old version N'). st.save() writes them if they
    changed. Bump `version` when the meaning of the words changes: old state is then reset, not misread."""

    def __init__(self, words, version=1, store=None):
        self.version = version
        self.values = array("i", bytes(4 * words))
        self.store = store or default_store()
        self._saved = None
        self.status = self.load()

    def load(self):
        blob = self.store.read()
        nbytes = len(self.values) * 4
        if not blob:
            return self._reset("absent")
        if len(blob) < HEADER_BYTES:
            return self._reset("corrupt: %d bytes, shorter than the header" % len(blob))
        magic, version, size, crc = struct.unpack_from(HEADER, blob)
        if magic != MAGIC:
            return self._reset("corrupt: bad magic")
        if size != len(blob) - HEADER_BYTES:
            return self._reset("corrupt: size %d, %d bytes stored" % (size, len(blob) - HEADER_BYTES))
        if crc != _crc(blob):
            return self._reset("corrupt: CRC mismatch")
        if version != self.version:
            return self._reset("old version %d (now %d)" % (version, self.version))
        if size != nbytes:
            return self._reset("corrupt: %d bytes of state, %d expected" % (size, nbytes))
        mv = memoryview(self.values)
        tmp = array("i", blob[HEADER_BYTES:])
        mv[0:len(tmp)] = tmp
        self._saved = bytes(blob)
        return "ok"

    def _reset(self, why):
        for i in range(len(self.values)):
            self.values[i] = 0
        self._saved = None
        return why

    def _blob(self):
        payload = bytes(self.values)
        head = struct.pack("<HH", self.version, len(payload))
        crc = crc32(payload, crc32(head))
        return MAGIC + head + struct.pack("<I", crc) + payload

    def save(self):
        """Write the values if they changed since they were loaded or saved. Returns True if it wrote."""
        blob = self._blob()
        if blob == self._saved:
            return False
        self.store.write(blob)
        self._saved = blob
        return True


def _crc(blob):
    # The CRC covers version, size and payload (bytes 4..8 and the payload after the header).
    return crc32(blob[HEADER_BYTES:], crc32(blob[4:8]))
