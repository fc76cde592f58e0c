"""docs/troubleshooting.md documents every error message the host tools raise: for each `TinymlError(...)` (and
its subclasses TargetError, SimError) in host/tinyml, the message's constant leading words must appear in the
page, so a new error cannot ship without its entry.

The key of a message is its text before the first placeholder (`f"input file not found: {path}"` -> "input
file not found:"); when that is shorter than two words (`f"{path}: not a WAV file ..."`), the longest constant
piece instead. Messages with no constant text at all (a re-raised `str(exc)`) have no key: their text comes from
somewhere else that is documented (the engine's messages, a tool's output)."""

import ast
import re
from pathlib import Path

from conftest import REPO

ERRORS = ("TinymlError", "TargetError", "SimError")
PAGE = REPO / "docs" / "troubleshooting.md"


def _pieces(node):
    """The message as a list of constant strings, with None where a value is formatted in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value if isinstance(v, ast.Constant) else None for v in node.values]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        right = _pieces(node.right) if isinstance(node.op, ast.Add) else [None]
        return _pieces(node.left) + right
    return [None]


def _words(text):
    return " ".join(text.split())


def message_key(node):
    pieces = _pieces(node)
    lead = []
    for p in pieces:
        if p is None:
            break
        lead.append(p)
    key = _words("".join(lead))
    if len(key.split()) < 2:
        constants = [_words(p) for p in pieces if p]
        key = max(constants, key=len, default="")
        key = key.lstrip(":;,. )").strip()
    return key


def host_error_messages():
    """(file:line, key) for every error raised with a message in host/tinyml."""
    found = []
    for path in sorted((REPO / "host" / "tinyml").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args and \
                    getattr(node.func, "id", getattr(node.func, "attr", None)) in ERRORS:
                found.append((f"{path.relative_to(REPO)}:{node.lineno}", message_key(node.args[0])))
    return found


def test_every_host_error_message_is_in_troubleshooting():
    page = _words(PAGE.read_text())
    messages = host_error_messages()
    keyed = [(where, key) for where, key in messages if key]
    assert len(keyed) >= 150, f"only {len(keyed)} error messages found: is the walk broken?"
    missing = [f"{where}: {key!r}" for where, key in keyed if key not in page]
    assert not missing, (f"{len(missing)} error message(s) not in docs/troubleshooting.md; add each (its text, "
                         "placeholders in CAPS, and what to do):\n" + "\n".join(missing))


def test_message_keys():
    """The key rule on the three shapes of messages, and a message that is not in the page is caught."""
    key = lambda src: message_key(ast.parse(src, mode="eval").body)  # noqa: E731
    assert key('f"input file not found: {path}"') == "input file not found:"
    assert key('f"{path}: not a WAV file ({exc}); expected 16 kHz mono 16-bit"') == \
        "expected 16 kHz mono 16-bit"
    assert key('"could not prepare mpy_ld.py: " + proc.stderr.strip()') == "could not prepare mpy_ld.py:"
    assert key("str(exc)") == ""
    assert key('f"the flux capacitor {x} is empty"') not in _words(PAGE.read_text())
    assert re.search(r"^## ", PAGE.read_text(), re.M)
