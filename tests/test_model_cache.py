"""The cache of converted test models (opcheck.cached_model) is keyed by everything that defines a model, not
only by its recipe string: the layers a case's lambdas build (and the helpers they call), closure variables,
Keras initializers, the converter's source and the TensorFlow version. The same definition gives the same
key in every process. These tests never run the converter: `make` returns stand-in bytes and counts calls."""

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import opcheck

# A test module's shape: a dict of cases whose lambdas build layers (as in test_qemu_engine's
# _dsp_spatial_cases), a helper they call, and the `make` a test passes to cached_model.
CASES = '''
import functools
import numpy as np


class Spec:
    def __init__(self, units):
        self.units = units


def _kernel(cout):
    return np.arange(cout, dtype=np.float32) * {scale}


def cases(L):
    return {{
        "conv": (lambda x: L.Conv2D({filters}, 3, padding="same", activation="relu")(x), (7, 9, 3)),
        "init": (lambda x: L.Conv2D(4, 1, kernel_initializer=_kernel(4))(x), (5, 3, 16)),
    }}


def fake_model(build, shapes, seed, extra=None):
    return b"TFL3 stand-in"


def make(case, seed, L=None, sentinel=object()):
    build, shape = cases(L)[case]
    names = {{"relu", "relu6", "tanh", "sigmoid"}}              # set order follows PYTHONHASHSEED
    table = np.linspace(-1, 1, 7, dtype=np.float32)
    clip = functools.partial(np.clip, a_min=-1.0)
    spec = Spec(3)
    return lambda: fake_model(build, [shape], seed, (names, table, clip, spec, sentinel))
'''


def load(tmp_path, name, filters=5, scale=1.0):
    """The cases module above as a file `name`.py, imported afresh."""
    path = tmp_path / f"{name}.py"
    path.write_text(CASES.format(filters=filters, scale=scale))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Counting:
    """A make() that counts how often cached_model calls it."""
    def __init__(self, make):
        self.make, self.calls = make, 0

    def __call__(self):
        self.calls += 1
        return self.make()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(opcheck, "CACHE", tmp_path / "testmodels")
    return tmp_path / "testmodels"


def test_editing_a_layer_parameter_inside_a_lambda_rebuilds_the_model(tmp_path):
    v1 = load(tmp_path, "cases_v1", filters=5)
    first = Counting(v1.make("conv", 1))
    path = opcheck.cached_model("qemu dsp conv 1", first)
    again = Counting(v1.make("conv", 1))
    assert opcheck.cached_model("qemu dsp conv 1", again) == path and again.calls == 0  # cached
    # the same recipe after Conv2D(5, ...) became Conv2D(6, ...) inside the case's lambda
    edited = Counting(load(tmp_path, "cases_v2", filters=6).make("conv", 1))
    assert opcheck.cached_model("qemu dsp conv 1", edited) != path and edited.calls == 1
    # and after a helper the lambda calls (a global function of the module) changed
    init = opcheck.cached_model("qemu dsp init 1", v1.make("init", 1))
    helper = Counting(load(tmp_path, "cases_v3", scale=0.5).make("init", 1))
    assert opcheck.cached_model("qemu dsp init 1", helper) != init and helper.calls == 1


def test_changing_a_closure_variable_rebuilds_the_model():
    def dense(units, weights):
        def build(x):
            return ("Dense", units, weights, x)
        return lambda: build("x") and b"TFL3 stand-in"

    w = np.zeros((3, 4), np.float32)
    path = opcheck.cached_model("fc case", Counting(dense(4, w)))
    same = Counting(dense(4, w.copy()))
    assert opcheck.cached_model("fc case", same) == path and same.calls == 0
    units = Counting(dense(5, w))
    assert opcheck.cached_model("fc case", units) != path and units.calls == 1
    w2 = w.copy()
    w2[1, 2] = 1e-7                              # numpy arrays count by their bytes
    weights = Counting(dense(4, w2))
    assert opcheck.cached_model("fc case", weights) != path and weights.calls == 1


def test_keras_initializers_count_by_their_config():
    import tensorflow as tf
    init = tf.keras.initializers

    def conv(bias_init):
        return lambda: (bias_init, b"TFL3 stand-in")[1]
    path = opcheck.cached_model("dw big bias", conv(init.RandomUniform(-1e5, 1e5)))
    assert opcheck.cached_model("dw big bias", conv(init.RandomUniform(-1e5, 1e5))) == path  # a new object
    assert opcheck.cached_model("dw big bias", conv(init.RandomUniform(-1e4, 1e4))) != path
    const = opcheck.cached_model("const", conv(init.Constant(np.arange(4, dtype=np.float32))))
    assert opcheck.cached_model("const", conv(init.Constant(np.arange(1, 5, dtype=np.float32)))) != const


def test_the_same_definition_gives_the_same_key_in_other_processes(tmp_path):
    """No id() or address in the key: two more processes (other hash seeds, other memory layouts) name the same
    files, and still tell the edited definition apart."""
    modules = [load(tmp_path, "cases_v1", filters=5), load(tmp_path, "cases_v2", filters=6)]
    script = textwrap.dedent("""
        import os, sys
        junk = [object() for _ in range(int(os.environ["JUNK"]))]   # shifts every later address
        sys.path[:0] = [os.environ["CASES"], os.environ["TESTS"]]
        import opcheck, cases_v1, cases_v2
        for m in (cases_v1, cases_v2):
            print(opcheck.cached_model("qemu dsp conv 1", m.make("conv", 1)).name)
    """)
    tests = str(Path(__file__).resolve().parent)
    names = []
    for seed, junk in (("0", "10"), ("12345", "100000")):
        env = dict(os.environ, PYTHONHASHSEED=seed, JUNK=junk, CASES=str(tmp_path), TESTS=tests,
                   TINYML_BUILD=str(tmp_path / "sub"))
        res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        names.append(res.stdout.split())
    here = [opcheck.cached_model("qemu dsp conv 1", m.make("conv", 1)).name for m in modules]
    assert names[0] == names[1] == here
    assert here[0] != here[1]


def test_the_tensorflow_version_and_the_converter_are_part_of_the_key(monkeypatch):
    make = lambda: b"TFL3 stand-in"  # noqa: E731
    path = opcheck.cached_model("fc case", make)
    with monkeypatch.context() as m:
        m.setattr(opcheck, "tf_version", lambda: "tensorflow 9.99.0 keras 9.99.0", raising=False)
        other = Counting(make)
        assert opcheck.cached_model("fc case", other) != path and other.calls == 1
    with monkeypatch.context() as m:
        m.setattr(opcheck, "converter_source", lambda: b"conv.optimizations = []", raising=False)
        assert opcheck.cached_model("fc case", make) != path
    assert opcheck.cached_model("fc case", make) == path


def test_the_key_names_the_installed_tensorflow():
    from importlib.metadata import version
    assert version("keras") in opcheck.tf_version()
    assert any(ch.isdigit() for ch in opcheck.tf_version().split()[1])
