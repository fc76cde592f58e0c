"""The device code type-checks against what each MicroPython port really has: mypy with device/stubs/tinyml.pyi
(the native module's API) and MicroPython's own stubs from PyPI, one port at a time (esp32, rp2, stm32, nrf,
installed by `make setup` into build/typecheck/PORT). An API a port lacks (machine.I2S on nrf,
machine.wake_reason() on rp2, a misspelt tinyml keyword) is an error, and a snippet of such mistakes proves
each is reported."""

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import REPO

DEVICE = REPO / "device"
TYPECHECK = REPO / "build" / "typecheck"
PORTS = ("esp32", "rp2", "stm32", "nrf")

# Error codes left out, because they are about typing style, not about what a port has:
#   var-annotated  an empty dict or list without annotation (device code carries none: no typing on boards)
#   assignment     ticks_ms()/ticks_us() are opaque types in the stubs, so `t = 0` then `t = ticks_us()` is one
#   str-format     "%d" % ticks_ms(): the same opaque types
DISABLED = ("var-annotated", "assignment", "str-format")

# What the device code uses only where the port has it, behind a guard the checker cannot see: the board's
# power_model (tinyml_device/power.py branches per port) or try/except ImportError. Each port's run must
# report exactly these, so a new use without a guard fails, and so does a guard that is no longer needed.
MISSING = 'Cannot find implementation or library stub for module named "%s"'
SIM = ("tinyml_device/board.py", MISSING % "sim_world")     # the simulated board's module (device/sim)
NOT_ESP32 = {("tinyml_device/power.py", MISSING % "esp32"),                      # wake on pins, touch
             ("tinyml_device/power.py", 'Module has no attribute "wake_reason"'),
             ("tinyml_device/power.py", 'Module has no attribute "TouchPad"')}        # wake_on_touch(pin)
NOT_STM32 = ("tinyml_device/power.py", MISSING % "stm")                           # the WKUP pin's register
GUARDED = {
    "esp32": {SIM, NOT_STM32},
    "rp2": {SIM, NOT_STM32, *NOT_ESP32},
    "stm32": {SIM, *NOT_ESP32},
    "nrf": {SIM, NOT_STM32, *NOT_ESP32, ("tinyml_device/drivers/inmp441.py", 'Module "machine" has no attribute "I2S"')},
}

# Deliberate mistakes, each with the error a port must report for it.
WRONG = '''\
import machine
import tinyml

machine.wake_reason()                                   # esp32 only
from machine import I2S                                 # no I2S on the nrf port
import esp32                                            # the esp32 port's own module
m = tinyml.Model(b"", keep_input=True)                  # the keyword is keep_inputs
m.predict([0.0], bytearray(4))                          # out= is keyword-only
fe = tinyml.AudioFrontend("microwakeword")
fe.process(bytearray(2))                                # process(pcm, out)
tinyml.MotionFeatures(128, 3, 100)                      # rate= is keyword-only
'''
WRONG_ERRORS = {
    "all": ['Unexpected keyword argument "keep_input" for "Model"',
            'No overload variant of "predict" of "Model" matches argument types',
            'Too few arguments for "process" of "AudioFrontend"',
            'Too many positional arguments for "MotionFeatures"'],
    "esp32": [],
    "rp2": ['Module has no attribute "wake_reason"', 'module named "esp32"'],
    "stm32": ['Module has no attribute "wake_reason"', 'module named "esp32"'],
    "nrf": ['Module has no attribute "wake_reason"', 'Module "machine" has no attribute "I2S"', 'module named "esp32"'],
}

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<msg>.*?)(  \[(?P<code>[\w-]+)\])?$")


def mypy(port, wrong_file):
    stubs = TYPECHECK / port
    assert (stubs / "machine.pyi").exists() and (stubs / "stdlib" / "VERSIONS").exists(), \
        f"MicroPython's {port} stubs are missing in {stubs}: run `make setup`"
    cmd = [sys.executable, "-m", "mypy", "--no-site-packages", "--custom-typeshed-dir", str(stubs),
           "--cache-dir", str(TYPECHECK / f"cache-{port}"), "--check-untyped-defs", "--no-error-summary",
           "--hide-error-context", "--no-pretty", "--show-error-codes", "--python-version", "3.11",
           *[f"--disable-error-code={c}" for c in DISABLED],
           "tinyml_device", *sorted(p.relative_to(DEVICE).as_posix()
                                                              for p in (DEVICE / "examples").glob("*.py")),
           str(wrong_file)]
    env = {"MYPYPATH": f"{DEVICE / 'stubs'}:{stubs}", "PATH": "/usr/bin:/bin"}
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=DEVICE, env=env)
    assert "No module named mypy" not in res.stderr, "mypy is missing: run `make setup`"
    errors = []
    for line in res.stdout.splitlines():
        m = LINE.match(line)
        if m and not m["path"].startswith(str(stubs)):     # (the port stubs have errors of their own)
            errors.append((m["path"], m["msg"]))
    assert res.returncode in (0, 1) and not res.stderr.strip(), res.stderr
    return errors


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    wrong = tmp_path_factory.mktemp("typecheck") / "wrong_uses.py"
    wrong.write_text(WRONG)
    with ThreadPoolExecutor(len(PORTS)) as pool:        # four mypy processes: about 3 s each
        found = dict(zip(PORTS, pool.map(lambda port: mypy(port, wrong), PORTS)))
    return {port: ([e for e in errs if not e[0].endswith(wrong.name)], [m for p, m in errs if p.endswith(wrong.name)])
            for port, errs in found.items()}


@pytest.mark.parametrize("port", PORTS)
def test_device_code_uses_only_what_the_port_has(results, port):
    device_errors, _ = results[port]
    assert set(device_errors) == GUARDED[port], (
        f"mypy with MicroPython's {port} stubs:\n" + "\n".join(f"  {p}: {m}" for p, m in sorted(device_errors)) +
        "\nA new error is an API this port lacks (fix the code, or guard it at run time and list it in GUARDED),"
        " or something mypy cannot follow (write it so that it can, e.g. unpack a list before a call with"
        " keywords, or add `# type: ignore[code]` with the reason); a missing one is a guard no longer needed.")


@pytest.mark.parametrize("port", PORTS)
def test_wrong_uses_are_reported(results, port):
    _, wrong = results[port]
    for want in WRONG_ERRORS["all"] + WRONG_ERRORS[port]:
        assert any(want in msg for msg in wrong), f"{port}: not reported: {want}\n" + "\n".join(wrong)
    if port == "esp32":     # the esp32 port has all three machine/esp32 APIs: only the tinyml mistakes remain
        assert not any("wake_reason" in m or "I2S" in m or 'module named "esp32"' in m for m in wrong), wrong
