"""The engine's xtensawin (ESP32) build executed on an emulated Xtensa core, bit-exact against TFLM.

Every engine source (native_modules/engine/tm_*.c, all kernels/*.c, with a generated tm_ops.h listing every
kernel) and native_modules/runtime/xtensawin.c is compiled exactly as the native module's Makefile does for
ARCH=xtensawin: tools/xtensa/xtensa-esp32-elf-gcc (clang-22 -> llc-22 -mcpu=esp32 -> llvm-mc-22) with
-Os -ffp-contract=off -fno-math-errno -fwrapv. A bare-metal harness (tests/xtensa_engine/: start.S, harness.c)
is compiled with the same driver; the objects are linked by a small static linker below (there is no Xtensa
ELF linker in Debian's LLVM) and run on `qemu-system-xtensa -M sim -cpu de233_fpu -semihosting`: windowed
ABI, single-precision FPU and DIV32 like the ESP32's LX6. The harness gets the model and input sets from QEMU's
loader device, runs tm_model_measure/load/prepare/invoke and prints the outputs in hex through semihosting.

What is covered: the same C, the same compiler pipeline and flags, the same ESP32 instruction selection
(windowed calls, FPU, QUOS/QUOU, MUL16/MULL, MIN/MAX, SEXT, ...), literal pools and jump tables, executed
instruction by instruction. What is not: QEMU's de233_fpu lacks the ESP32's MUL32HIGH option, so MULSH/MULUH
(the high word of 32x32->64 multiplies, e.g. in the requantization's rounding doubling high multiply) trap as
illegal instructions and start.S emulates them in software (exact, four MUL16U partial products); the count
is reported and must be non-zero. The reference models exercise FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D,
AVERAGE_POOL_2D, ADD, SOFTMAX and RESHAPE. Single-op models (tests/xtensa_op_models.py) run the kernels that
move bytes, whose copies are memcpy calls or inline TM_COPY_SMALL moves on xtensawin (clang -ffreestanding):
STRIDED_SLICE (one contiguous block; element by element), TRANSPOSE int8, GATHER int8 (one-byte slices; 6-byte
slices), PAD int8 and float32, PADV2 float32, CONCATENATION int8. A small stateful streaming model (VAR_HANDLE,
READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE, CONCATENATION, STRIDED_SLICE, CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, LOGISTIC, QUANTIZE, RESHAPE) is invoked 12 times by one model instance in one QEMU run, its
rings exposed as outputs, against one TFLM interpreter over the same sequence. The other kernels are compiled
and linked but not executed here.
Not covered either: the MicroPython glue (modtinyml.c, natmod_libc.c; the harness has its own memcpy/memset),
mpy_ld.py's relocation of the module (tests/test_xtensa_build.py covers linking), timing, IRAM/DRAM placement
and ESP32-specific unaligned-access behaviour; de233_fpu is an LX7 core, not the ESP32's LX6, and this is not
a real board.

Nothing is skipped: a missing QEMU or compiler fails with the apt-get command.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tinyml import oracle, runner  # noqa: E402
from tinyml.model_info import read_model  # noqa: E402
from tinyml.ops import ops_header  # noqa: E402
from xtensa_link import link_image  # noqa: E402
import xtensa_op_models as xom  # noqa: E402
from conftest import MODELS  # noqa: E402

HARNESS = REPO / "tests" / "xtensa_engine"
ENGINE = REPO / "native_modules" / "engine"
RUNTIME = REPO / "native_modules" / "runtime"
DRIVER = REPO / "tools" / "xtensa" / "xtensa-esp32-elf-gcc"
LIBC_INCLUDE = "/usr/lib/arm-none-eabi/include"
INSTALL_CC = "apt-get install clang-22 llvm-22 gcc-arm-none-eabi"
INSTALL_QEMU = "apt-get install qemu-system-misc"

# The native module's flags for ARCH=xtensawin, in the same order (py/dynruntime.mk, then the Makefile's).
ENGINE_FLAGS = ["-std=c99", "-Os", "-Wall", "-Werror", "-DNDEBUG", "-fno-common",  # dynruntime.mk
                "-Os", "-ffp-contract=off", "-fno-math-errno", "-fwrapv"]  # tinyml/Makefile CFLAGS_EXTRA

BASE = 0x100000       # image: literal pools just below, then start.S (VECBASE, 4 KiB aligned), code, data
STACK_TOP = 0x400000  # start.S; the stack grows down from here
JOB_ADDR = 0x400000   # harness.c
JOB_MAGIC = 0x4A4D5458
RAM_MB = 128          # -m for the sim machine; the harness gets what is above the job as free memory

# (model, number of random input sets): all run in one QEMU process per model.
CASES = [("hello_world", 8), ("ad01_int8", 5), ("micro_speech", 5), ("kws_ref_model", 4),
         ("str_ww_ref_model", 4), ("pretrainedResnet_quant", 2), ("vww_96_int8", 2), ("person_detection", 2)]


def _run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    assert p.returncode == 0, "%s failed:\n%s" % (" ".join(map(str, cmd)), p.stdout[-3000:])
    return p.stdout


# ---------------------------------------------------------------------------------------------------------
# Build and run


@pytest.fixture(scope="module")
def tools():
    missing = [t for t in ("clang-22", "llc-22", "llvm-mc-22") if shutil.which(t) is None]
    if not os.path.isdir(LIBC_INCLUDE):
        missing.append(LIBC_INCLUDE)
    if missing:
        pytest.fail("xtensawin toolchain incomplete, missing %s; install with: %s" % (missing, INSTALL_CC))
    qemu = shutil.which("qemu-system-xtensa")
    if qemu is None:
        pytest.fail("qemu-system-xtensa not found; install with: %s" % INSTALL_QEMU)
    return qemu


def _compile(src, out, flags):
    return subprocess.Popen([str(DRIVER), *flags, "-c", str(src), "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def image(tools, tmp_path_factory):
    """The linked image: start.S first, harness, then every engine source and the xtensawin runtime."""
    d = tmp_path_factory.mktemp("xtensa_engine")
    (d / "tm_ops.h").write_text(ops_header())
    engine_srcs = sorted(ENGINE.glob("tm_*.c")) + sorted((ENGINE / "kernels").glob("*.c")) + [RUNTIME / "xtensawin.c"]
    jobs = [(HARNESS / "start.S", ["-Wall", "-Werror"]),
            (HARNESS / "harness.c", ENGINE_FLAGS + ["-I%s" % ENGINE])]
    jobs += [(src, ENGINE_FLAGS + ["-I%s" % d, "-I%s" % ENGINE]) for src in engine_srcs]
    objs, procs = [], []
    for i, (src, flags) in enumerate(jobs):
        out = d / ("%03d_%s.o" % (i, src.stem))
        objs.append(str(out))
        procs.append((src, _compile(src, out, flags)))
    for src, p in procs:
        log = p.communicate()[0]
        assert p.returncode == 0, "compiling %s failed:\n%s" % (src, log[-3000:])
    start, data, symbols = link_image(objs, BASE)
    assert symbols["_vectors"] == BASE
    assert start + len(data) <= STACK_TOP - 0x100000, "image overlaps the harness's 1 MiB stack"
    path = d / "image.bin"
    path.write_bytes(data)
    return {"qemu": tools, "path": path, "start": start, "entry": symbols["_start"], "dir": d,
            "objs": objs}


def _job(model_bytes, input_sets):
    """The job block harness.c reads at JOB_ADDR."""
    header = 32
    model_off = header
    sets_off = (model_off + len(model_bytes) + 15) & ~15
    set_bytes = len(input_sets[0])
    mem_off = (sets_off + set_bytes * len(input_sets) + 15) & ~15
    mem_len = RAM_MB * 1024 * 1024 - JOB_ADDR - mem_off
    words = [JOB_MAGIC, model_off, len(model_bytes), len(input_sets), set_bytes, sets_off, mem_off, mem_len]
    blob = bytearray(mem_off)
    blob[:header] = np.array(words, dtype="<u4").tobytes()
    blob[model_off: model_off + len(model_bytes)] = model_bytes
    for k, s in enumerate(input_sets):
        blob[sets_off + k * set_bytes: sets_off + (k + 1) * set_bytes] = s
    return bytes(blob)


def _qemu(image, job_path, timeout):
    """Run the image with the job at JOB_ADDR: (exit code, console output)."""
    cmd = [image["qemu"], "-M", "sim", "-cpu", "de233_fpu", "-m", "%dM" % RAM_MB, "-nographic",
           "-monitor", "none", "-semihosting",
           "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (image["path"], image["start"]),
           "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (job_path, JOB_ADDR),
           "-device", "loader,addr=0x%x,cpu-num=0" % image["entry"]]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("%s: the harness did not exit within %d s" % (job_path.name, timeout))
    return p.returncode, p.stdout.decode("latin-1")


def run_on_qemu(image, model_path, inputs_list, timeout=120):
    """Outputs per input set (lists of arrays) and the harness's log, from one QEMU run."""
    info = read_model(model_path)
    sets = [b"".join(np.ascontiguousarray(x, dtype=t.dtype).tobytes() for x, t in zip(inputs, info.inputs))
            for inputs in inputs_list]
    job = image["dir"] / ("%s.job" % Path(model_path).stem)
    job.write_bytes(_job(Path(model_path).read_bytes(), sets))
    code, log = _qemu(image, job, timeout)
    assert code == 0, "%s: exit code %#x\n%s" % (model_path.name, code, log[-3000:])
    lines = re.findall(r"^OUT ([0-9a-f]*)\r?$", log, re.M)
    assert len(lines) == len(sets), log[-3000:]
    results = []
    for hexed in lines:
        raw, pos, outs = bytes.fromhex(hexed), 0, []
        for t in info.outputs:
            n = int(np.prod(t.shape)) * np.dtype(t.dtype).itemsize
            outs.append(np.frombuffer(raw[pos: pos + n], dtype=t.dtype).reshape(t.shape))
            pos += n
        assert pos == len(raw)
        results.append(outs)
    return results, log


def assert_outputs_equal(got, want, what):
    """One invoke's outputs equal TFLM's byte for byte (float32 compared as bits)."""
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape
        g_bytes = np.ascontiguousarray(g).view(np.uint8).reshape(g.size, -1)
        diff = np.flatnonzero((g_bytes != np.ascontiguousarray(w).view(np.uint8).reshape(w.size, -1)).any(axis=1))
        assert diff.size == 0, "%s output %d differs from TFLM at %d of %d values" % (what, i, diff.size, g.size)


@pytest.mark.parametrize("name,n_sets", CASES, ids=[c[0] for c in CASES])
def test_model_bit_exact_on_xtensa(image, name, n_sets):
    """All outputs of every input set equal the TFLM wheel's, byte for byte."""
    path = MODELS / ("%s.tflite" % name)
    info = read_model(path)
    inputs_list = [runner.random_inputs(info, seed=100 + k) for k in range(n_sets)]
    t0 = time.perf_counter()
    got, log = run_on_qemu(image, path, inputs_list)
    wall = time.perf_counter() - t0
    emulated = int(re.search(r"MUL32HIGH_EMULATED (\d+)", log).group(1))
    print("%s: %d input sets on qemu de233_fpu in %.2f s, %d MULSH/MULUH emulated"
          % (name, n_sets, wall, emulated))
    for k, (inputs, outs) in enumerate(zip(inputs_list, got)):
        assert_outputs_equal(outs, oracle.invoke(path, inputs), "%s set %d" % (name, k))
    # The ESP32 code's MULSH/MULUH really ran (emulated), not code built without MUL32HIGH.
    assert emulated > 0


ALL = slice(None)
# (case id, the model's one op, the model, number of random input sets): a tiny model per path of the kernels
# that move bytes, whose copies on xtensawin are memcpy calls (clang -ffreestanding) or inline TM_COPY_SMALL moves.
OP_CASES = [
    # the newest 4 of 6 rows, a ring buffer's update: one contiguous block, one memcpy
    ("strided_slice_one_block", "STRIDED_SLICE",
     lambda: xom.strided_slice((6, 1, 4), (ALL, slice(2, None), ALL, ALL), 1), 3),
    # every other element of two rows: element by element (TM_COPY_SMALL of 1 byte)
    ("strided_slice_every_other", "STRIDED_SLICE",
     lambda: xom.strided_slice((4, 6), (ALL, slice(1, 3), slice(None, None, 2)), 7), 3),
    # the last dim comes from input dim 1 (20 elements apart): element by element
    ("transpose_int8", "TRANSPOSE", lambda: xom.transpose((2, 3, 4, 5), (0, 2, 3, 1), 11), 3),
    # slices of one int8 (an inline TM_COPY_SMALL), then of 6 bytes (a memcpy call)
    ("gather_int8_scalars", "GATHER", lambda: xom.gather((3, 5), [4, 0, 2, 2, 1], -1, 12), 3),
    ("gather_int8_rows", "GATHER", lambda: xom.gather((4, 6), [3, 1, 3], 1, 13), 3),
    # int8: a memset fill (the zero point, -1 here), memcpy rows; float32: a fill doubled by memcpy, memcpy rows.
    # (harness.c fills the arena with 0xA5 first, so a zero fill that is not written differs from TFLM)
    ("pad_int8", "PAD", lambda: xom.pad((3, 4, 2), ((1, 2), (2, 0), (0, 1)), "int8", 14), 3),
    ("pad_float32", "PAD", lambda: xom.pad((3, 4, 2), ((1, 2), (2, 0), (0, 1)), "float", 15), 3),
    ("padv2_float32", "PADV2", lambda: xom.pad((3, 4, 2), ((1, 2), (2, 0), (0, 1)), "float", 15, -1.5), 3),
    ("concatenation_int8", "CONCATENATION", lambda: xom.concatenation([(3, 4), (3, 2), (3, 1)], -1, 16), 3),
]


@pytest.mark.parametrize("name,op,make,n_sets", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_op_bit_exact_on_xtensa(image, name, op, make, n_sets):
    """Single-op models of the kernels that move bytes: every output equals the TFLM wheel's."""
    path = make()
    info = read_model(path)
    assert info.op_names == [op], info.op_names
    inputs_list = [runner.random_inputs(info, seed=200 + k) for k in range(n_sets)]
    t0 = time.perf_counter()
    got, _ = run_on_qemu(image, path, inputs_list, timeout=60)
    print("%s: %d input sets on qemu de233_fpu in %.2f s" % (name, n_sets, time.perf_counter() - t0))
    for k, (inputs, outs) in enumerate(zip(inputs_list, got)):
        assert_outputs_equal(outs, oracle.invoke(path, inputs), "%s set %d" % (name, k))


STREAM_STEPS = 12


def test_streaming_state_bit_exact_on_xtensa(image):
    """A stateful streaming model (VAR_HANDLE, READ_VARIABLE, CONCATENATION, STRIDED_SLICE, ASSIGN_VARIABLE,
    CALL_ONCE, CONV_2D, DEPTHWISE_CONV_2D, ...) invoked STREAM_STEPS times by one model instance in one QEMU
    run: each step's outputs, rings included (probe outputs), equal one TFLM interpreter's over the same
    sequence, so the state carried across invokes is TFLM's too."""
    path = xom.streaming_probe(xom.streaming_model(), image["dir"] / "stream_probe.tflite")
    info = read_model(path)
    assert {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE", "CONCATENATION",
            "STRIDED_SLICE"} <= set(info.op_names)
    steps = [runner.random_inputs(info, seed=300 + k) for k in range(STREAM_STEPS)]
    t0 = time.perf_counter()
    got, _ = run_on_qemu(image, path, steps, timeout=60)
    print("streaming: %d steps on qemu de233_fpu in %.2f s" % (STREAM_STEPS, time.perf_counter() - t0))
    interp = oracle.interpreter(path)
    want = [oracle.invoke(path, inputs, interp) for inputs in steps]
    for k, (outs, w) in enumerate(zip(got, want)):
        assert_outputs_equal(outs, w, "streaming step %d" % k)
    # Not vacuous: the rings (outputs 1 and 2) move along the stream, and the last step's outputs depend on
    # the earlier steps (a fresh interpreter given only the last input differs).
    for j in (1, 2):
        assert len({w[j].tobytes() for w in want}) > STREAM_STEPS // 2, "ring %d hardly changes" % j
    fresh = oracle.invoke(path, steps[-1])
    assert any(f.tobytes() != w.tobytes() for f, w in zip(fresh, want[-1]))


def test_engine_code_uses_esp32_instructions(image):
    """The engine objects are -mcpu=esp32 code: they contain MULSH/MULUH (emulated by start.S), and
    QUOS/QUOU (DIV32) and FPU instructions, which de233_fpu executes natively."""
    objdump = shutil.which("llvm-objdump-22")
    if objdump is None:
        pytest.fail("llvm-objdump-22 not found; install with: %s" % INSTALL_CC)
    engine_objs = [o for o in image["objs"] if not re.search(r"/\d+_(start|harness)\.o$", o)]
    dis = _run([objdump, "-d", "--mcpu=esp32", "--no-show-raw-insn", "-j", ".text", *engine_objs])
    mnemonics = set(re.findall(r"^\s+[0-9a-f]+:\s+([a-z0-9.]+)", dis, re.M))
    assert {"mulsh", "muluh", "quos", "quou", "mull", "mul.s", "add.s", "float.s", "trunc.s"} <= mnemonics


def test_fatal_exception_is_reported_not_hung(image):
    """An exception start.S does not emulate (here an ILL instruction) prints cause and PC and exits with
    0x40 + EXCCAUSE (0 = IllegalInstruction); a job the harness rejects exits 2 with a message."""
    crash = image["dir"] / "crash.job"
    crash.write_bytes(np.array([0x43544D58], dtype="<u4").tobytes() + bytes(60))
    code, log = _qemu(image, crash, 30)
    assert code == 0x40 and re.search(r"XTEXC cause=00000000 epc=[0-9a-f]{8} vaddr=", log), (code, log)
    bad = image["dir"] / "bad.job"
    bad.write_bytes(bytes(64))
    code, log = _qemu(image, bad, 30)
    assert code == 2 and "ERR job: bad magic" in log, (code, log)
