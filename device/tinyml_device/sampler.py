# Fixed-rate sampling from a callable into a Ring, driven by a machine.Timer or polled from a loop. It measures
# the real sample rate and the jitter (how late each sample was taken), and counts overruns: sample periods
# that passed without a sample. Nothing is lost silently.
#
# Timer mode: on the ESP32 Timer callbacks are always soft (scheduled: they run between bytecodes, late by
# whatever the main program was doing), and when the scheduler queue (8 entries) is full the port drops the
# callback without a word. So lateness and missed periods are measured from timestamps, not trusted to the
# callback count.
import time

_ticks_us = time.ticks_us
_ticks_diff = time.ticks_diff
_ticks_add = time.ticks_add


class Sampler:
    """sampler = Sampler(read_into, ring, rate_hz): `read_into(frame)` fills one frame (an array of the ring's
    typecode, made once here) from the sensor; each sample is pushed into `ring`.

    Then either `sampler.start(timer_id)` (a periodic machine.Timer; `stop()` ends it), or call
    `sampler.poll()` often (takes a sample when one is due), or `sampler.run(n)` (blocks for n samples)."""

    def __init__(self, read_into, ring, rate_hz):
        self.read_into = read_into
        self.ring = ring
        self.rate_hz = rate_hz
        self.period_us = 1000000 // rate_hz
        self.frame = ring.new_frame()
        self.timer = None
        self._tick_cb = self._tick      # a bound method made once: the callback itself must not allocate
        self.reset_stats()

    def reset_stats(self):
        self.samples = 0
        self.overruns = 0           # sample periods missed entirely
        self.late_max_us = 0        # jitter: the worst lateness of a sample against its schedule
        self.late_sum_us = 0        # (kept below 2**29 by reset_stats() in long runs: see stats())
        self.first_us = None
        self.last_us = 0
        self.due = None

    def _take(self, now):
        if self.due is None:
            self.due = now
            self.first_us = now
        late = _ticks_diff(now, self.due)
        if late >= self.period_us:
            missed = late // self.period_us
            self.overruns += missed
            self.due = _ticks_add(self.due, missed * self.period_us)
            late -= missed * self.period_us
        if late < 0:
            return False        # early: a queued duplicate callback after a resync
        self.read_into(self.frame)
        self.ring.push(self.frame)
        self.samples += 1
        self.last_us = now
        if late > self.late_max_us:
            self.late_max_us = late
        self.late_sum_us += late
        self.due = _ticks_add(self.due, self.period_us)
        return True

    def _tick(self, _timer):
        self._take(_ticks_us())

    def start(self, timer_id=0):
        """Sample from a periodic machine.Timer (esp32: ids 0-3; rp2: -1, a virtual timer)."""
        from machine import Timer
        self.timer = Timer(timer_id)
        self.timer.init(mode=Timer.PERIODIC, freq=self.rate_hz, callback=self._tick_cb)

    def stop(self):
        if self.timer is not None:
            self.timer.deinit()
            self.timer = None

    def poll(self):
        """Take a sample if one is due. Returns True if it did."""
        now = _ticks_us()
        if self.due is not None and _ticks_diff(now, self.due) < 0:
            return False
        return self._take(now)

    def run(self, n):
        """Take n samples, sleeping between them."""
        for _ in range(n):
            if self.due is not None:
                wait = _ticks_diff(self.due, _ticks_us())
                if wait > 0:
                    time.sleep_us(wait)
            while not self._take(_ticks_us()):
                pass

    def stats(self):
        """A dict: samples, overruns, measured rate (Hz), mean and max jitter (us)."""
        span = _ticks_diff(self.last_us, self.first_us) if self.first_us is not None else 0
        rate = (self.samples - 1) * 1000000 / span if self.samples > 1 and span > 0 else 0.0
        return {"samples": self.samples, "overruns": self.overruns, "rate_hz": rate,
                "target_hz": self.rate_hz, "jitter_mean_us": self.late_sum_us // self.samples if self.samples else 0,
                "jitter_max_us": self.late_max_us}

    def report(self):
        s = self.stats()
        msg = "sampled %d at %.2f Hz (target %d), jitter mean %d us max %d us, overruns %d" % (
            s["samples"], s["rate_hz"], s["target_hz"], s["jitter_mean_us"], s["jitter_max_us"], s["overruns"])
        if s["overruns"]:
            msg += " <- samples were missed"
        return msg
