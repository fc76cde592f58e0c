"""One build at a time across processes: `make test` runs pytest in two worker processes (pytest-xdist), and two
workers must not compile the same cached module, fetch the same sdist or build the same firmware into the same
folder at once. Every function that fills a cache under build/ or ~/.cache/tinyml-mpy is decorated with
`@serialized`: it runs holding an exclusive lock on build/.build.lock (fcntl.flock, released by the kernel if a
process dies). The lock is reentrant within a process (a module build that fetches MicroPython's sources takes
it once), and a cache hit costs one uncontended flock."""

import fcntl
import functools
import os
import threading

from .paths import BUILD

_depth = threading.local()


def _lock_path():
    BUILD.mkdir(parents=True, exist_ok=True)
    return BUILD / ".build.lock"


def serialized(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if getattr(_depth, "n", 0):
            _depth.n += 1
            try:
                return fn(*args, **kwargs)
            finally:
                _depth.n -= 1
        fd = os.open(_lock_path(), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _depth.n = 1
            try:
                return fn(*args, **kwargs)
            finally:
                _depth.n = 0
        finally:
            os.close(fd)        # closing the descriptor releases the lock
    return wrapper
