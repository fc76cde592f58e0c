"""tinyml-mpy host tools: train, quantize, check, pack, deploy and benchmark TinyML models for MicroPython.

The CLI is `tinyml` (tinyml.cli); the inference engine itself is C under native_modules/, loaded on the
device (or the MicroPython unix port) as a native .mpy module."""

__version__ = "0.1.0"


class TinymlError(Exception):
    """A problem the user can fix; the CLI prints its message as one line."""
