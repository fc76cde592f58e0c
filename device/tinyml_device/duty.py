# The duty cycle: wake -> (import the engine, load the model) -> sample -> infer -> act -> sleep, with the time
# each phase took. After a deep sleep the board has rebooted: the native module is imported and the model
# loaded again on every wake, and that cost is measured like the rest.
#
#   phases = Phases()                      # make it first: boot time is read from ticks_ms() here
#   model = load_model("gesture.tflite", phases)
#   with phases("sample"): ...
#   with phases("infer"): model.predict(window, out=probs)
#   print(phases.report())
import time


class Phases:
    """Per-phase timings of one wake cycle. `with phases("name"):` times a block (the same name twice adds
    up); `report()` is one line. `boot_ms` is the time from reset to the creation of this object (ticks_ms()
    counts from reset on every port)."""

    def __init__(self, max_phases=8):
        self.boot_ms = time.ticks_ms()
        self.names = []
        self.us = []
        self._name = None
        self._t0 = 0

    def __call__(self, name):
        self._name = name
        return self

    def __enter__(self):
        self._t0 = time.ticks_us()
        return self

    def __exit__(self, *exc):
        dt = time.ticks_diff(time.ticks_us(), self._t0)
        if self._name in self.names:
            self.us[self.names.index(self._name)] += dt
        else:
            self.names.append(self._name)
            self.us.append(dt)
        return False

    def ms(self, name):
        return self.us[self.names.index(name)] / 1000 if name in self.names else None

    def report(self):
        parts = ["boot %d ms" % self.boot_ms]
        for name, us in zip(self.names, self.us):
            parts.append("%s %.1f ms" % (name, us / 1000))
        awake = time.ticks_ms()
        return "phases: " + ", ".join(parts) + " (awake %d ms)" % awake


def read_file(name):
    """A whole file as bytes in one read (f.read() without a size grows its buffer 256 bytes at a time)."""
    import os
    with open(name, "rb") as f:
        return f.read(os.stat(name)[6])


def load_model(path, phases=None, module="tinyml"):
    """Import the engine (a native module: after a deep sleep this relocates its code again) and load the model
    from `path` as bytes (read in place, not copied: docs/device-api.md). Timed as 'import' and 'load'."""
    t0 = time.ticks_us()
    engine = __import__(module)
    t1 = time.ticks_us()
    model = engine.Model(read_file(path))
    t2 = time.ticks_us()
    if phases is not None:
        phases.names += ["import", "load"]
        phases.us += [time.ticks_diff(t1, t0), time.ticks_diff(t2, t1)]
    return model


def load_job_model(job, phases=None, path="model.tflite"):
    """The model of a `tinyml train` job: the pack `tinyml deploy` installs (a module named after the job, whose
    `model` is loaded at import), or else the engine module tinyml.mpy and the model file `path`. `job` is the
    job.json dict. Timed as 'import' and 'load' (a pack's import includes its load)."""
    t0 = time.ticks_us()
    try:
        pack = __import__(job["job"])
    except ImportError:
        return load_model(path, phases)
    model = pack.model
    if phases is not None:
        phases.names += ["import", "load"]
        phases.us += [time.ticks_diff(time.ticks_us(), t0), 0]
    return model


def check_input(model, n_values, what="window"):
    """Refuse a feature buffer whose size does not match the model's first input, before invoke()."""
    shape = model.inputs[0]["shape"]
    need = 1
    for d in shape:
        need *= d
    if n_values != need:
        raise ValueError("%s has %d values, the model's input %s needs %d" % (what, n_values, shape, need))


def argmax(values):
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best
