"""Places a device script can run: the MicroPython unix port (a simulated board), emulated Cortex-M boards
under QEMU, and real boards over a serial port (mpremote). Each target runs one MicroPython script in a
working directory holding the files it needs, and hands back what it printed and the files it wrote."""

from .base import RunResult, Target, TargetError, get_target, TARGET_NAMES

__all__ = ["RunResult", "Target", "TargetError", "get_target", "TARGET_NAMES"]
