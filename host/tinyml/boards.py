"""Board descriptions from boards/*.json: arch, RAM budget (typical free MicroPython heap), and where native
code goes: "heap" (Arm ports: it shares the heap) or "iram" (ESP32: native_code_bytes of its own)."""

import json

from . import TinymlError
from .paths import BOARDS


def load_boards():
    return {p.stem: json.loads(p.read_text()) for p in sorted(BOARDS.glob("*.json"))}


def get_board(board_id):
    boards = load_boards()
    if board_id not in boards:
        raise TinymlError(f"unknown board '{board_id}': choose one of {', '.join(boards)}")
    return boards[board_id]
