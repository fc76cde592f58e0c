"""Run a MicroPython script on the unix port with the engine module and files next to it."""

from tinyml.build import build_module
from tinyml.targets import get_target


# The head of the device scripts that load files: tinyml imported, and read_file(name), a whole file in one read
# of its known size (a plain f.read() grows its buffer step by step in MicroPython's heap).
READ_FILE = """
import os, tinyml
def read_file(name):
    with open(name, 'rb') as f:
        return f.read(os.stat(name)[6])
"""


def run_mpy(script, files=None, fetch=(), ops=None):
    files = dict(files or {})
    files["tinyml.mpy"] = build_module("x64", ops).read_bytes()
    return get_target("unix").run(script, files, fetch)
