"""Building the engine: native .mpy modules per architecture (MicroPython's dynruntime.mk) and the host
shared library the fast op tests load with ctypes. Builds are cached by a hash of their inputs."""

import hashlib
import shutil
import os
import subprocess
from pathlib import Path

from . import TinymlError, progress
from .buildlock import build_lock
from .ops import KERNELS, engine_extras, kernel_sources, ops_header
from .paths import BUILD, NATIVE, REPO, VENV_BIN
from .toolchain import micropython_sources, patched_mpy_ld, require

# Architectures MicroPython's native modules support here, with the compiler prefix dynruntime.mk uses.
ARCHES = {
    "x64": {"cross": "", "tool": ("gcc", "gcc")},
    "armv6m": {"cross": "arm-none-eabi-", "tool": ("arm-none-eabi-gcc", "gcc-arm-none-eabi")},
    "armv7m": {"cross": "arm-none-eabi-", "tool": ("arm-none-eabi-gcc", "gcc-arm-none-eabi")},
    "armv7emsp": {"cross": "arm-none-eabi-", "tool": ("arm-none-eabi-gcc", "gcc-arm-none-eabi")},
    "xtensawin": {"cross": str(REPO / "tools" / "xtensa" / "xtensa-esp32-elf-"), "tool": ("llc-22", "llvm-22 clang-22")},
}


# The folder of optimised kernels per arch, as TFLM has (docs/architecture.md, "One folder per optimised arch"):
# where native_modules/engine/kernels/<folder>/<op>.c exists, the build compiles it instead of kernels/<op>.c,
# which it includes (the portable file keeps parsing, checks, prepare and the float32 path; the arch's file
# adds its fast int8 path through the portable file's hooks). Small builds keep the portable kernels.
ARCH_KERNEL_DIRS = {"armv7emsp": "cortex_m4", "xtensawin": "xtensa"}
# Archs whose chips differ in the options their folder's kernels use: the folder only on request. xtensawin's
# kernels use MAC16 and zero-overhead loops, which the ESP32 and ESP32-S3 have and the ESP32-S2 has not.
OPT_IN_KERNEL_DIRS = {"xtensawin": "xtensa_mac16"}
# The chips whose MicroPython loads xtensawin modules, and the build each gets (docs/architecture.md, "Xtensa:
# one arch, three cores"): `cpu` is the Xtensa compiler driver's -mcpu (tools/xtensa/README.md), `mac16` whether
# kernels/xtensa/ (MAC16, zero-overhead loops) is compiled in. ESP-IDF saves MAC16's and the loops' registers
# in every interrupt frame, so the ESP32 and ESP32-S3 get the MAC16 kernels; they share one build (the S3's core
# has every option the ESP32's code uses). The ESP32-S2 has neither MAC16, loops nor an FPU: portable kernels,
# soft float. The FPU builds refuse an ESP32-S2 at import (modtinyml.c); the S2's runs on all three.
XTENSA_CHIPS = {
    "esp32": {"cpu": "esp32", "mac16": True},
    "esp32s3": {"cpu": "esp32", "mac16": True},
    "esp32s2": {"cpu": "esp32s2", "mac16": False},
}


def kernel_sources_for(arch: str, ops=None, small: bool = False, xtensa_mac16: bool = False):
    """The kernel sources for `ops` (all when None) on `arch`, relative to engine/kernels/: each op's
    portable file, or its arch's optimised one where that exists (not when `small`; on xtensawin only with
    `xtensa_mac16`, for a chip with the MAC16 option)."""
    folder = None if small or (arch in OPT_IN_KERNEL_DIRS and not xtensa_mac16) else ARCH_KERNEL_DIRS.get(arch)
    kernels = NATIVE / "engine" / "kernels"
    return [f"{folder}/{f}" if folder and (kernels / folder / f).exists() else f
            for f in kernel_sources(_selected(ops))]


def _sources():
    """Everything a module build reads: the C sources and Makefiles, and the toolchain files of this repository
    (the Xtensa compiler driver, the mpy_ld.py patches) whose fixes change the code of every module."""
    tools = [p for d in ("xtensa", "patches") for p in (REPO / "tools" / d).glob("*")
             if p.is_file() and p.suffix != ".md"]       # their READMEs change no module
    return sorted(p for p in NATIVE.rglob("*") if p.suffix in (".c", ".h") or p.name == "Makefile") + sorted(tools)


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in _sources():
        h.update(str(p.relative_to(REPO)).encode())
        h.update(p.read_bytes())
    for part in parts:
        h.update(repr(part).encode())
    return h.hexdigest()[:12]


def _selected(ops):
    if ops is None:
        return sorted(KERNELS)
    missing = sorted(set(ops) - set(KERNELS))
    if missing:
        raise TinymlError(f"no kernel for {', '.join(missing)}")
    return sorted(set(ops))


def model_module(arch: str, info, name: str = "tinyml", small: bool = False, features=(),
                 xtensa_mac16: bool = False, chip: str | None = None) -> Path:
    """The module for one model (tinyml pack, invoke, bench): only its kernels, float32 paths only when
    the model computes in float32 (QUANTIZE's float input aside), int16 paths only when it has int16 activations
    (kernels that test tm_is_i16). small: code size over speed. features:
    feature pipelines to compile in (tinyml.features.FEATURES, e.g. ("audio",)). xtensa_mac16: xtensawin's
    MAC16 kernels (ESP32, ESP32-S3). chip: an XTENSA_CHIPS name, the build for that chip (xtensawin only)."""
    return build_module(arch, info.op_names, name=name, float_kernels=info.computes_in_float, small=small,
                        features=features, xtensa_mac16=xtensa_mac16, chip=chip,
                        int16_kernels=info.computes_in_int16)


def build_module(arch: str = "x64", ops=None, name: str = "tinyml", verbose: bool = False,
                 float_kernels: bool = True, small: bool = False, features=None, xtensa_mac16: bool = False,
                 plan_dump: bool = False, chip: str | None = None, int16_kernels: bool = True) -> Path:
    """The native module for `arch` with the kernels for `ops` (all when None), with or without the kernels'
    float32 paths (and int16 paths: `int16_kernels`); `small` builds for code size (-Os, the portable kernels
    only: no arch folder); `features`: the feature pipelines compiled in (all when None and ops is None: the
    full module; else none); `xtensa_mac16`: xtensawin with kernels/xtensa/ (MAC16: ESP32, ESP32-S3, not
    ESP32-S2); `plan_dump` adds tinyml.plan() for `tinyml report --arch` (never in a user's module); `chip`:
    xtensawin for one chip of XTENSA_CHIPS (its kernels and FPU use; None: the ESP32's FPU, MAC16 only with
    xtensa_mac16). Returns the
    .mpy path."""
    if arch not in ARCHES:
        raise TinymlError(f"unknown arch '{arch}': choose one of {', '.join(ARCHES)}")
    spec = ARCHES[arch]
    require(*spec["tool"])
    selected = _selected(ops)
    features = _features(ops, features)
    feature_key = ()
    if features:
        feature_key = (features, _features_key(features))
    cpu = None
    if chip is not None:
        cpu, xtensa_mac16 = _chip_build(arch, chip, xtensa_mac16)
    mac16 = arch == "xtensawin" and xtensa_mac16 and not small
    if mac16:
        feature_key += ("xtensa_mac16",)
    if cpu != "esp32" and cpu is not None:       # the ESP32's builds keep their key (and cache)
        feature_key += ("xtensa_cpu", cpu)
    if plan_dump:
        feature_key += ("plan_dump",)
    if not int16_kernels:
        feature_key += ("no_int16",)
    out_dir = BUILD / "natmod" / f"{name}-{arch}-{_digest(arch, selected, name, float_kernels, small, *feature_key)}"
    mpy = out_dir / f"{name}.mpy"
    done = out_dir / "link.log"          # written last, after a successful link
    if done.exists():
        return mpy
    with build_lock(f"natmod-{out_dir.name}"):
        if not done.exists():
            _make_module(arch, spec, selected, name, out_dir, float_kernels, small, features, verbose, mac16,
                         plan_dump, cpu, int16_kernels)
    return mpy


def _chip_build(arch, chip, xtensa_mac16):
    """(driver -mcpu, MAC16 kernels) for an XTENSA_CHIPS chip, or a TinymlError naming the problem."""
    if arch != "xtensawin":
        raise TinymlError(f"chip '{chip}' is an ESP32-family chip: it only applies to --arch xtensawin, not {arch}")
    if chip not in XTENSA_CHIPS:
        raise TinymlError(f"unknown ESP32 chip '{chip}': choose one of {', '.join(XTENSA_CHIPS)}")
    build = XTENSA_CHIPS[chip]
    if xtensa_mac16 and not build["mac16"]:
        raise TinymlError(f"the {chip} has no MAC16: its build cannot use kernels/xtensa/ (drop xtensa_mac16)")
    return build["cpu"], build["mac16"]


def _make_module(arch, spec, selected, name, out_dir, float_kernels, small, features, verbose, mac16=False,
                 plan_dump=False, cpu=None, int16_kernels=True):
    mpy = out_dir / f"{name}.mpy"
    mpy_dir = micropython_sources()
    out_dir.mkdir(parents=True, exist_ok=True)
    src_link = out_dir / "src"
    if not src_link.exists():
        src_link.symlink_to(NATIVE)
    (out_dir / "Makefile").write_text("include src/tinyml/Makefile\n")
    (out_dir / "tm_ops.h").write_text(ops_header(selected))
    if features:
        from .features import prepare_build
        prepare_build(out_dir, features)
    python = str(VENV_BIN / "python")
    cmd = ["make", f"-j{os.cpu_count() or 2}", f"ARCH={arch}", f"MOD={name}", f"MPY_DIR={mpy_dir}", f"PYTHON={python}",
           f"MPY_LD={python} {patched_mpy_ld()}",
           f"KERNELS={' '.join(kernel_sources_for(arch, selected, small, mac16))}",
           f"FLOAT_KERNELS={int(float_kernels)}", f"INT16_KERNELS={int(int16_kernels)}", f"SMALL={int(small)}",
           f"ENGINE_EXTRA={' '.join(engine_extras(selected, float_kernels) + (['tm_plan.c'] if plan_dump else []))}",
           f"FEATURES={' '.join(features)}", f"PLAN_DUMP={int(plan_dump)}"]
    if cpu is not None and cpu != "esp32":
        cmd.append(f"XTENSA_CPU={cpu}")
    launcher = compiler_launcher()
    if spec["cross"] or launcher:
        cmd.append(f"CROSS={launcher}{spec['cross']}")
    # Only real builds show progress (a cached module returned above): they take seconds to minutes.
    with progress.task(f"Building the {arch} module ({name}, {len(selected)} kernels)"):
        proc = subprocess.run(cmd, cwd=out_dir, capture_output=not verbose, text=True, env=compiler_env())
    log = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0 or not mpy.exists():
        raise TinymlError(f"building the {arch} module failed:\n{log[-3000:]}")
    (out_dir / "link.log").write_text(log)


def compiler_launcher() -> str:
    """"ccache " when ccache is installed (make setup installs it), else "". Module builds for different models
    differ only in their kernel list: with ccache the engine's other objects, and every kernel another build
    already compiled with the same flags, come from the cache (the cold `make test` builds about a hundred
    modules). Set TINYML_CCACHE=0 to compile everything."""
    if os.environ.get("TINYML_CCACHE", "1") == "0":
        return ""
    return "ccache " if shutil.which("ccache") else ""


def compiler_env() -> dict:
    """The environment for compiles through compiler_launcher(): ccache's store inside build/ (removed with it),
    compilers identified by their content (the Xtensa driver is a script of this repository), and objects
    shared between build folders (their paths are not part of what is compiled)."""
    return {**os.environ, "CCACHE_DIR": str(BUILD / "ccache"), "CCACHE_COMPILERCHECK": "content",
            "CCACHE_NOHASHDIR": "1", "CCACHE_MAXSIZE": "2G"}


def _features(ops, features):
    from .features import FEATURES
    chosen = tuple(sorted(set(FEATURES if ops is None else ()) if features is None else set(features)))
    unknown = sorted(set(chosen) - set(FEATURES))
    if unknown:
        raise TinymlError(f"no feature pipeline '{', '.join(unknown)}': choose from {', '.join(FEATURES)}")
    return chosen


def _features_key(features):
    from .features import prepare_build_key
    return prepare_build_key(features)


# Native arch in a .mpy header (byte 2 >> 2): MicroPython's MP_NATIVE_ARCH_* numbering.
MPY_ARCH_CODES = {"x64": 2, "armv6m": 4, "armv7m": 5, "armv7emsp": 7, "xtensawin": 10}


def module_sizes(mpy_path) -> dict:
    """What a native .mpy (as mpy_ld.py writes it) loads on the device: {'arch', 'text', 'rodata', 'bss',
    'file'} in bytes. `text` is the machine code with its literal pools and GOT; `rodata` is separate only on
    archs that keep it apart (xtensawin); `bss` is zero-initialised RAM. When the build's objects sit next to
    the .mpy (build_module's output), 'const_in_text' tells how much of a merged text is constant data."""
    data = Path(mpy_path).read_bytes()
    pos = 4

    def uint():
        nonlocal pos
        v = 0
        while True:
            b = data[pos]
            pos += 1
            v = (v << 7) | (b & 0x7F)
            if not b & 0x80:
                return v

    if data[:2] != b"M\x06":
        raise TinymlError(f"{mpy_path} is not a MicroPython 1.23 .mpy file")
    codes = {v: k for k, v in MPY_ARCH_CODES.items()}
    n_qstr, n_obj = uint(), uint()
    if n_obj:
        raise TinymlError(f"{mpy_path}: not a native module as mpy_ld.py writes them")
    for _ in range(n_qstr):
        v = uint()
        if not v & 1:
            pos += (v >> 1) + 1
    text = uint() >> 3
    pos += text
    flags = uint()
    rodata = uint() if flags & 0x20 else 0
    bss = uint() if flags & 0x40 else 0
    sizes = {"arch": codes.get(data[2] >> 2, f"arch{data[2] >> 2}"), "text": text, "rodata": rodata, "bss": bss,
             "file": len(data)}
    objs = sorted((Path(mpy_path).parent / "obj").rglob("*.o"))
    if objs and not rodata:
        # mpy_ld.py merges constant data into the text on ARM and x64: measure it in the objects instead.
        from elftools.elf.elffile import ELFFile
        const = 0
        for obj in objs:
            with open(obj, "rb") as f:
                const += sum(sec.data_size for sec in ELFFile(f).iter_sections()
                             if sec.name.startswith((".rodata", ".data.rel.ro")))
        sizes["const_in_text"] = const
    return sizes


def module_chips(data: bytes):
    """The chips an xtensawin module (or a pack holding one) runs on, from the marker modtinyml.c puts in its
    constant data ("tinyml-chips: esp32 esp32s3;"), as a tuple; None when it carries none (another arch, or a
    build from before the marker)."""
    import re
    m = re.search(rb"tinyml-chips: ([a-z0-9 ]+);", data)
    return tuple(m.group(1).decode().split()) if m else None


def build_hostlib(ops=None, sanitize: bool = False) -> Path:
    """The engine as a host shared library (same C sources, plus tm_host.c), for ctypes-driven tests."""
    selected = _selected(ops)
    cc = os.environ.get("CC", "gcc" if not sanitize else (shutil.which("clang-22") or "clang"))
    out_dir = BUILD / "hostlib" / f"engine-{_digest(selected, cc, sanitize)}"
    lib = out_dir / "libtinyml_engine.so"
    if lib.exists():                     # linked to a temporary name, then renamed: it exists only when whole
        return lib
    with build_lock(f"hostlib-{out_dir.name}"):
        if not lib.exists():
            _compile_hostlib(selected, cc, sanitize, out_dir, lib)
    return lib


def _compile_hostlib(selected, cc, sanitize, out_dir, lib):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tm_ops.h").write_text(ops_header(selected))
    engine = NATIVE / "engine"
    srcs = sorted(engine.glob("tm_*.c")) + [engine / "kernels" / k for k in kernel_sources(selected)]
    srcs.append(NATIVE / "hostlib" / "tm_host.c")
    # Relative -I. (run in out_dir) keeps each object's command line the same in every build folder, so
    # compiler_launcher()'s cache serves the objects another kernel set already compiled.
    flags = ["-std=c99", "-O2", "-g", "-fPIC", "-Wall", "-Werror", "-ffp-contract=off", "-fwrapv",
             "-I.", f"-I{engine}"]
    if sanitize:
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    compiler = [*compiler_launcher().split(), cc]
    objs = [out_dir / f"{i:02d}-{src.stem}.o" for i, src in enumerate(srcs)]

    def compile_one(pair):
        src, obj = pair
        return subprocess.run([*compiler, *flags, "-c", "-o", obj.name, str(src)], cwd=out_dir,
                              capture_output=True, text=True, env=compiler_env())

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(compile_one, zip(srcs, objs)))
    failed = [r for r in results if r.returncode != 0]
    if failed:
        raise TinymlError(f"building the host engine library failed:\n{failed[0].stderr[-3000:]}")
    tmp = lib.with_name(lib.name + ".tmp")
    proc = subprocess.run([cc, "-shared", *flags[:4], *(["-fsanitize=address,undefined"] if sanitize else []),
                           "-o", str(tmp), *map(str, objs)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinymlError(f"linking the host engine library failed:\n{proc.stderr[-3000:]}")
    tmp.replace(lib)


def module_text_bytes(mpy_path) -> int:
    """Bytes of native code (text incl. rodata) in a native .mpy, as mpy_ld.py reported when linking."""
    log = Path(mpy_path).parent / "link.log"
    if log.exists():
        import re
        m = re.search(r"text size:\s+(\d+)", log.read_text())
        if m:
            return int(m.group(1))
    return Path(mpy_path).stat().st_size
