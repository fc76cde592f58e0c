"""Instructions to time on a board: the one place that turns an instruction count measured on an emulated core
into milliseconds at a real board's clock (`tinyml train`'s latency, `tinyml battery`'s wake phases).

    time = instructions x cycles per instruction / clock

The clock and the cycles per instruction come from the board's "energy" key in boards/<id>.json, each with its
source. A board without one falls back to the chip's clock from its "mcu" text ("... @64 MHz") at one cycle
per instruction, and says that it did: an estimate, not a sourced figure.
"""

import re
from dataclasses import dataclass

from . import TinymlError

# A figure whose source says this is an assumption or a stand-in, not a datasheet value or a measurement.
UNCONFIRMED = "UNCONFIRMED"


@dataclass(frozen=True)
class CoreTiming:
    """How fast a board runs the instructions counted for it."""
    clock_hz: float
    cycles_per_instruction: float
    clock_source: str
    cpi_source: str
    core: str = ""

    @property
    def estimate(self) -> bool:
        """True when the clock or the CPI is not a sourced figure."""
        return UNCONFIRMED in self.clock_source or UNCONFIRMED in self.cpi_source

    def ms(self, instructions: float) -> float:
        return instructions * self.cycles_per_instruction / self.clock_hz * 1000.0

    def basis(self) -> str:
        """One line for reports: the clock and the CPI used."""
        return (f"x {self.cycles_per_instruction:g} cycles/instruction ({self.core or 'core'}) / "
                f"{self.clock_hz / 1e6:g} MHz")


def core_timing(board: dict, required: bool = False):
    """The board's CoreTiming: its "energy" clock and CPI, else the "mcu" clock at 1 cycle per instruction
    (marked UNCONFIRMED), else None (or a TinymlError when `required`)."""
    energy = board.get("energy") or {}
    clock, cpi = energy.get("clock_hz"), energy.get("cycles_per_instruction")
    if clock and cpi:
        return CoreTiming(float(clock["value"]), float(cpi["value"]), clock["source"], cpi["source"],
                          cpi.get("core", ""))
    m = re.search(r"@(\d+(?:\.\d+)?) ?MHz", board.get("mcu", ""))
    if m:
        where = f"boards/{board.get('id', '?')}.json"
        return CoreTiming(float(m.group(1)) * 1e6, 1.0, f"the chip's clock in {where} \"mcu\" ({UNCONFIRMED}: "
                          f"MicroPython may run it slower)", f"1 cycle per instruction ({UNCONFIRMED}: {where} has "
                          f"no energy.cycles_per_instruction)")
    if required:
        raise TinymlError(f"boards/{board.get('id', '?')}.json has no clock (energy.clock_hz or \"@N MHz\" in "
                          f"\"mcu\"): add one to turn instructions into time")
    return None


def instructions_ms(instructions: float, board: dict) -> float:
    """Milliseconds that `instructions` take on `board` (see core_timing)."""
    return core_timing(board, required=True).ms(instructions)
