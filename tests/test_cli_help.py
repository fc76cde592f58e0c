"""`tinyml --help` and every command's --help say what it does, with an example; docs/cli.md is what
tools/cli_reference.py generates from the same parser today."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO
from tinyml.cli import build_parser

sys.path.insert(0, str(REPO / "tools"))
import cli_reference  # noqa: E402


def _commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    return parser, sub.choices


def _examples(help_text):
    """The example lines of a --help text: the indented `tinyml ...` lines after "examples:"."""
    _, _, tail = help_text.partition("\nexamples:\n")
    return [line.strip() for line in tail.splitlines() if line.startswith("  tinyml ")]


def test_every_command_says_what_it_does_with_an_example():
    _, commands = _commands()
    assert len(commands) >= 15  # the walk really walks: demo, train, check, ... (a broken lookup finds none)
    for name, parser in commands.items():
        text = parser.format_help()
        assert parser.description and len(parser.description.split()) >= 3, f"`tinyml {name} --help` says nothing " \
            "about what the command does: give its add_parser a help= (or description=)"
        examples = _examples(text)
        assert examples, f"`tinyml {name} --help` has no example: add epilog=examples(\"tinyml {name} ...\") to its " \
            "add_parser in host/tinyml/cli.py"
        assert all(e.split()[1] == name for e in examples), f"`tinyml {name} --help`: an example of another command"


def test_help_as_the_user_runs_it():
    """The real entry point, as a subprocess: the top-level help lists the commands and has examples; a
    command's help wraps its description but keeps each example on one line."""
    run = lambda *a: subprocess.run([sys.executable, "-m", "tinyml.cli", *a], capture_output=True, text=True,  # noqa
                                    env={"PYTHONPATH": str(REPO / "host"), "PATH": "/usr/bin:/bin", "COLUMNS": "80"})
    top = run("--help")
    assert top.returncode == 0, top.stderr
    assert "tinyml check model.tflite --board esp32" in _examples(top.stdout)
    _, commands = _commands()
    assert all(f"\n    {name}" in top.stdout for name in commands)
    battery = run("battery", "--help")
    assert battery.returncode == 0, battery.stderr
    assert "tinyml battery --board pico --model runs/gesture --battery 2xAA --plot life.png" in _examples(battery.stdout)
    assert max(len(line) for line in battery.stdout.splitlines() if not line.startswith("  tinyml ")) <= 80


def test_docs_cli_md_is_current():
    committed = (REPO / "docs" / "cli.md").read_text()
    assert committed == cli_reference.render(), "docs/cli.md is out of date: run `.venv/bin/python " \
        "tools/cli_reference.py` and commit docs/cli.md"
    for name in _commands()[1]:
        assert f"\n## tinyml {name}\n" in committed
