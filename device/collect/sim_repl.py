# The simulated board unix-sim as a board on a serial line: MicroPython's REPL, friendly and raw, on this
# process's stdin/stdout, which the host (host/tinyml/sim_serial.py) connects to a pseudo-terminal. The real
# `mpremote` then talks to it as to a board on /dev/ttyUSB0.
#
# Why this exists: the unix port's own REPL has no raw REPL (the protocol mpremote speaks, implemented for
# bare-metal ports in shared/runtime/pyexec.c), and the unix-sim runner runs one script per boot. This file is
# that protocol in Python, with what a port does around it:
#   - friendly REPL (">>> "), Ctrl-A to the raw REPL ("raw REPL; CTRL-B to exit\r\n>"), Ctrl-B back;
#   - raw REPL: code up to Ctrl-D, "OK", the output, "\x04", the traceback, "\x04", ">"; Ctrl-D on an empty
#     line is a soft reset (the interpreter's state, modules and timers gone; the sensors stay powered);
#   - raw-paste mode (Ctrl-E A Ctrl-A, with its flow control), which mpremote uses when a board has it;
#   - Ctrl-C while code runs raises KeyboardInterrupt in it, as a port's UART/USB receive interrupt does. Here
#     the line is polled whenever the program sleeps (where a port runs its event hook), so a loop that never
#     sleeps cannot be interrupted;
#   - while the REPL waits for input, timers keep firing (their soft callbacks run), as on a port.
# Time runs at real speed here (the sim's sleeps really wait), because the host on the other end of the line
# lives in real time: a dropped link lasts as long as it really lasts.
#
# Run by the host with device/sim first on MICROPYPATH and the board's filesystem as the current directory.
import sys
import select
import micropython
import utime
import sim_world as _w

_IN = sys.stdin.buffer
_OUT = sys.stdout.buffer
_poll = select.poll()
_poll.register(sys.stdin, select.POLLIN)
_rx = bytearray()               # received, not yet read by the REPL
_executing = [False]
BANNER = b"MicroPython on unix-sim (tinyml-mpy simulated board); sim_repl\r\nType \"help()\" for more information.\r\n"

# A board's sys.path: the current directory (the filesystem's root) and lib; device/sim stands in for the
# built-in modules (machine, time, esp32).
sys.path[:] = [p for p in sys.path if p.endswith("/sim")] + ["", "lib"]


def _pump(timeout_ms):
    """Move what has arrived on the line into _rx. While code runs, Ctrl-C raises KeyboardInterrupt and is
    not stored (a port's receive interrupt calls mp_sched_keyboard_interrupt instead of buffering it)."""
    while _poll.poll(timeout_ms):
        timeout_ms = 0
        c = _IN.read(1)
        if not c:
            raise SystemExit(0)                 # the host closed the line: the board is switched off
        if c[0] == 3 and _executing[0]:
            _executing[0] = False               # one interrupt per Ctrl-C
            sys.stderr.write("sim_repl: Ctrl-C interrupted the running code\n")     # the host's log of the board
            raise KeyboardInterrupt
        _rx.extend(c)


_sim_sleep = _w.sleep_us


def _real_sleep_us(us):
    """time.sleep_*: wait for real (the sim's hybrid clock follows real time), running the timers that fall
    due and watching the line, instead of skipping the time as a batch run of unix-sim does."""
    end = _w.clock.now() + max(0, int(us))
    while True:
        _w.now_us()                             # queues due timer callbacks (run between bytecodes)
        left = end - _w.clock.now()
        _pump(0)
        if left <= 0:
            break
        utime.sleep_us(min(left, 500))


_w.sleep_us = _real_sleep_us                    # machine/time/I2S look it up at each call


def _getc():
    while not _rx:
        try:
            _w.now_us()                         # let due timers run while waiting, as a port's REPL does
            _pump(1)
        except Exception as e:                  # an exception in a timer callback: printed, REPL goes on
            _write(b"Unhandled exception in callback\r\n")
            sys.print_exception(e)
    c = _rx[0]
    _rx[:] = _rx[1:]
    return c


def _write(b):
    _OUT.write(b)


_BOOT_MODULES = set(sys.modules)
_namespace = {}


def _soft_reset():
    """The interpreter starts afresh: globals, imported modules and timers (and I2S reads) are gone. The
    sensors stay powered and configured, as on a board."""
    _namespace.clear()
    _namespace["__name__"] = "__main__"
    for name in list(sys.modules):
        if name not in _BOOT_MODULES:
            del sys.modules[name]
    del _w._timers[:]
    del _w._queue[:]


def _execute(code, single=False):
    """Run code as the REPL does. Returns the exception, if any."""
    _executing[0] = True
    try:
        if single:
            try:
                v = eval(code, _namespace)
                if v is not None:
                    print(repr(v))
                return None
            except SyntaxError:
                pass
        exec(code, _namespace)
        return None
    except BaseException as e:          # KeyboardInterrupt and SystemExit included: the REPL survives
        return e
    finally:
        _executing[0] = False


PASTE_WINDOW = 256


def _raw_paste():
    """Raw-paste mode (pyexec.c's do_reader_stdin): "R\x01", the window size (16-bit LE) and a first \x01;
    the host sends up to a window ahead, this side sends \x01 each time a window has been read, \x04 from the
    host ends the code and is echoed. Then the code runs: output, \x04, traceback, \x04 (no "OK")."""
    _write(b"R\x01" + bytes([PASTE_WINDOW & 0xFF, PASTE_WINDOW >> 8]) + b"\x01")
    code = bytearray()
    unacked = 0
    while True:
        c = _getc()
        if c == 4:
            break
        code.append(c)
        unacked += 1
        if unacked == PASTE_WINDOW:
            _write(b"\x01")
            unacked = 0
    _write(b"\x04")
    err = _execute(bytes(code))
    _write(b"\x04")
    if err is not None:
        sys.print_exception(err)
    _write(b"\x04")


def raw_repl():
    """Returns "friendly" after Ctrl-B."""
    _write(b"raw REPL; CTRL-B to exit\r\n")
    while True:
        _write(b">")
        line = bytearray()
        while True:
            c = _getc()
            if c == 1:                                  # Ctrl-A
                if len(line) == 2 and line[0] == 5:     # Ctrl-E A Ctrl-A: raw-paste request
                    if line[1] != ord("A"):
                        _write(b"R\x00")                # understood, not supported
                        line = bytearray()
                        continue
                    _raw_paste()
                    line = None
                    break
                _write(b"\r\nraw REPL; CTRL-B to exit\r\n>")
                line = bytearray()
            elif c == 2:                                # Ctrl-B
                _write(b"\r\n")
                return "friendly"
            elif c == 3:                                # Ctrl-C: clear the line
                line = bytearray()
            elif c == 4:                                # Ctrl-D
                break
            else:
                line.append(c)
        if line is None:
            continue
        if not line:
            _write(b"\r\nMPY: soft reboot\r\n")
            _soft_reset()
            _write(b"raw REPL; CTRL-B to exit\r\n")
            continue
        _write(b"OK")
        err = _execute(bytes(line))
        _write(b"\x04")
        if err is not None:
            sys.print_exception(err)
        _write(b"\x04")


def friendly_repl():
    """Just enough of the friendly REPL for `mpremote repl`: echo, one line at a time. Returns "raw" after
    Ctrl-A."""
    _write(BANNER + b">>> ")
    line = bytearray()
    while True:
        c = _getc()
        if c == 1:
            _write(b"\r\n")
            return "raw"
        if c == 3:
            _write(b"\r\nKeyboardInterrupt\r\n>>> ")
            line = bytearray()
        elif c == 4:
            _write(b"\r\nMPY: soft reboot\r\n")
            _soft_reset()
            _write(BANNER + b">>> ")
            line = bytearray()
        elif c in (13, 10):
            _write(b"\r\n")
            if line:
                err = _execute(bytes(line), single=True)
                if err is not None:
                    sys.print_exception(err)
            line = bytearray()
            _write(b">>> ")
        elif c in (8, 127):
            if line:
                line = line[:-1]
                _write(b"\b \b")
        else:
            line.append(c)
            _write(bytes([c]))


def main():
    _soft_reset()
    mode = "friendly"
    while True:
        mode = raw_repl() if mode == "raw" else friendly_repl()


main()
