"""Builds of the engine's libFuzzer harness (native_modules/hostlib/fuzz_model.c), shared by the short
in-test run (tests/test_fuzz.py) and the long campaign (tools/fuzz.py, `make fuzz`):

- `build_fuzzer(out_dir)`: libFuzzer + AddressSanitizer + UBSan, for finding bugs;
- `build_fuzzer(out_dir, coverage=True)`: libFuzzer driver + clang source coverage
  (-fprofile-instr-generate -fcoverage-mapping), for replaying a corpus and measuring line/branch coverage;
- `write_dictionary(path)`: a libFuzzer dictionary of flatbuffer / TFLite tokens."""

import os
import shutil
import struct
import subprocess
from pathlib import Path

from .ops import KERNELS, kernel_sources, ops_header
from .paths import CACHE, NATIVE

# TINYML_FUZZ_ENGINE: fuzz a copy of the engine instead (e.g. one with a bug planted on purpose, to check that
# the fuzz test fails, without touching the tree others build from).
ENGINE = Path(os.environ.get("TINYML_FUZZ_ENGINE", NATIVE / "engine"))
HARNESS = NATIVE / "hostlib" / "fuzz_model.c"
CORPUS_CACHE = CACHE / "fuzz-corpus"


class FuzzBuildError(RuntimeError):
    pass


def llvm_tool(name: str) -> str:
    """clang-22, llvm-profdata-22, llvm-cov-22 (package llvm-22 / clang-22), or the unversioned name."""
    path = shutil.which(f"{name}-22") or shutil.which(name)
    if not path:
        raise FuzzBuildError(f"{name}-22 is needed for fuzzing: apt-get install clang-22 llvm-22")
    return path


def engine_sources():
    """Every engine C file the harness links: the core files and every kernel."""
    return sorted(ENGINE.glob("tm_*.c")) + [ENGINE / "kernels" / k for k in kernel_sources(KERNELS)]


def build_fuzzer(out_dir, coverage=False, name=None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tm_ops.h").write_text(ops_header())
    exe = out_dir / (name or ("fuzz_model_cov" if coverage else "fuzz_model"))
    if coverage:
        # No sanitizers: only the replay of a corpus, counting which lines and branches run.
        flags = ["-O0", "-fsanitize=fuzzer", "-fprofile-instr-generate", "-fcoverage-mapping"]
    else:
        flags = ["-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=undefined"]
    # A WHILE runs until its cond says stop, as in TFLM; a mutated model that loops forever must not stall the
    # fuzzer, so this build fails such an invoke instead (kernels/while.c).
    flags.append("-DTM_WHILE_MAX_ITERATIONS=256")
    cmd = [llvm_tool("clang"), "-std=c99", "-g", "-fwrapv", *flags, f"-I{out_dir}", f"-I{ENGINE}",
           "-o", str(exe), str(HARNESS), *map(str, engine_sources())]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FuzzBuildError(proc.stderr[-3000:])
    return exe


def write_dictionary(path) -> Path:
    """Tokens a byte-level mutator would rarely invent: the file identifier, the schema version, the builtin
    codes of the engine's ops and of common unsupported ones, tensor types, and boundary int32 values, each
    as the little-endian int32 a flatbuffer stores."""
    def hexs(data):
        return "".join("\\x%02x" % b for b in data)

    def i32(v):
        return hexs(struct.pack("<i", v))

    def u8(v):
        return f"\\x{v:02x}"

    lines = ['id="TFL3"', f'version="{i32(3)}"', 'meta="min_runtime_version"', 'meta2="CONVERSION_METADATA"']
    codes = sorted({code for code, _, _ in KERNELS.values()} | {32, 2, 119, 44})  # + CUSTOM, CONCAT, WHILE, UNIDIR_LSTM
    for code in codes:
        lines.append(f'op_{code}="{i32(code)}"')
        lines.append(f'op8_{code}="{u8(code)}"')
    for t in range(0, 18):  # TensorType: FLOAT32=0, INT32=2, UINT8=3, INT64=4, INT16=7, INT8=9, ...
        lines.append(f't_{t}="{u8(t)}\\x00\\x00\\x00"')
    for v in (0, 1, 2, 4, 8, 16, 255, 256, 65535, 65536, 0x7FFFFFFF, -0x80000000, -1, -2, -128, 127):
        lines.append(f'v_{v & 0xFFFFFFFF:x}="{i32(v)}"')
    # A vtable of n fields: vtable size, table size (flatbuffer vtables are int16 pairs).
    for n in (1, 2, 4, 6, 8, 10, 14):
        lines.append(f'vt_{n}="{hexs(struct.pack("<HH", 4 + 2 * n, 4 + 4 * n))}"')
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def boundary_seeds(data: bytes):
    """Variants of one (small) model at the edges of every check: truncated at every length, and with each
    aligned 32-bit word (offsets, lengths, counts) incremented by 1, 2 and 6. Cheap to run (a few thousand
    inputs of a few KB), they reach the parser's bounds checks at once: with one of them removed, the first
    pass over these seeds already reads out of bounds, so the short in-test run fails without luck."""
    seeds = {}
    for n in range(8, len(data)):
        seeds[f"trunc-{n:06d}"] = data[:n]
    for pos in range(0, len(data) - 3, 4):
        v = struct.unpack_from("<I", data, pos)[0]
        for inc in (1, 2, 6):
            b = bytearray(data)
            struct.pack_into("<I", b, pos, (v + inc) & 0xFFFFFFFF)
            seeds[f"bump-{pos:06d}-{inc}"] = bytes(b)
    return seeds
