"""The QEMU Cortex-M firmware (ports/qemu_mps2) and its host target, run for real under qemu-system-arm."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml.targets import TargetError, get_target  # noqa: E402
from tinyml.targets import qemu  # noqa: E402

# No skipping: `make setup` installs QEMU and the Arm compiler, and a missing one must fail CI loudly
# (the target's TargetError names the apt-get packages).

MPREMOTE = Path(sys.executable).parent / "mpremote"


@pytest.fixture(scope="session")
def firmware():
    return qemu.build_firmware(force=True)      # make is incremental: cheap when up to date


@pytest.fixture(scope="session")
def mpy_dir():
    return subprocess.run([str(REPO / "tools" / "fetch_micropython.sh")], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def natfix_mpy(tmp_path_factory, mpy_dir):
    """tests/natmod_fixture built as an armv7emsp native module with MicroPython's dynruntime.mk."""
    work = tmp_path_factory.mktemp("natfix")
    for f in (REPO / "tests" / "natmod_fixture").iterdir():
        shutil.copy(f, work)
    subprocess.run(["make", f"MPY_DIR={mpy_dir}", f"PYTHON={sys.executable}", "ARCH=armv7emsp"],
                   cwd=work, check=True, capture_output=True)
    return (work / "natfix.mpy").read_bytes()


def run_qemu(firmware, workdir, script, machine="mps2-an386"):
    (workdir / "main.py").write_text(script)
    return subprocess.run(
        ["qemu-system-arm", "-M", machine, "-nographic", "-semihosting-config", "enable=on,target=native",
         "-icount", "shift=6", "-kernel", str(firmware), "-append", "main.py"],
        cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


@pytest.mark.parametrize("machine", ["mps2-an386", "mps2-an500"])
def test_hello_world_and_exit_status(firmware, tmp_path, machine):
    proc = run_qemu(firmware, tmp_path, "print('hello', 6 * 7, 1.5 / 2)", machine)
    assert proc.returncode == 0
    assert proc.stdout.replace(b"\r\n", b"\n") == b"hello 42 0.75\n"
    assert run_qemu(firmware, tmp_path, "import sys\nsys.exit(5)", machine).returncode == 5


def test_uncaught_exception_exits_nonzero_with_traceback(firmware, tmp_path):
    proc = run_qemu(firmware, tmp_path, "def f():\n    raise KeyError('nope')\nf()\n")
    assert proc.returncode == 1
    assert b"Traceback (most recent call last):" in proc.stdout
    assert proc.stdout.rstrip().endswith(b"KeyError: nope")


@pytest.mark.parametrize("name", ["qemu-m4", "qemu-m7"])
def test_target_reports_script_exception(firmware, name):
    with pytest.raises(TargetError, match="ValueError: bad shape"):
        get_target(name).run("print('start')\nraise ValueError('bad shape')\n", {})


def test_target_timeout(firmware):
    with pytest.raises(TargetError, match="timed out"):
        get_target("qemu-m4").run("while True:\n    pass\n", {}, timeout=2)


def test_missing_qemu_is_a_clear_error(firmware, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(TargetError, match="apt-get install qemu-system-arm"):
        get_target("qemu-m4").run("print(1)", {})


def test_file_round_trip(firmware):
    model = bytes(range(256)) * 1300            # ~330 KB, the size of the largest models
    script = """
import os
data = open('model.tflite', 'rb').read()
print(len(data), os.stat('model.tflite')[6])
with open('out.bin', 'wb') as f:
    f.write(data[100:] + data[:100])
open('note.txt', 'w').write('text ok')
print(open('note.txt').read())
try:
    open('missing.bin', 'rb')
except OSError as e:
    print('missing', e.errno)
"""
    result = get_target("qemu-m4").run(script, {"model.tflite": model}, fetch=["out.bin", "note.txt"])
    assert result.stdout == f"{len(model)} {len(model)}\ntext ok\nmissing 2\n"
    assert result.files == {"out.bin": model[100:] + model[:100], "note.txt": b"text ok"}


def test_big_heap(firmware):
    result = get_target("qemu-m4").run("a = bytearray(2_000_000)\nb = bytearray(1_000_000)\nprint(len(a) + len(b))", {})
    assert result.stdout == "3000000\n"


def test_instruction_count_is_repeatable_and_grows_with_work(firmware):
    script = """
import board
t0 = board.instructions()
s = 0
for i in range({n}):
    s += i
print(board.instructions() - t0)
"""
    target = get_target("qemu-m4")
    small = [target.run(script.format(n=100), {}) for _ in range(2)]
    big = target.run(script.format(n=1000), {})
    assert small[0].stdout == small[1].stdout
    assert small[0].instructions == small[1].instructions
    region_small, region_big = int(small[0].stdout), int(big.stdout)
    assert 0 < region_small < region_big
    # each extra loop iteration costs the same: the count is exact, not sampled
    per_iteration = (region_big - region_small) / 900
    assert 20 < per_iteration < 2000
    assert big.instructions - small[0].instructions >= region_big - region_small


@pytest.mark.parametrize("name", ["qemu-m4", "qemu-m7"])
def test_import_native_module(firmware, natfix_mpy, name):
    script = """
import natfix
print(natfix.add(2, 40), natfix.bytesum(b'\\x01\\x02\\xff' * 10), natfix.scale(1.5, -2.0))
"""
    result = get_target(name).run(script, {"natfix.mpy": natfix_mpy})
    assert result.stdout == "42 2580 -3.0\n"


@pytest.fixture(scope="module")
def pty_board(firmware, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("board")
    with get_target("qemu-m4").serve_pty(workdir) as port:
        yield port, workdir


def mpremote(port, *args):
    proc = subprocess.run([str(MPREMOTE), "connect", port, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.replace("\r\n", "\n")


def test_mpremote_exec(pty_board):
    port, _ = pty_board
    assert mpremote(port, "exec", "print(1+1)") == "2\n"


def test_mpremote_run(pty_board, tmp_path):
    port, _ = pty_board
    script = tmp_path / "script.py"
    script.write_text("import board\nprint('ran', board.cpu(), sum(range(10)))\n")
    assert mpremote(port, "run", str(script)) == "ran cortex-m4 45\n"


def test_mpremote_cp(pty_board, tmp_path, natfix_mpy):
    port, workdir = pty_board
    data = bytes(range(256)) * 12
    (tmp_path / "file.bin").write_bytes(data)
    mpremote(port, "cp", str(tmp_path / "file.bin"), ":file.bin")
    assert (workdir / "file.bin").read_bytes() == data
    mpremote(port, "cp", ":file.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    # a native module copied to the board imports there
    (tmp_path / "natfix.mpy").write_bytes(natfix_mpy)
    mpremote(port, "cp", str(tmp_path / "natfix.mpy"), ":natfix.mpy")
    assert mpremote(port, "exec", "import natfix; print(natfix.add(1, 2))") == "3\n"
