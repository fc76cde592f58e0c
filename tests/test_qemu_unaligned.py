"""The armv6m (Cortex-M0/M0+: Raspberry Pi Pico) build on an emulated board that faults on unaligned
accesses, as an M0+ does.

An M0+ faults on every unaligned word or halfword access. The emulated Cortex-M3 (qemu-m3, mps2-an385) that
runs the armv6m module allows unaligned LDR/STR/LDRH/STRH unless SCB->CCR.UNALIGN_TRP is set, so the firmware
(ports/qemu_mps2) sets that bit as soon as it reads an armv6m .mpy. QEMU honours the bit: its M-profile
translator marks every access as needing alignment while it is set (`rebuild_hflags_m32` checks
R_V7M_CCR_UNALIGN_TRP_MASK, target/arm/tcg/hflags.c; target/arm/helper.c in QEMU 7.2) and turns the
alignment fault into a UsageFault with CFSR.UNALIGNED (`arm_v7m_cpu_do_interrupt`, target/arm/m_helper.c).
The firmware itself is built with -mno-unaligned-access so that the only unaligned accesses left are the
module's own. The firmware reports a fault as "FATAL: HardFault: unaligned access at PC=..., address=..." and
exits with status 3, which the host target turns into a TargetError carrying that line.

These tests check the trap itself (with the bit on and off), that an armv6m module switches it on, every
reference model as armv6m on the trapping board against TFLM, and model and input buffers that are 2-byte
but not 4-byte aligned."""

import re
import struct
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import oracle, runner  # noqa: E402
from tinyml.build import build_module  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.paths import DEVICE, VENV_BIN  # noqa: E402
from tinyml.targets import TargetError, get_target  # noqa: E402
from tinyml.targets import qemu  # noqa: E402
from tinyml.toolchain import micropython_sources, patched_mpy_ld  # noqa: E402
from conftest import MODELS  # noqa: E402

ALL_MODELS = sorted(p.stem for p in MODELS.glob("*.tflite"))
FAULT = r"firmware crashed \(HardFault: unaligned access at PC=0x[0-9a-f]{8}, address=%s"
TRAP_LINE = "\nimport board\nprint('trap', board.unaligned_trap())\n"


@pytest.fixture(scope="module", autouse=True)
def firmware():
    # make is incremental: this rebuilds the M3 firmware when the port's sources or flags changed.
    return qemu.build_firmware(force=True, cpu="m3")


def _m3():
    return get_target("qemu-m3")


def test_unaligned_load_faults_only_with_the_trap_on():
    """board.load32/load16 (one LDR/LDRH, as machine.mem32/mem16 would) at odd addresses: read with the trap
    off, a HardFault naming the instruction and the address with it on. Aligned loads work either way."""
    out = _m3().run("""
import board
print('cpu', board.cpu(), 'trap', board.unaligned_trap())
print(hex(board.load32(0x20000001)), hex(board.load16(0x20000003)))
print('was', board.unaligned_trap(True), 'now', board.unaligned_trap())
print('aligned', hex(board.load32(0x20000004)), hex(board.load16(0x20000002)))
print('was', board.unaligned_trap(False))
print(hex(board.load32(0x20000003)))
""", {}).stdout
    assert "cpu cortex-m3 trap False" in out and "was False now True" in out and "was True" in out, out
    assert "aligned 0x" in out and len(out.splitlines()) == 6, out
    for load, addr in (("load32", "0x20000001"), ("load16", "0x20000003"), ("load32", "0x20000202")):
        with pytest.raises(TargetError, match=FAULT % addr):
            _m3().run(f"import board\nboard.unaligned_trap(True)\nprint(board.{load}({addr}))\n", {})


@pytest.fixture(scope="module")
def unaligned_modules(tmp_path_factory):
    """tests/natmod_unaligned (word and halfword loads through a cast pointer) built for armv6m and armv7m."""
    mods = {}
    for arch in ("armv6m", "armv7m"):
        work = tmp_path_factory.mktemp(f"unaligned-{arch}")
        for f in (REPO / "tests" / "natmod_unaligned").iterdir():
            shutil.copy(f, work)
        python = str(VENV_BIN / "python")
        subprocess.run(["make", f"MPY_DIR={micropython_sources()}", f"PYTHON={python}",
                        f"MPY_LD={python} {patched_mpy_ld()}", f"ARCH={arch}"],
                       cwd=work, check=True, capture_output=True)
        mods[arch] = (work / "unaligned.mpy").read_bytes()
    return mods


UNALIGNED_SCRIPT = """
import board, unaligned
b = bytearray(range(16))
print('aligned', hex(unaligned.load32(b, 4)), hex(unaligned.load16(b, 2)), 'trap', board.unaligned_trap())
print('unaligned', hex(unaligned.%s(b, %d)))
"""


@pytest.mark.parametrize("load,offset", [("load32", 1), ("load32", 2), ("load16", 3)])
def test_armv6m_module_switches_the_trap_on(unaligned_modules, load, offset):
    """Importing an armv6m module turns the trap on, so its unaligned LDR/LDRH faults as on an M0+; the
    same code built for armv7m (where the M3 allows it) leaves the trap off and reads the bytes."""
    script = UNALIGNED_SCRIPT % (load, offset)
    out = _m3().run(script, {"unaligned.mpy": unaligned_modules["armv7m"]}).stdout
    want = int.from_bytes(bytes(range(offset, offset + (4 if load == "load32" else 2))), "little")
    assert "aligned 0x7060504 0x302 trap False" in out and f"unaligned {hex(want)}" in out, out
    with pytest.raises(TargetError, match=FAULT % "0x2[0-9a-f]{7}"):
        _m3().run(script, {"unaligned.mpy": unaligned_modules["armv6m"]})


def _model(name):
    return MODELS / f"{name}.tflite"


def _assert_same(got, want, what):
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, what
        diff = np.flatnonzero(g.ravel() != w.ravel())
        assert diff.size == 0, f"{what}: output {i} differs from TFLM at {diff.size} of {g.size} values"


@pytest.mark.parametrize("name", ALL_MODELS)
def test_reference_model_as_armv6m_on_the_trapping_m3(name):
    """Every reference model, engine built for armv6m, on the M3 with the unaligned trap on (the firmware
    sets it when it reads the module): no fault, and TFLM's outputs bit for bit."""
    path = _model(name)
    info = read_model(path)
    inputs = runner.random_inputs(info, seed=7)
    module = build_module("armv6m", info.op_names, float_kernels=info.computes_in_float)
    fetch = [f"out{i}.bin" for i in range(len(info.outputs))]
    result = _m3().run((DEVICE / "invoke.py").read_text() + TRAP_LINE,
                       runner._device_files(path, module, inputs), fetch, timeout=1200)
    assert "trap True" in result.stdout, result.stdout
    got = [np.frombuffer(result.files[f], dtype=t.dtype).reshape(t.shape) for f, t in zip(fetch, info.outputs)]
    _assert_same(got, oracle.invoke(path, inputs), f"{name} as armv6m on the trapping qemu-m3")


OFFSETS_SCRIPT = """
import os, tinyml
data = open('model.tflite', 'rb').read(os.stat('model.tflite')[6])
x = open('in0.bin', 'rb').read()
for off in (1, 2, 3, 4, 6, 8):
    buf = bytearray(len(data) + off)
    buf[off:] = data
    try:
        m = tinyml.Model(memoryview(buf)[off:])
    except Exception as e:
        print(off, 'refused', type(e).__name__, e)
        open('out_%d.bin' % off, 'wb').close()
        continue
    src = bytearray(len(x) + 2)
    src[2:] = x
    m.set_input(0, memoryview(src)[2:])     # an input buffer at 2 mod 4, too
    m.invoke()
    open('out_%d.bin' % off, 'wb').write(bytes(m.output(0)))
    print(off, 'ok')
"""


@pytest.mark.parametrize("name", ["hello_world", "ad01_int8"])
def test_model_buffer_at_offset_2_is_refused_or_works_never_faults(name):
    """A model buffer that is a memoryview at offset 1, 2, 3, 4, 6 or 8 of a bytearray (2-byte but not
    4-byte aligned at 2 and 6), with an input buffer at offset 2, on the trapping M3 with the armv6m module:
    never a fault. Each offset either works, bit-exact with TFLM, or is refused with the engine's message
    (a misaligned model buffer in place: "model buffer is not 4-byte aligned"); 4 and 8 always work."""
    path = _model(name)
    info = read_model(path)
    inputs = runner.random_inputs(info, seed=8)
    module = build_module("armv6m", info.op_names, float_kernels=info.computes_in_float)
    files = runner._device_files(path, module, inputs)
    offsets = (1, 2, 3, 4, 6, 8)
    result = _m3().run(OFFSETS_SCRIPT + TRAP_LINE, files, [f"out_{off}.bin" for off in offsets])
    out = result.stdout
    assert "trap True" in out, out
    want = oracle.invoke(path, inputs)[0]
    for off in offsets:
        if off % 4 and re.search(rf"^{off} refused", out, re.M):
            assert re.search(rf"^{off} refused ValueError model buffer is not 4-byte aligned", out, re.M), out
            continue
        assert re.search(rf"^{off} ok$", out, re.M), out
        got = np.frombuffer(result.files[f"out_{off}.bin"], dtype=want.dtype).reshape(want.shape)
        _assert_same([got], [want], f"{name} at offset {off}")


FIRMWARE_WORKLOAD = """
import board, struct, gc, math
board.unaligned_trap(True)
b = bytearray(range(64))
for off in range(8):
    print(struct.unpack_from('<ihHf', b, off), bytes(b[off:off + 7]), bytes(memoryview(b)[off:off + 9]))
    b[off + 1:off + 11] = b[off + 3:off + 13]
    struct.pack_into('<iq', b, off + 1, -off, off << 40)
s = '%s-%d-%.3f' % ('abc' * 5, 12345, math.pi)
print(s, s.split('-'), 'x'.join(str(i) for i in range(20)), sorted({i * 7 % 13: i for i in range(30)}))
d = {}
for i in range(500):
    d['k%d' % i] = bytes(i % 11) + b'z'
gc.collect()
print(len(d), sum(len(v) for v in d.values()), 2 ** 100 // 3, int('123456789' * 4) % 97)
exec('def f(a, *b, **c):\\n    return a + len(b) + len(c)\\nprint(f(1, 2, 3, x=4))')
try:
    raise ValueError('oops %d' % 3)
except ValueError as e:
    print(repr(e))
print('done', board.unaligned_trap())
"""


def test_firmware_itself_never_accesses_memory_unaligned():
    """With the trap on, MicroPython's own code (slices and memoryviews at odd offsets, struct, strings,
    dicts, the compiler, GC, exceptions) runs without a fault: the M3 firmware is built with
    -mno-unaligned-access and string0.c. With GCC's default and newlib's memcpy (memcpy-armv7m.S loads
    words from unaligned addresses) the bytearray slice copy faults."""
    out = _m3().run(FIRMWARE_WORKLOAD, {}).stdout
    assert "done True" in out and "ValueError('oops 3',)" in out, out


def _u32(b, pos):
    return struct.unpack_from("<I", b, pos)[0]


def _field(b, table, index):
    """Position of field `index` of the FlatBuffers table at `table`, 0 when absent."""
    vtable = table - struct.unpack_from("<i", b, table)[0]
    if 4 + 2 * index + 2 > struct.unpack_from("<H", b, vtable)[0]:
        return 0
    off = struct.unpack_from("<H", b, vtable + 4 + 2 * index)[0]
    return table + off if off else 0


def _vector(b, table, index):
    """Position of the first element and length of the vector in field `index` of a table."""
    ref = _field(b, table, index)
    vec = ref + _u32(b, ref)
    return vec + 4, _u32(b, vec)


def _table(b, vec, i):
    return vec + 4 * i + _u32(b, vec + 4 * i)


def _constant_buffer(data, dtype_code):
    """Index of the model buffer holding the first constant tensor of TFLite type `dtype_code`."""
    b = bytes(data)
    buffers, _ = _vector(b, _u32(b, 0), 4)                     # Model.buffers
    subgraphs, _ = _vector(b, _u32(b, 0), 2)                  # Model.subgraphs
    tensors, n = _vector(b, _table(b, subgraphs, 0), 0)       # SubGraph.tensors
    for i in range(n):
        t = _table(b, tensors, i)
        type_pos, buffer_pos = _field(b, t, 1), _field(b, t, 2)   # Tensor.type, Tensor.buffer
        dtype = b[type_pos] if type_pos else 0                  # FLOAT32 (0), the default, may be absent
        index = _u32(b, buffer_pos) if buffer_pos else 0
        if dtype == dtype_code and index and _field(b, _table(b, buffers, index), 0):     # Buffer.data
            return index
    raise AssertionError(f"no constant tensor of type {dtype_code}")


def _misalign_buffer(data, index):
    """The model with the data of buffer `index` moved to 2 mod 4 in the file (a copy appended at the end,
    the Buffer table's offset pointing to it): a valid FlatBuffer whose tensor data is 2-byte but not
    4-byte aligned, as a corrupt or hand-made file could have."""
    b = bytearray(data)
    buffers, _ = _vector(b, _u32(b, 0), 4)                     # Model.buffers
    data_ref = _field(b, _table(b, buffers, index), 0)        # Buffer.data
    vec = data_ref + _u32(b, data_ref)
    length = _u32(b, vec)
    b += bytes((2 - len(b)) % 4)                               # the vector's length word at 2 mod 4
    struct.pack_into("<I", b, data_ref, len(b) - data_ref)
    b += b[vec:vec + 4 + length]
    return bytes(b)


def _float_dense():
    from opcheck import cached_model, float_keras_model
    import tensorflow as tf
    return cached_model("nofloat dense 3x2", lambda: float_keras_model(lambda x: tf.keras.layers.Dense(2)(x),
                                                                       [(3,)]))


@pytest.mark.parametrize("case", ["float32 weights", "int32 bias"])
def test_misaligned_constant_tensor_is_refused_not_a_fault(case, tmp_path):
    """A constant tensor whose data sits at 2 mod 4 in the model buffer (float32 FULLY_CONNECTED weights,
    an int32 bias of ad01_int8): the armv6m engine on the trapping M3 refuses the model with the
    engine's "misaligned" message. Kernels load such data as words: on a Pico (and with the M4's VLDR) the
    float weights were a HardFault; the trap found it."""
    path = _float_dense() if case == "float32 weights" else _model("ad01_int8")
    data = path.read_bytes()
    index = _constant_buffer(data, 0 if case == "float32 weights" else 2)     # TFLite FLOAT32 / INT32
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(_misalign_buffer(data, index))
    info = read_model(path)
    module = build_module("armv6m", info.op_names, float_kernels=info.computes_in_float)
    with pytest.raises(TargetError, match=r"ValueError: corrupt model: data of tensor \d+ is misaligned"):
        _m3().run("import tinyml\nm = tinyml.Model(open('model.tflite', 'rb').read())\n"
                  "m.invoke()\nprint('invoked')\n",
                  {"tinyml.mpy": module.read_bytes(), "model.tflite": bad.read_bytes()})
