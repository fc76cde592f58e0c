"""`tinyml mip-dist DIR`: a folder to serve (any static web host, or a repository) from which `mpremote mip
install` puts tinyml on a board:

    DIR/package.json                the device runtime (tinyml_device) as bytecode .mpy: any arch, MicroPython 1.22+
    DIR/tinyml_device/...           its files
    DIR/<arch>_6.3/tinyml.mpy       the engine, one native build per arch (.mpy ABI 6.3)

mip and mpremote never pick a native .mpy by arch (they look only at the bytecode version, `_mpy & 0xFF`:
mpremote/mip.py), so the engine's URL is computed from what the board reports: engine_location() does it for
`tinyml deploy --dist`, and `tinyml mip-dist DIR --port P` prints it.
"""

import json
import shutil
from pathlib import Path

from . import TinymlError
from .board_compat import MPY_SUB_VERSION, MPY_VERSION, BoardReport, choose_arch, decode_mpy

DIST_ARCHES = ("armv6m", "armv7m", "armv7emsp", "xtensawin")    # the boards' archs (x64 is the unix port)
ENGINE = "tinyml.mpy"


def arch_dir(arch: str) -> str:
    return f"{arch}_{MPY_VERSION}.{MPY_SUB_VERSION}"


def make_dist(out, archs=DIST_ARCHES, model=None, small=False, source=False, echo=print) -> dict:
    """Write the folder; returns {relative path: bytes}. `model`: engines with only that model's kernels
    (smaller); `source`: ship the runtime as .py instead of .mpy."""
    from .build import ARCHES, build_module, model_module
    from .device_package import compile_mpy, package_files
    out = Path(out)
    bad = [a for a in archs if a not in ARCHES]
    if bad:
        raise TinymlError(f"unknown arch {', '.join(bad)}: choose from {', '.join(ARCHES)}")
    info = None
    if model:
        from .model_info import read_model
        info = read_model(model)
    written = {}

    def put(rel, data):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
        written[rel] = len(data)

    urls = []
    for host, rel in package_files():
        if not source:
            rel = rel[:-3] + ".mpy"
        put(rel, host.read_bytes() if source else compile_mpy(host))
        urls.append([rel, rel])          # installed under the board's lib dir at the same relative path
    from .device_package import package_json
    pkg = {"urls": urls, "version": package_json()["version"]}
    # One [dest, source] pair per line, as micropython-lib's package.json files read.
    text = ('{\n "urls": [\n' + ",\n".join(f"  {json.dumps(u)}" for u in urls) +
            f'\n ],\n "version": {json.dumps(pkg["version"])}\n}}\n')
    assert json.loads(text) == pkg
    put("package.json", text.encode())
    echo(f"device runtime: {len(urls)} files, {sum(written[u] for u, _ in urls)} bytes -> {out / 'package.json'}")
    for arch in archs:
        engine = (model_module(arch, info, name="tinyml", small=small) if info is not None
                  else build_module(arch, small=small))
        put(f"{arch_dir(arch)}/{ENGINE}", engine.read_bytes())
        echo(f"engine for {arch}: {out / arch_dir(arch) / ENGINE} ({written[f'{arch_dir(arch)}/{ENGINE}']} bytes)")
    return written


def engine_location(base: str, report: BoardReport, board: dict | None = None):
    """(URL or file path, arch) of the engine build in a dist for this board: the arch choose_arch picks (the
    board's own, or its description's, e.g. armv7m on a Pico 2), in the folder of the board's .mpy ABI."""
    version, sub, _ = decode_mpy(report.mpy)
    arch, _ = choose_arch(report, board)
    rel = f"{arch}_{version}.{sub}/{ENGINE}"
    if base.startswith(("http://", "https://", "github:", "gitlab:", "codeberg:")):
        return base.rstrip("/") + "/" + rel, arch
    path = Path(base) / rel
    if not path.is_file():
        have = sorted(p.parent.name for p in Path(base).glob(f"*/{ENGINE}"))
        raise TinymlError(f"{path} not found: this dist has {', '.join(have) or 'no engine'}; make it with "
                          f"`tinyml mip-dist {base} --arch {arch}`")
    return str(path), arch


def clean(out):
    """Remove a previous dist's generated parts (only those), so a smaller rebuild leaves nothing stale."""
    out = Path(out)
    for p in [out / "package.json", out / "tinyml_device", *out.glob(f"*_{MPY_VERSION}.*")]:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def http_url(url: str) -> str:
    """The https URL mpremote fetches for a github:/gitlab:/codeberg: location (its mip.py's _rewrite_url, the
    only place that mapping lives), or the http(s) URL itself."""
    if url.startswith(("http://", "https://")):
        return url
    from mpremote.mip import _rewrite_url
    return _rewrite_url(url)
