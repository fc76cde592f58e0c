# A preallocated ring of sample frames, read as overlapping windows, with no allocation once made.
#
# Why it is laid out this way: in MicroPython, storing into a memoryview slice allocates nothing, but taking a
# slice (buf[a:b]) allocates a new memoryview object, and reading a float from an array allocates a float on
# most ports. So frames are copied in as bytes (slice stores), and every window the reader can ask for is a
# memoryview made once, at construction. Each frame is written twice, at i and at i + capacity ("double
# mapping"), so any window of up to `capacity` frames is one contiguous view, never split at the wrap.
# (A slice store needs a source of the same item size: push frames of the ring's own typecode.)
import struct
from array import array

WRAP = 1 << 28      # frame counters wrap here (a multiple of the capacity): ints stay small, never bignums


class Ring:
    """`capacity` frames of `frame_len` values of `typecode` ('f' float32, 'h' int16, 'b' int8, ...)."""

    def __init__(self, capacity, frame_len=1, typecode="f"):
        self.capacity = capacity
        self.frame_len = frame_len
        self.typecode = typecode
        self.itemsize = struct.calcsize(typecode)
        self.frame_bytes = frame_len * self.itemsize
        self.data = array(typecode, bytes(2 * capacity * self.frame_bytes))
        self._mv = memoryview(self.data)
        self.wrap = (WRAP // capacity) * capacity
        self.written = 0            # frames written, modulo self.wrap

    def new_frame(self):
        """A buffer for one frame, to fill and push()."""
        return array(self.typecode, bytes(self.frame_bytes))

    def push(self, frame):
        """Copy one frame (an array of the ring's typecode with frame_len values, e.g. from new_frame()) into
        the ring. Allocates nothing."""
        n = self.frame_len
        a = (self.written % self.capacity) * n
        self._mv[a:a + n] = frame
        b = a + self.capacity * n
        self._mv[b:b + n] = frame
        self.written = (self.written + 1) % self.wrap

    def view(self, start, frames):
        """A memoryview of `frames` frames from slot `start` (made once: this allocates)."""
        n = self.frame_len
        return memoryview(self.data)[start * n:(start + frames) * n]



class Windows:
    """Windows of `size` frames every `hop` frames over a Ring (overlap = size - hop). The capacity must be a
    multiple of hop, and size <= capacity. A window is a memoryview into the ring: use it before the
    producer has written `capacity - size` more frames (or copy it).

    If the reader falls behind so far that frames of the next window were overwritten, the lost windows are
    skipped and counted in `dropped` (never silent)."""

    def __init__(self, ring, size, hop=None):
        hop = hop or size
        if size > ring.capacity or ring.capacity % hop:
            raise ValueError("Windows: need size <= capacity (%d) and capacity a multiple of hop (%d)"
                             % (ring.capacity, hop))
        self.ring = ring
        self.size = size
        self.hop = hop
        self.pos = ring.written         # frame counter where the next window starts
        self.dropped = 0                # windows lost because the producer lapped the reader
        self._views = [ring.view(k * hop, size) for k in range(ring.capacity // hop)]
        self.pos -= self.pos % hop

    def available(self):
        r = self.ring
        return (r.written - self.pos) % r.wrap

    def ready(self):
        """True when a whole window is waiting (skipping windows that were overwritten, counted)."""
        r = self.ring
        avail = (r.written - self.pos) % r.wrap
        # The oldest frame still in the ring is written - capacity: a window starting before it is lost.
        while avail > r.capacity:
            self.pos = (self.pos + self.hop) % r.wrap
            self.dropped += 1
            avail -= self.hop
        return avail >= self.size

    def next(self):
        """The next window (a memoryview of size * frame_len values), or None if it is not complete yet."""
        if not self.ready():
            return None
        v = self._views[(self.pos % self.ring.capacity) // self.hop]
        self.pos = (self.pos + self.hop) % self.ring.wrap
        return v
