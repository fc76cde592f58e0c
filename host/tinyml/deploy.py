"""`tinyml deploy`: put a model on a board over its serial port and prove it runs there.

One mpremote connection (its Python API, `SerialTransport`) does it all, in this order, so that nothing is
copied to a board that cannot run it:
1. soft reset, then ask the board for `sys.implementation` (`_mpy`, version, machine), `sys.path`, the free heap
   and, on an ESP32, the largest free block of executable memory (board_compat.BoardReport);
2. refuse a firmware that cannot run our native modules (board_compat.firmware_problem), pick the module's arch
   (board_compat.choose_arch);
3. build the pack (`tinyml pack`, reused from build/deploy/ when the model, arch and engine build are the
   same), measure its arena with the engine's planner, and refuse when heap or executable memory is short;
4. copy the pack, the tinyml_device files the app imports (as bytecode .mpy) and the app (as main.py, so the
   board runs it at boot) into the board's lib directory (the first `.../lib` on sys.path, as mip does; else
   the root);
5. import the module on the board and run one inference on zero-point inputs, printing its time and outputs.

A MODEL.mpy made by `tinyml pack` is deployed as is (its arch must load on the board; its model is read back
out of it for the arena). A JOB_DIR (a `tinyml train` output) gives model.tflite, and optionally report.json
("job" names the module, "board" the default --board) and app.py.
"""

import ast
import contextlib
import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import TinymlError
from .buildlock import serialized
from .board_compat import (BoardReport, choose_arch, firmware_problem, loadable, match_board, memory_problem,
                           mpy_file_arch)
from .pack import board_chip
from .paths import BUILD

DEPLOY_CACHE = BUILD / "deploy"
CHUNK_BYTES = 1024          # per write over the REPL: 4x mpremote's default, fewer round trips, small on the board

QUERY = """\
import sys, gc
_i = sys.implementation
gc.collect()
_r = {'mpy': getattr(_i, '_mpy', 0), 'version': tuple(_i.version[:3]), 'machine': getattr(_i, '_machine', ''),
      'platform': sys.platform, 'path': list(sys.path), 'free': gc.mem_free(), 'exec': None}
try:
    import esp32
    _r['exec'] = max([h[2] for h in esp32.idf_heap_info(esp32.HEAP_EXEC)] or [0])
except ImportError:
    pass
print('BOARD', repr(_r))
"""

# Runs after the copy, in a fresh interpreter. Inputs are filled with their zero point (the quantized zero), so
# the host can compute the same inference with TFLM.
SMOKE = """\
import sys, gc, time
{path_setup}gc.collect()
_t0 = time.ticks_us()
import {name}
_t1 = time.ticks_us()
_m = {name}.model
for _k in range(len(_m.inputs)):
    _v = _m.input(_k)
    _z = 0.0 if _m.inputs[_k]['dtype'] == 'float32' else _m.inputs[_k]['zero_point']
    for _j in range(len(_v)):
        _v[_j] = _z
_t2 = time.ticks_us()
_m.invoke()
_t3 = time.ticks_us()
gc.collect()
print('SMOKE', repr({{'import_us': time.ticks_diff(_t1, _t0), 'invoke_us': time.ticks_diff(_t3, _t2),
                     'arena': _m.arena_bytes, 'free': gc.mem_free(),
                     'outputs': [bytes(_m.output(_k)) for _k in range(len(_m.outputs))]}}))
"""


# The feature pipelines a job's device app computes its model inputs with (tinyml.AudioFrontend, MotionFeatures):
# deploying a job dir compiles them into the pack, as `tinyml pack --features` does.
JOB_FEATURES = {"kws": ("audio",), "anomaly": ("motion",)}


@dataclass
class Source:
    """What to deploy, resolved from the command line's MODEL.tflite|MODEL.mpy|JOB_DIR."""
    name: str                        # the Python module name on the board: `import NAME`
    tflite: Path | None = None       # the model, when given as .tflite
    mpy: Path | None = None          # a ready pack
    board_id: str | None = None      # from a job's report.json
    app: Path | None = None          # from a job dir's app.py
    job_json: Path | None = None     # a job dir's job.json: what its device app reads (classes, rates, cutoffs)
    features: tuple = ()             # feature pipelines the job's app needs in the pack (JOB_FEATURES)


@dataclass
class DeployResult:
    report: BoardReport
    arch: str
    module: str                      # path on the board
    copied: list = field(default_factory=list)     # board paths written
    invoke_us: int = 0
    import_us: int = 0
    arena_bytes: int = 0
    outputs: list = field(default_factory=list)    # bytes of each output tensor after the smoke inference


def module_name(text: str) -> str:
    """A Python identifier from a file or job name: gesture-v2 -> gesture_v2."""
    name = re.sub(r"\W", "_", text)
    return name if re.match(r"[A-Za-z_]", name) else "m_" + name


def resolve_source(source, name=None) -> Source:
    path = Path(source)
    if not path.exists():
        raise TinymlError(f"{source} not found: give a .tflite, a .mpy from `tinyml pack`, or a training job's "
                          f"output dir")
    if path.is_dir():
        model = path / "model.tflite"
        if not model.is_file():
            raise TinymlError(f"{path} has no model.tflite: give a `tinyml train --out DIR` folder or a .tflite")
        report = {}
        if (path / "report.json").is_file():
            try:
                report = json.loads((path / "report.json").read_text())
            except ValueError as exc:
                raise TinymlError(f"{path / 'report.json'} is not valid JSON ({exc}): fix or remove it") from None
        app = path / "app.py"
        job_json = path / "job.json"
        return Source(name=name or module_name(str(report.get("job") or path.name)), tflite=model,
                      board_id=report.get("board"), app=app if app.is_file() else None,
                      job_json=job_json if job_json.is_file() else None,
                      features=JOB_FEATURES.get(report.get("job"), ()))
    if path.suffix == ".tflite":
        return Source(name=name or module_name(path.stem), tflite=path)
    if path.suffix == ".mpy":
        if name and name != path.stem:
            raise TinymlError(f"{path} is imported as '{path.stem}' (a pack's name is fixed when it is made): "
                              f"drop --name, or `tinyml pack` it again as {name}.mpy")
        return Source(name=path.stem, mpy=path)
    raise TinymlError(f"{source}: expected a .tflite, a .mpy or a job dir")


def model_from_pack(data: bytes):
    """The .tflite inside a `tinyml pack` module (its wrapper's bytes constant), or None. In a .mpy a bytes
    constant is its length as a MicroPython varint followed by the bytes; a .tflite has 'TFL3' at offset 4."""
    from .model_info import read_model
    pos = data.find(b"TFL3")
    while pos >= 4:
        start = pos - 4
        length, shift, i = 0, 0, start - 1
        # The varint is big-endian 7-bit groups; every byte but the last has bit 7 set: read it backwards.
        if i >= 0 and not data[i] & 0x80:
            length = data[i]
            shift = 7
            i -= 1
            while i >= 0 and data[i] & 0x80 and shift < 35:
                length |= (data[i] & 0x7F) << shift
                shift += 7
                i -= 1
            candidate = data[start:start + length]
            if len(candidate) == length:
                with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
                    f.write(candidate)
                    f.flush()
                    try:
                        read_model(f.name)
                        return candidate
                    except Exception:       # not a model after all: keep looking
                        pass
        pos = data.find(b"TFL3", pos + 1)
    return None


# sys.implementation._machine is "<board name> with <MICROPY_HW_MCU_NAME>"; the esp32 port's boards spell the MCU
# "ESP32", "ESP32S2"/"ESP32-S2" or "ESP32S3"/"ESP32-S3" (mp:ports/esp32/boards/*/mpconfigboard.h). S2 and S3 first:
# "ESP32" is in all three.
MACHINE_CHIPS = (("ESP32S2", "esp32s2"), ("ESP32-S2", "esp32s2"), ("ESP32S3", "esp32s3"), ("ESP32-S3", "esp32s3"),
                 ("ESP32", "esp32"))


def chip_of_machine(machine: str):
    """The ESP32-family chip a board's sys.implementation._machine names (tinyml.build.XTENSA_CHIPS), or None."""
    return next((chip for word, chip in MACHINE_CHIPS if word in machine), None)


def pack_chip_problem(data: bytes, chip, where: str):
    """Why an xtensawin pack cannot run on `chip`, or None: the chips it was built for (tinyml.build.module_chips;
    a pack without the marker predates per-chip builds, all of which used the ESP32's FPU)."""
    from .build import module_chips
    chips = module_chips(data) or ("esp32", "esp32s3")
    if chip is None or chip in chips:
        return None
    return (f"{where} is built for {' and '.join(chips)}, but the board is an {chip}, whose core lacks instructions "
            f"it uses: deploy the .tflite (the board's build is made) or `tinyml pack MODEL --board {chip}`")


def dist_chip_problem(chip, port):
    """Why a mip dist's engine cannot run on `chip`, or None: a dist has one engine per arch, and xtensawin's is
    the ESP32's FPU build (tinyml mip-dist), which an ESP32-S2 refuses at import."""
    if chip != "esp32s2":
        return None
    return (f"--dist installs the xtensawin engine built for the ESP32's FPU, which the ESP32-S2 on {port} lacks: "
            f"deploy without --dist (its own build is made)")


@serialized
def build_pack(model_path: Path, arch: str, name: str, small: bool, features=(), chip=None):
    """(pack path, native module path): `tinyml pack`'s output, reused from build/deploy/ when the model, the
    arch and the engine build (whose path carries a digest of what it was built from) are the same. `features`:
    the feature pipelines compiled in (a job's app computes its inputs with them: kws audio, anomaly motion);
    `chip`: on xtensawin, the ESP32-family chip to build for (tinyml.build.XTENSA_CHIPS)."""
    from .build import model_module
    from .model_info import read_model
    from .pack import pack
    info = read_model(model_path)
    features = tuple(sorted(features))
    native = model_module(arch, info, name=name, small=small, features=features, chip=chip)
    key = hashlib.sha256(Path(model_path).read_bytes() + str(native).encode() +
                         str(native.stat().st_mtime_ns).encode()).hexdigest()[:16]
    out = DEPLOY_CACHE / f"{name}-{arch}-{key}" / f"{name}.mpy"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="tinyml-deploy-", dir=out.parent))
        try:
            pack(model_path, arch, tmp / f"{name}.mpy", small=small, features=features, chip=chip)
            (tmp / f"{name}.mpy").replace(out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out, native


class Board:
    """The board on a serial port through mpremote's own transport, in raw REPL, after a soft reset."""

    def __init__(self, port):
        self.port = port
        self.open()

    def open(self):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport
        port = self.port
        try:
            self.transport = SerialTransport(port, baudrate=115200)
            self.transport.enter_raw_repl(soft_reset=True)
        except (TransportError, OSError) as exc:
            raise TinymlError(f"no MicroPython REPL on {port} ({exc}): check the port and that the board "
                              f"runs MicroPython (`mpremote connect {port} repl`)") from None

    def close(self):
        with contextlib.suppress(Exception):
            self.transport.exit_raw_repl()
        with contextlib.suppress(Exception):
            self.transport.close()

    def run(self, code: str, what: str) -> str:
        from mpremote.transport import TransportError, TransportExecError
        try:
            return self.transport.exec(code).decode("utf-8", "replace")
        except TransportExecError as exc:
            lines = exc.error_output.strip().splitlines() or ["(no message)"]
            raise TinymlError(f"{what} failed on the board: {lines[-1]}") from None
        except TransportError as exc:
            raise TinymlError(f"{what}: the board on {self.port} stopped answering ({exc})") from None

    def tagged(self, code, tag, what):
        """The literal the code printed after `tag` (one line)."""
        out = self.run(code, what)
        m = re.search(rf"^{tag} (.*)$", out, re.M)
        if not m:
            raise TinymlError(f"{what}: unexpected answer from the board: {out.strip()[-200:]}")
        return ast.literal_eval(m.group(1).strip())

    def query(self) -> BoardReport:
        r = self.tagged(QUERY, "BOARD", "asking the board what it is")
        return BoardReport(mpy=r["mpy"], version=tuple(r["version"]), machine=r["machine"], platform=r["platform"],
                           mem_free=r["free"], exec_largest=r["exec"], path=r["path"])

    def write(self, dest: str, data: bytes):
        """Write a file, creating its directories (as mpremote's mip does)."""
        parts = dest.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and not self.transport.fs_exists(d):
                try:
                    self.transport.fs_mkdir(d)
                except Exception as exc:
                    raise TinymlError(f"cannot create :{d} on the board ({exc}): create it with "
                                      f"`mpremote mkdir :{d}`") from None
        self.transport.fs_writefile(dest, data, chunk_size=CHUNK_BYTES)


def lib_dir(report: BoardReport) -> str:
    """Where mip installs (the first `.../lib` on sys.path that is not /rom), so deploy and mip agree; the root
    (""), the current directory on every port, when the firmware has no lib on its path."""
    libs = [p for p in report.path if p.endswith("/lib") and not p.startswith("/rom")]
    return libs[0] if libs else ""


def describe(report: BoardReport) -> str:
    from .board_compat import decode_mpy
    version, sub, arch = decode_mpy(report.mpy)
    text = (f"MicroPython {report.version_text} on {report.machine or report.platform}: _mpy {report.mpy} = .mpy "
            f"{version}.{sub}, native arch {arch}; {report.mem_free} bytes of heap free")
    if report.exec_largest is not None:
        text += f", largest executable block {report.exec_largest} bytes"
    return text


def deploy(source, port=None, target=None, board_id=None, app=None, name=None, small=False, dist=None,
           echo=print):
    """Deploy to the board on `port`, or to an emulated board (`target` qemu-m4/m7/m3) started for the occasion.
    `dist` (a `tinyml mip-dist` folder or its URL): take the engine from there (a URL with `mpremote mip
    install`) and copy the model as NAME.tflite with a two-line NAME.py that loads it, instead of a pack.
    Returns a DeployResult; raises TinymlError naming the problem before anything is copied when it can."""
    src = resolve_source(source, name)
    app = Path(app) if app else src.app
    if app is not None and not app.is_file():
        raise TinymlError(f"--app {app}: no such file")
    if port and target:
        raise TinymlError("give --port (a board) or --target (an emulated board), not both")
    if port:
        return _deploy(src, port, board_id, app, small, dist, echo)
    if not target:
        raise TinymlError("give --port PORT (a board) or --target qemu-m4|qemu-m7|qemu-m3 (an emulated board)")
    from .targets.qemu import MACHINES, QemuTarget
    if target not in MACHINES:
        raise TinymlError(f"--target {target}: choose one of {', '.join(MACHINES)}, or give --port")
    with tempfile.TemporaryDirectory(prefix="tinyml-deploy-") as fs:
        prepare_emulated_fs(fs)
        with QemuTarget(target).serve_pty(fs) as pty:
            echo(f"emulated board {target} on {pty} (its filesystem is a temporary directory, gone afterwards)")
            return _deploy(src, pty, board_id or target, app, small, dist, echo)


def prepare_emulated_fs(fs):
    """The emulated boards' filesystem is a host directory reached by semihosting, which cannot create
    directories (ports/qemu_mps2/README.md): make the package's directories beforehand, as a board whose
    filesystem already has them."""
    from .device_package import PACKAGE
    for d in [PACKAGE, *[p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"]]:
        (Path(fs) / d.relative_to(PACKAGE.parent)).mkdir(parents=True, exist_ok=True)
        (Path(fs) / "lib" / d.relative_to(PACKAGE.parent)).mkdir(parents=True, exist_ok=True)


def _deploy(src: Source, port, board_id, app, small, dist, echo):
    from .boards import get_board, load_boards
    board = Board(port)
    try:
        report = board.query()
        echo(f"board: {describe(report)}")
        problem = firmware_problem(report)
        if problem:
            raise TinymlError(problem)
        boards = load_boards()
        if board_id:
            desc = get_board(board_id)
        elif src.board_id:          # the job's report.json: a hint, not an order
            desc = boards.get(src.board_id)
            if desc is None:
                echo(f"note: the job's board '{src.board_id}' has no boards/{src.board_id}.json: going by what the "
                     f"board reports")
        else:
            desc = match_board(report, boards)
        if desc and desc.get("arch") and not loadable(desc["arch"], report.arch):
            mismatch = (f"boards/{desc['id']}.json describes a {desc['arch']} board, but the board on {port} "
                        f"reports {report.arch}")
            if board_id:
                raise TinymlError(f"{mismatch}: drop --board or check --port")
            echo(f"note: {mismatch} (the job's report.json): going by what the board reports")
            desc = None
        if desc:
            echo(f"board description: boards/{desc['id']}.json ({desc['name']})")
        # The ESP32-family chip: what the board says it is, else its description's (an emulated board names none).
        chip = (chip_of_machine(report.machine) or board_chip(desc)) if report.arch == "xtensawin" else None
        if dist:
            problem = dist_chip_problem(chip, port)
            if problem:
                raise TinymlError(problem)
            return _deploy_from_dist(board, report, desc, src, dist, app, echo)
        if src.mpy:
            data = src.mpy.read_bytes()
            _, _, arch = mpy_file_arch(data)
            if arch is None or not loadable(arch, report.arch):
                raise TinymlError(f"{src.mpy} is built for {arch or 'no native arch'}, which a firmware reporting "
                                  f"{report.arch} cannot load: deploy the .tflite and the right arch is built")
            problem = pack_chip_problem(data, chip, str(src.mpy)) if arch == "xtensawin" else None
            if problem:
                raise TinymlError(problem)
            module_path, native, why = src.mpy, None, "the arch the .mpy was built for"
        else:
            arch, why = choose_arch(report, desc)
            chip = chip if arch == "xtensawin" else None
            echo(f"arch: {arch} ({why})" + (f", chip {chip}" if chip else "") + "; building the pack" +
                 (" (--small)" if small else ""))
            module_path, native = build_pack(src.tflite, arch, src.name, small, src.features, chip)
            data = module_path.read_bytes()
        _check_memory(src, report, arch, data, native, desc, echo, {f"{src.name}.mpy": data}, f"__import__({src.name!r}).model")

        prefix = lib_prefix(report)
        files = [(f"{prefix}{src.name}.mpy", data)] + app_files(app, desc, prefix)
        if src.job_json:        # the job's settings, where its app opens them (the working directory)
            files.append(("job.json", src.job_json.read_bytes()))
        copy_files(board, files, echo)
        return smoke(board, report, src.name, arch, [d for d, _ in files], app, port, echo)
    finally:
        board.close()


def lib_prefix(report):
    where = lib_dir(report)
    return f"{where}/" if where else ""


def app_files(app, desc, prefix):
    """(board path, bytes) of the runtime files the app imports, as .mpy in the lib dir, and the app as main.py."""
    if app is None:
        return []
    from .device_package import compile_mpy, files_for_script
    runtime = files_for_script(app, desc["id"] if desc and "port" in desc else None)
    return [(prefix + rel[:-3] + ".mpy", compile_mpy(host)) for host, rel in runtime] + \
        [("main.py", Path(app).read_bytes())]


def copy_files(board, files, echo):
    total = sum(len(d) for _, d in files)
    echo(f"copying {len(files)} file(s), {total} bytes, with mpremote (serial ports move a few KB/s)")
    for dest, blob in files:
        board.write(dest, blob)
        echo(f"  :{dest} ({len(blob)} bytes)")


def smoke(board, report, name, arch, copied, app, port, echo) -> DeployResult:
    """One inference in a fresh interpreter, as after a reset (main.py is not started: this is the raw REPL)."""
    board.transport.enter_raw_repl(soft_reset=True)
    where = lib_dir(report)
    path_setup = "" if not where or where in report.path else f"sys.path.append({where!r})\n"
    r = board.tagged(SMOKE.format(name=name, path_setup=path_setup), "SMOKE", "the smoke inference")
    unit = "us" + (" (virtual time: 64 ns per instruction)" if report.machine.startswith("QEMU") else "")
    echo(f"smoke inference: import {name} (module and Model()) {r['import_us']} us, invoke "
         f"{r['invoke_us']} {unit}; arena {r['arena']} bytes, {r['free']} bytes of heap still free")
    echo("  outputs: " + "; ".join(" ".join(str(b) for b in o[:16]) + (" ..." if len(o) > 16 else "")
                                  for o in r["outputs"]) + " (raw bytes, for zero-point inputs)")
    if app is not None:
        echo(f"installed {Path(app).name} as :main.py: it runs at the next reset (`mpremote connect {port} reset`)")
    return DeployResult(report=report, arch=arch, module=copied[0], copied=copied, invoke_us=r["invoke_us"],
                        import_us=r["import_us"], arena_bytes=r["arena"], outputs=r["outputs"])


LOADER = """\
# {name}: {model} with the tinyml engine from mip (written by `tinyml deploy --dist`): `import {name}; {name}.model`
import os
import tinyml

with open({path!r}, "rb") as _f:
    model = tinyml.Model(_f.read(os.stat({path!r})[6]))
"""


def _deploy_from_dist(board, report, desc, src, dist, app, echo):
    """The engine from a mip dist (a URL: the real `mpremote mip install`), the model as a file beside it."""
    import subprocess
    import urllib.request
    from .mip_dist import engine_location, http_url
    from .paths import venv_tool
    if src.tflite is None:
        raise TinymlError("--dist deploys a .tflite (the engine comes from the dist): give the .tflite, not a .mpy")
    where, arch = engine_location(str(dist), report, desc)
    echo(f"engine: {where} (arch {arch} for this board)")
    remote = where.startswith(("http://", "https://", "github:", "gitlab:", "codeberg:"))
    if remote:
        try:
            with urllib.request.urlopen(http_url(where)) as f:
                engine = f.read()
        except OSError as exc:
            raise TinymlError(f"cannot fetch {where} ({exc}): check the URL or make the dist with "
                              f"`tinyml mip-dist DIR --arch {arch}`") from None
    else:
        engine = Path(where).read_bytes()
    model = src.tflite.read_bytes()
    prefix = lib_prefix(report)
    loader = LOADER.format(name=src.name, model=src.tflite.name, path=f"{prefix}{src.name}.tflite").encode()
    data = engine + model + loader      # what the heap holds: engine, model bytes, the loader
    _check_memory(src, report, arch, data, None, desc, echo, {"tinyml.mpy": engine, "m.tflite": model},
                  "__import__('tinyml').Model(open('m.tflite', 'rb').read())", text=_engine_text(engine))
    files = [(f"{prefix}{src.name}.py", loader), (f"{prefix}{src.name}.tflite", model)] + app_files(app, desc, prefix)
    if src.job_json:
        files.append(("job.json", src.job_json.read_bytes()))
    copied = []
    if remote:
        board.close()       # mpremote needs the port to itself
        cmd = [venv_tool("mpremote"), "connect", board.port, "mip", "install", "--target", prefix.rstrip("/") or "/",
               where]
        echo("$ mpremote " + " ".join(cmd[1:]))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise TinymlError(f"mpremote mip install {where} did not finish within 600 s: is the board still "
                              f"answering on {board.port}?") from None
        if proc.returncode != 0:
            lines = (proc.stderr + proc.stdout).strip().splitlines() or ["(no output)"]
            raise TinymlError(f"mpremote mip install {where} failed: {lines[-1]}")
        board.open()
        copied.append(f"{prefix}{Path(where).name}")
    else:
        files.insert(0, (f"{prefix}tinyml.mpy", engine))
    copy_files(board, files, echo)
    return smoke(board, report, src.name, arch, copied + [d for d, _ in files], app, board.port, echo)


def _engine_text(engine: bytes):
    with tempfile.NamedTemporaryFile(suffix=".mpy") as f:
        f.write(engine)
        f.flush()
        from .build import module_sizes
        try:
            return module_sizes(f.name)["text"]
        except (TinymlError, IndexError):
            return len(engine)


def _check_memory(src, report, arch, data, native, desc, echo, files, load, text=None):
    """Refuse before copying when the heap (and an ESP32's executable memory) cannot hold the module and its
    arena. `files` ({name: bytes}) and `load` (an expression giving the Model) are what the board will import."""
    from .build import module_sizes
    arena, how = measure_arena(arch, files, load, src, data)
    in_iram = bool(desc and desc.get("native_code_in") == "iram") or report.exec_largest is not None
    # The code's size: from the native build when we made it; a ready .mpy's whole size bounds it.
    if text is None:
        text = module_sizes(native)["text"] if native is not None else len(data)
    problem = memory_problem(report, len(data), arena, text, in_iram)
    if problem:
        raise TinymlError(problem)
    echo(f"memory: module {len(data)} bytes (code {text}" + (", in IRAM" if in_iram else "") +
         f"), arena {arena} ({how}); {report.mem_free} bytes of heap free: fits")


def _arena_planned_on(target, where, files, load):
    """(arena bytes, how): the module `load` imports, loaded on the emulated `target`, prints its own plan."""
    from .targets import TargetError, get_target
    try:
        out = get_target(target).run(f"print('ARENA', {load}.arena_bytes)\n", files).stdout
        return int(out.split("ARENA")[1].split()[0]), f"planned by this module on {where}"
    except TargetError as exc:
        raise TinymlError(f"the module does not load on {where} ({exc}): check the model with "
                          f"`tinyml check`") from None


def measure_arena(arch, files, load, src, data):
    """(arena bytes, how it was measured): the engine's planner run by the very module being deployed, on the
    emulated Cortex-M4 for Arm archs (it loads armv6m, armv7m and armv7emsp code) and on the emulated Xtensa core
    for xtensawin (it runs every chip's build: the ESP32-S2's uses no instruction de233_fpu lacks); for other
    archs the same planner on the host, whose 64-bit descriptors make it a slight overestimate: the safe side."""
    from .board_compat import ARM_ARCHES
    if arch == "xtensawin":
        # The ESP32's MAC16 kernels plan scratch of their own (kws: about 9 KB more than the portable kernels),
        # which the host's planner knows nothing of.
        return _arena_planned_on("qemu-xtensa", "the emulated Xtensa core", files, load)
    if arch in ARM_ARCHES:
        return _arena_planned_on("qemu-m4", "the emulated Cortex-M4", files, load)
    from .hostlib import HostEngine
    from .model_info import read_model
    model = src.tflite.read_bytes() if src.tflite else model_from_pack(data)
    if model is None:
        raise TinymlError(f"{src.mpy}: no model found inside: deploy the .tflite instead")
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(model)
        f.flush()
        ops = read_model(f.name).op_names
    engine = HostEngine(model, ops=ops)
    try:
        return engine.arena_bytes, "planned by the engine on the host"
    finally:
        engine.close()
