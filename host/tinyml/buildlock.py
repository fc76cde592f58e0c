"""Builds that run in several processes at once: `make test` runs pytest in one worker process per core
(pytest-xdist), and two workers must not compile into the same cached folder, fetch the same sdist or build the
same firmware at the same time.

- `build_lock(name)`: an exclusive lock on build/.locks/NAME.lock (fcntl.flock, released by the kernel if a
  process dies), reentrant within a thread. Builders that fill one cache entry per key (a native module per arch
  and kernel set, a host library) lock that key only, so two workers build two different modules at once, and
  a worker whose module is already built never waits behind another's build (it checks the entry's completion
  marker first, without any lock).
- `@serialized`: the whole function runs holding the lock named after it (a firmware build, an sdist fetch):
  for builders with few, large outputs.

Lock order follows the call graph (a module build fetches MicroPython's sources, never the reverse), so two
processes cannot deadlock."""

import contextlib
import fcntl
import functools
import os
import threading

from .paths import BUILD

_held = threading.local()


@contextlib.contextmanager
def build_lock(name: str):
    held = _held.__dict__.setdefault("counts", {})
    if held.get(name):
        held[name] += 1
        try:
            yield
        finally:
            held[name] -= 1
        return
    lock_dir = BUILD / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held[name] = 1
        try:
            yield
        finally:
            held[name] = 0
    finally:
        os.close(fd)        # closing the descriptor releases the lock


def serialized(fn):
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with build_lock(name):
            return fn(*args, **kwargs)
    return wrapper
