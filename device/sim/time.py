# `time` on the simulated board unix-sim: the unix port's time functions with the ticks and sleeps on the
# virtual clock of sim_world (shadows the built-in `time`; the built-in stays reachable as `utime`).
from utime import *             # noqa: F401,F403  time, time_ns, gmtime, localtime, mktime, ticks_diff, ticks_add
import sim_world as _w

ticks_us = _w.ticks_us
ticks_ms = _w.ticks_ms


def ticks_cpu():
    return _w.ticks_us()


def sleep_us(us):
    _w.sleep_us(us)


def sleep_ms(ms):
    _w.sleep_us(int(ms) * 1000)


def sleep(s):
    _w.sleep_us(int(s * 1000000))
