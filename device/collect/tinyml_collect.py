# `tinyml collect`, the board side: sample a job's sensor into a RAM ring from machine.Timer (or I2S)
# callbacks, and stream the ring to the host as numbered, CRC-checked lines. The host drives it with mpremote:
#
#   mpremote connect PORT exec "import tinyml_collect as T; T.start('gesture', 500)"   # soft reset, then start
#   mpremote connect PORT resume exec "import tinyml_collect as T; T.stream(0)"         # lines until the end
#   (link dropped after sample 230; the board keeps sampling into the ring)
#   mpremote connect PORT resume exec "import tinyml_collect as T; T.stream(230)"       # from where it stopped
#
# Why callbacks: mpremote enters the raw REPL with Ctrl-C, which raises KeyboardInterrupt in whatever the main
# program is doing (here: stream()). Timer and I2S callbacks are not the main program, so sampling goes on while
# the host is away or reconnecting; only `resume` keeps the interpreter (a soft reset would stop the timers
# and free the ring). stream() is the only thing a Ctrl-C stops, and it holds no state: the next one starts
# from the sequence number the host asks for.
#
# Lines (one per chunk of frames; frame = one sample of every channel as the sensor gives it):
#   #TM START <job> <rate_hz> <frame_bytes> <frames>
#   #TM <seq> <n> <crc32 hex> <base64 of n frames>     crc32 over "<seq> <n>" then the frames
#   #TM LOST <seq> <oldest>     frames before <oldest> were overwritten in the ring (host away too long)
#   #TM END <frames> <overruns>     every frame was produced; overruns: sensor FIFO overflows or late ticks
import time
from binascii import b2a_base64

try:
    from binascii import crc32
except ImportError:             # ports built without binascii.crc32: the same CRC-32 (IEEE), bit by bit
    def crc32(data, crc=0):     # type: ignore[misc]
        crc ^= 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF


# ---- sources: one class per sensor. The recording sets .push; poll() (each timer tick) or the sensor's own
# callback gives it frames of frame_bytes: push(buffer, frames). poll() returns the overruns so far.
class Mpu6050Fifo:
    """MPU6050/MPU6500 accelerometer FIFO: x, y, z big-endian int16 at +-2 g (16384 LSB/g). A 10 Hz timer
    drains the FIFO (1024 bytes = 170 frames = 3.4 s at 50 Hz) into the ring."""
    frame_bytes = 6
    tick_hz = 10
    buffered = True             # a late tick loses nothing (the FIFO holds 3.4 s)

    def __init__(self, rate_hz, opts):
        from machine import I2C
        from tinyml_device.drivers.mpu6050 import MPU6050
        self.imu = MPU6050(I2C(opts.get("i2c", 0)), addr=opts.get("addr", 0x68), rate_hz=rate_hz)
        self.buf = bytearray(self.imu.fifo_size // 6 * 6)

    def begin(self):
        self.imu.fifo_start()

    def poll(self):
        n = self.imu.fifo_read(self.buf)
        if n:
            self.push(self.buf, n)
        return self.imu.fifo_overflows

    def end(self):
        self.imu.fifo_stop()


class Amg8833Frame:
    """AMG8833 8x8 thermal frame: 64 little-endian 12-bit values (0.25 degC), one per timer tick at its 10 fps.
    The chip has no FIFO: a late tick reads the newest frame, so late ticks are counted as overruns."""
    frame_bytes = 128
    tick_hz = 10
    buffered = False

    def __init__(self, rate_hz, opts):
        from machine import I2C
        from tinyml_device.drivers.amg8833 import AMG8833
        self.cam = AMG8833(I2C(opts.get("i2c", 0)), addr=opts.get("addr", 0x69), fps=10)
        self.buf = bytearray(128)

    def begin(self):
        pass

    def poll(self):
        self.cam.read_frame(self.buf)
        self.push(self.buf, 1)
        return 0


class AdcReading:
    """An analog sensor on an ADC pin, read_u16() (0..65535 = 0..vref) as little-endian uint16, one per timer
    tick at the rate (no port paces its ADC by hardware except stm32)."""
    frame_bytes = 2
    buffered = False

    def __init__(self, rate_hz, opts):
        from tinyml_device.drivers.analog import AnalogSensor
        self.tick_hz = rate_hz
        self.adc = AnalogSensor(opts.get("pin", 34))
        self.buf = bytearray(2)

    def begin(self):
        pass

    def poll(self):
        v = self.adc.read_u16()
        self.buf[0] = v & 0xFF
        self.buf[1] = v >> 8
        self.push(self.buf, 1)
        return 0


class I2sMic:
    """INMP441 on I2S: 16-bit mono little-endian PCM. Driven by the I2S completion callback (no timer): each
    0.1 s buffer is pushed and the next read started, while the I2S keeps sampling into its own buffer (ibuf,
    0.5 s). A port drops audio without a word when the program comes back later than that, so a completion
    more than ibuf after the previous one is counted as an overrun.
    Audio is recorded first and sent after (stream_when_done): 32 KB/s is more than a UART carries, and a
    print that blocks on a full link would hold up the callbacks until the I2S buffer overflows (seen on
    unix-sim with a slow host). So the whole recording must fit in RAM."""
    frame_bytes = 2
    tick_hz = 0
    buffered = True
    stream_when_done = True

    def __init__(self, rate_hz, opts):
        from tinyml_device.drivers.inmp441 import INMP441
        ibuf = opts.get("ibuf", rate_hz)                 # bytes: 0.5 s of 16-bit audio
        self.mic = INMP441(opts.get("sck", 14), opts.get("ws", 15), opts.get("sd", 32), rate=rate_hz, ibuf=ibuf)
        self.ibuf_ms = ibuf * 1000 // (2 * rate_hz)
        self.buf = bytearray(2 * (rate_hz // 10))
        self.push = None
        self.last = None
        self.overruns = 0

    def begin(self):
        self.mic.start(self.buf, self._done)

    def _done(self, buf):
        now = time.ticks_ms()
        if self.last is not None and time.ticks_diff(now, self.last) > self.ibuf_ms:
            self.overruns += 1
        self.last = now
        self.push(buf, len(buf) // 2)
        if self.push is not None:
            self.mic.start(buf, self._done)

    def poll(self):
        return self.overruns

    def end(self):
        self.push = None
        self.mic.stop()


# job -> (source, sample rate in Hz). The host's table (host/tinyml/collect.py) says how to decode the frames
# and which file the training recipe reads.
JOBS = {
    "gesture": (Mpu6050Fifo, 50),
    "presence": (Amg8833Frame, 10),
    "anomaly": (AdcReading, 1000),
    "kws": (I2sMic, 16000),
}

CHUNK_BYTES = 384               # frames per line: about 512 characters of base64


class Recording:
    def __init__(self, job, frames, ring_frames=None, log=None, timer_id=0, **opts):
        if job not in JOBS:
            raise ValueError("no sampler for job %r (have %s)" % (job, ", ".join(sorted(JOBS))))
        cls, self.rate = JOBS[job]
        self.job = job
        self.src = cls(self.rate, opts)
        fb = self.fb = self.src.frame_bytes
        self.total = frames
        self.capacity = min(frames, ring_frames or frames)
        self.send_after = getattr(self.src, "stream_when_done", False)
        if self.send_after and self.capacity < frames:
            raise ValueError("%s is recorded into RAM and sent after: ring_frames must hold the whole "
                             "recording" % job)
        self.ring = bytearray(self.capacity * fb)
        self.produced = 0
        self.overruns = 0
        self.late = 0
        self.log = open(log, "wb") if log else None     # every frame as produced (tests compare with it)
        self.chunk = max(1, CHUNK_BYTES // fb)
        self.out = bytearray(self.chunk * fb)
        self.timer = None
        self._tick_cb = self._tick
        self._push_cb = self._push
        self.src.push = self._push_cb
        self.src.begin()
        if self.src.tick_hz:
            from machine import Timer
            self.period_us = 1000000 // self.src.tick_hz
            self.next_us = time.ticks_add(time.ticks_us(), self.period_us)
            self.timer = Timer(timer_id)
            self.timer.init(mode=Timer.PERIODIC, freq=self.src.tick_hz, callback=self._tick_cb)

    def _push(self, buf, n):
        """Frames into the ring (overwriting the oldest when the host is away too long: stream() says LOST).
        At most two block copies (the ring wraps once), not a loop per frame: audio pushes 1600 frames a time."""
        n = min(n, self.total - self.produced)
        if n <= 0:
            return
        fb, cap = self.fb, self.capacity
        mv = memoryview(buf)
        if self.log is not None:
            self.log.write(mv[0:n * fb])
            self.log.flush()
        done = n - cap if n > cap else 0        # a push larger than the ring: its first frames are overwritten
        while done < n:
            at = (self.produced + done) % cap
            k = min(n - done, cap - at)
            self.ring[at * fb:(at + k) * fb] = mv[done * fb:(done + k) * fb]
            done += k
        self.produced += n
        if self.produced >= self.total:
            self._finish()

    def _tick(self, _t):
        if self.produced >= self.total:
            return
        now = time.ticks_us()
        if time.ticks_diff(now, self.next_us) > self.period_us and not self.src.buffered:
            # a whole period late on a sensor without a FIFO: a frame was missed
            self.late += 1
            self.next_us = now
        self.next_us = time.ticks_add(self.next_us, self.period_us)
        self.overruns = self.src.poll()

    def _finish(self):
        # In a callback: stop the sensor, leave the timer to stop() (from stream() or start(), outside any
        # callback). Its ticks do nothing now. (unix-sim's machine.Timer fails when deinit() runs inside its
        # own callback while the sim is queueing it; a port's would not, but nothing is lost this way.)
        end = getattr(self.src, "end", None)
        if end is not None:
            end()
        if self.log is not None:
            self.log.close()
            self.log = None

    def stop(self):
        self._finish()
        if self.timer is not None:
            self.timer.deinit()
            self.timer = None

    def overrun_count(self):
        """Frames lost or mistimed: sensor FIFO overflows / late I2S completions, and late ticks."""
        return (self.overruns if self.src.tick_hz else self.src.poll()) + self.late

    def emit(self, seq, n):
        """One line: frames seq..seq+n (n <= chunk, all still in the ring), copied out in at most two blocks."""
        fb, cap = self.fb, self.capacity
        ring, out = memoryview(self.ring), self.out
        done = 0
        while done < n:
            at = (seq + done) % cap
            k = min(n - done, cap - at)
            out[done * fb:(done + k) * fb] = ring[at * fb:(at + k) * fb]
            done += k
        data = memoryview(out)[0:n * fb]
        head = "%d %d" % (seq, n)
        crc = crc32(data, crc32(head.encode())) & 0xFFFFFFFF
        print("#TM", head, "%08x" % crc, b2a_base64(data).decode().strip())


_rec = None


def start(job, frames, **opts):
    """Start a recording of `frames` frames of `job`'s sensor (stopping one still running). opts: ring_frames
    (default: the whole recording), log (a file of every frame produced), the sensor's bus/pins."""
    global _rec
    if _rec is not None:
        _rec.stop()
    _rec = None
    _rec = Recording(job, frames, **opts)
    print("#TM START %s %d %d %d" % (job, _rec.rate, _rec.fb, frames))


def stream(seq=0):
    """Print the recording from frame `seq` until its end, as the frames arrive. A Ctrl-C (mpremote
    connecting) ends it; the sampling goes on."""
    r = _rec
    if r is None:
        print("#TM NONE")
        return
    while True:
        oldest = r.produced - r.capacity
        if seq < oldest:
            print("#TM LOST %d %d" % (seq, oldest))
            return
        n = min(r.produced - seq, r.chunk)
        if r.send_after and r.produced < r.total:
            n = 0                   # nothing on the link while recording (see I2sMic)
        if n > 0:
            r.emit(seq, n)
            seq += n
            time.sleep_ms(0)        # let the port run pending callbacks (the sampler) between lines
        elif seq >= r.total:
            r.stop()
            print("#TM END %d %d" % (r.total, r.overrun_count()))
            return
        else:
            time.sleep_ms(20)


def status():
    r = _rec
    print("#TM STATUS", "none" if r is None else "%s %d/%d overruns %d late %d" % (
        r.job, r.produced, r.total, r.overruns, r.late))
