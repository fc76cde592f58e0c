"""Run a MicroPython script on the unix port with the engine module and files next to it."""

from tinyml.build import build_module
from tinyml.targets import get_target


def run_mpy(script, files=None, fetch=(), ops=None):
    files = dict(files or {})
    files["tinyml.mpy"] = build_module("x64", ops).read_bytes()
    return get_target("unix").run(script, files, fetch)
