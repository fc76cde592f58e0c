"""The engine's operators, discovered from the kernel sources: each file in native_modules/engine/kernels/
declares the TFLite builtin ops it implements with lines `// tinyml-op: NAME CODE` and defines
`int tm_kernel_<file stem>(tm_kernel_t *k)`. Adding a kernel is adding a file. The build, `tinyml check` and
`tinyml pack` all read this table.

Optional engine sources a kernel calls into are declared with `// tinyml-uses: FILE` (always) or
`// tinyml-uses-float: FILE` (only its float32 path): mpy_ld.py links every object it is given, so a
per-model build leaves out what none of its kernels calls (tm_math.c: 4.7 KB of ESP32 IRAM).

A file's `// tinyml-types: int8 int16 float32` line names (numpy names) the element types of the data input
its kernels compute; a file without one takes any type (the byte-copying ops). A line that starts with one of
the file's op names, `// tinyml-types: SUB int8 int16 float32`, applies to that op alone and overrides the
file's line (add.c: ADD takes int32 loop counters, SUB does not). `tinyml check` reads these (KERNEL_TYPES) to
call an int16 CONV_2D unsupported when only its int8 kernel exists, before the engine's load-time refusal does."""

import re

from .paths import NATIVE

_DECL = re.compile(r"^// tinyml-op: ([A-Z0-9_]+) (\d+)\s*$", re.M)
_USES = re.compile(r"^// tinyml-uses(-float)?: (\S+)\s*$", re.M)
_TYPES = re.compile(r"^// tinyml-types:(.*)$", re.M)
OPTIONAL_ENGINE_SOURCES = ("tm_math.c",)


def _scan():
    table, uses, types = {}, {}, {}
    for path in sorted((NATIVE / "engine" / "kernels").glob("*.c")):
        text = path.read_text()
        ops = _DECL.findall(text)
        file_types, op_types = None, {}
        for line in _TYPES.findall(text):
            words = line.split()
            if words and words[0] in dict(ops):
                op_types[words[0]] = frozenset(words[1:])
            elif file_types is None:
                file_types = frozenset(words)
            else:
                raise ValueError(f"{path.name}: two file-wide `// tinyml-types:` lines (give the op's name first "
                                 f"for a per-op line)")
        for name, code in ops:
            table[name] = (int(code), path.stem, path.name)
            types[name] = op_types.get(name, file_types)
        uses[path.name] = [(bool(float_only), src) for float_only, src in _USES.findall(text)]
    return table, uses, types


# TFLite builtin op name -> (builtin code, kernel function suffix, kernel source file)
# KERNEL_TYPES: op name -> the numpy names of the input types its kernel computes, or None for any type.
KERNELS, _KERNEL_USES, KERNEL_TYPES = _scan()


def kernel_takes(op, dtype_name):
    """True when the engine has a kernel for `op` that computes inputs of this numpy dtype name ("int16")."""
    types = KERNEL_TYPES.get(op, frozenset())
    return types is None or dtype_name in types

# What to tell a user whose model uses an op the engine lacks.
# Each alternative named here runs today (tests/test_check_messages.py checks the ops it names exist; an
# unrolled int8 LSTM/GRU from TF 2.21 converts to SPLIT/UNPACK, FULLY_CONNECTED, LOGISTIC, TANH, MUL, ADD,
# all in KERNELS, and runs bit-exact). WHILE and IF run (Keras' LSTM/GRU loops in float32 included), but
# TF 2.21 cannot quantize a Keras RNN loop to int8 (its calibration crashes): unroll=True is the int8 way,
# and for an LSTM also legacy Keras (tf_keras), whose LSTM converts to UNIDIRECTIONAL_SEQUENCE_LSTM (runs,
# int8 and float32: tests/test_ops_lstm.py).
UNROLL = ("give the layer unroll=True and a fixed sequence length (keras.Input(shape=(steps, features), "
          "batch_size=1)): it then converts to SPLIT/UNPACK, FULLY_CONNECTED and element-wise ops, which run "
          "(and quantize to int8); for an LSTM, tf_keras.layers.LSTM (legacy Keras, batch_size=1) converts to "
          "the fused UNIDIRECTIONAL_SEQUENCE_LSTM, which runs too")
ADVICE = {
    "CUSTOM": "custom ops cannot run: rebuild the model from builtin Keras layers",
    "SLICE": "SLICE is not supported yet; a Keras LSTM/GRU loop with return_sequences=True writes its steps "
             "with SLICEs whose size changes at run time, which TFLM computes wrongly (its outputs differ from "
             "TF Lite's): " + UNROLL,
    "TILE": "TILE is not supported; Keras' UpSampling2D converts to it: use "
            "keras.layers.Resizing(h, w, interpolation='nearest') (RESIZE_NEAREST_NEIGHBOR) instead",
    "RESIZE_BILINEAR": "bilinear resizing is not supported: use interpolation='nearest' (RESIZE_NEAREST_NEIGHBOR)",
}

# What to tell a user whose 16x8 model (int16 activations) has an op whose kernel computes no int16. Each op
# named here takes int16 (tests/test_check_messages.py checks it); the general fix, full int8, is added by check.
INT16_ADVICE = {
    "REDUCE_MAX": "GlobalAveragePooling (MEAN) runs in int16",
    "RELU": "an activation fused into the layer before it (activation='relu' in Conv/Dense) runs in int16",
    "RELU6": "an activation fused into the layer before it (activation='relu6' in Conv/Dense) runs in int16",
    "TRANSPOSE_CONV": "Resizing(interpolation='nearest') (RESIZE_NEAREST_NEIGHBOR) then a Conv2D runs in int16",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "a Keras 3 LSTM with unroll=True converts to SPLIT/UNPACK, FULLY_CONNECTED, "
                                    "LOGISTIC, TANH, MUL and ADD, which run in int16",
}


def kernel_sources(op_names):
    """Kernel source files needed for these ops (sorted, unique)."""
    return sorted({KERNELS[op][2] for op in op_names if op in KERNELS})


def engine_extras(op_names=None, float_kernels=True):
    """The optional engine sources (OPTIONAL_ENGINE_SOURCES) the kernels for these ops call (all when None)."""
    if op_names is None:
        return list(OPTIONAL_ENGINE_SOURCES)
    return sorted({src for f in kernel_sources(op_names) for float_only, src in _KERNEL_USES[f]
                   if float_kernels or not float_only})


def ops_header(op_names=None):
    """C header for the engine's registry (tm_registry.c): TM_OP(code, function, name) per included op."""
    names = sorted(KERNELS) if op_names is None else sorted(set(op_names) & set(KERNELS))
    lines = ["// Generated by tinyml.ops: the kernels compiled into this build."]
    lines += [f"TM_OP({KERNELS[n][0]}, {KERNELS[n][1]}, \"{n}\")" for n in names]
    # For kernels whose code depends on the other ops in the build (int32 ADD exists only for WHILE loops).
    lines += [f"#define TM_HAS_{n} 1" for n in names]
    if set(names) == set(KERNELS):
        # A build with every kernel names every builtin in its "unsupported ops" message (tm_registry.c
        # says why only this build: 2.6 KB of names would cost a per-model ESP32 pack IRAM it lacks).
        from .model_info import op_names
        codes = op_names()
        table = "".join(codes.get(c, "") + "\\000" for c in range(max(codes) + 1))
        lines += [f"#define TM_ALL_OP_COUNT {max(codes) + 1}", f"#define TM_ALL_OP_NAMES \"{table}\""]
    return "\n".join(lines) + "\n"
