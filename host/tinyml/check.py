"""`tinyml check`: pre-flight before anything touches a board. Will this model run with this engine on that
board, and how much memory will it take? Names every problem with the fix."""

from pathlib import Path

import numpy as np

from . import TinymlError
from .boards import get_board
from .ops import ADVICE, INT16_ADVICE, KERNEL_TYPES, KERNELS, kernel_takes
from .pack import board_chip

NO_FPU_ARCHES = ("armv6m", "armv7m")
# The ops whose int8 kernels have arch paths (kernels/cortex_m4, kernels/xtensa) but whose int16 ones do not.
INT16_PORTABLE_ONLY = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def check(model_path, arch=None, board_id=None, small=False, keep_inputs=False) -> bool:
    from .model_info import read_model
    board = get_board(board_id) if board_id else None
    arch = arch or (board["arch"] if board else "x64")
    # An ESP32-family board gets its chip's build (tinyml pack --board does the same): the ESP32's MAC16 kernels
    # have more code and plan more scratch than the portable build (kws: about 5 KB of code, 10 KB of arena).
    chip = board_chip(board) if arch == "xtensawin" else None
    info = read_model(model_path)
    problems, notes = [], []
    print(f"{Path(model_path).name}: {info.size} bytes, {len(info.ops)} ops, {info.macs} MACs; "
          f"arch {arch}" + (f" ({chip} build)" if chip else "") + (" (--small build)" if small else "") +
          (f", board {board['name']}" if board else ""))

    print("  ops:")
    counts, missing = {}, []
    customs = custom_codes(model_path)
    for (name, version), dtype, custom in zip(info.ops, info.op_input_types, customs):
        # A custom op is listed under its custom code: CUSTOM alone does not say which op it is.
        key = (f"CUSTOM {custom}" if custom is not None else name, version,
               np.dtype(dtype).name if dtype is not None else "-")
        counts[key] = counts.get(key, 0) + 1
    for (name, version, dtype), n in sorted(counts.items()):
        if name.startswith("CUSTOM "):
            status = "UNSUPPORTED: " + custom_advice(name.split(" ", 1)[1])
            missing.append(name)
        elif name not in KERNELS:
            status = "UNSUPPORTED: " + ADVICE.get(name, "no kernel for this op yet")
            missing.append(name)
        elif dtype != "-" and not kernel_takes(name, dtype):
            # The kernel exists for other types (the file's `// tinyml-types:` line): the engine would refuse
            # the model at load, so say so here, by type.
            status = (f"UNSUPPORTED: no {dtype} kernel yet ({name} computes "
                      f"{', '.join(sorted(KERNEL_TYPES[name]))})")
            if dtype == "int16":
                # A 16x8 model: the way out is a layer that has an int16 kernel, or plain int8.
                alternative = f"{INT16_ADVICE[name]}, or " if name in INT16_ADVICE else ""
                status += (f": {alternative}convert the model full-int8 (TFLITE_BUILTINS_INT8; "
                           f"docs/bring-your-own-model.md)")
            missing.append(f"{dtype} {name}")
        elif dtype == "float32" and arch in NO_FPU_ARCHES and name not in ("QUANTIZE",):
            status = f"ok, but {arch} has no FPU: software floating point, slow"
            notes.append(f"float32 {name} on {arch} runs in software floating point: convert the model to "
                         f"int8 (TF Lite converter with a representative dataset) for speed")
        else:
            status = "ok"
        print(f"    {name:<22} v{version}  {dtype:<8} x{n:<3} {status}")
    slow16 = sorted({name for name, _, dtype in counts if dtype == "int16" and name in INT16_PORTABLE_ONLY})
    if slow16:
        notes.append(f"int16 (16x8) {', '.join(slow16)}: the portable C loops on every target (the Cortex-M4 DSP and "
                     f"ESP32 MAC16 kernels take int8 only): about 4.6x the instructions of the same model in int8 "
                     f"(docs/bring-your-own-model.md, 16x8 models); convert full-int8 where its accuracy suffices")
    if missing:
        # All of them in one line: a user fixing the first would otherwise meet the next on the next try.
        problems.append(f"{len(missing)} unsupported op{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                        f"(each op's line above says what to do)")
    hybrid = hybrid_ops(model_path)
    if hybrid:
        problems.append(f"hybrid (dynamic-range) quantized model: {', '.join(hybrid)} "
                        f"take{'s' if len(hybrid) == 1 else ''} float32 activations "
                        f"with int8 weights, which neither this engine nor TFLM computes: convert with full "
                        f"integer quantization (converter.representative_dataset = a generator of sample inputs, "
                        f"converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8], "
                        f"inference_input_type = inference_output_type = tf.int8)")

    for kind, tensors in (("input", info.inputs), ("output", info.outputs)):
        for t in tensors:
            q = f"scale {t.scale:.6g}, zero point {t.zero_point}" if t.scale else "not quantized"
            print(f"  {kind}: {t.describe()} ({q})")
            if np.dtype(t.dtype).kind == "f":
                notes.append(f"float {kind}: fine with predict(); int8 I/O saves the QUANTIZE/DEQUANTIZE ops "
                             f"(converter: inference_{kind}_type=tf.int8)")

    if info.variables:
        state = sum(b for _, b in info.variables)
        print(f"  state: stateful (streaming) model, {len(info.variables)} resource variables, {state} bytes, kept "
              f"across invoke() in the arena; model.reset() restores them; {info.subgraphs} subgraphs")
        for name, nbytes in info.variables:
            print(f"    variable {name}: {nbytes} bytes")
    lstm_state = fused_lstm_state_bytes(model_path)
    if lstm_state:
        print(f"  state: the fused LSTM's hidden and cell states, {lstm_state} bytes, kept across invoke() as TFLM "
              f"keeps them (the next invoke continues the sequence); model.reset() starts a new one")

    if dilated_conv1d_with_dynamic_batch(model_path):
        notes.append("a dilated Conv1D converted with Keras' dynamic batch (SPACE_TO_BATCH_ND, then EXPAND_DIMS, "
                     "CONV_2D and RESHAPE written with batch 1): TFLM computes it incorrectly (keeps batch 1); tinyml "
                     "follows TF Lite (they take the computed batch). Convert with keras.Input(shape=..., "
                     "batch_size=1) to get a plain dilated CONV_2D that both run identically")
    elif "SPACE_TO_BATCH_ND" in info.op_names:
        notes.append("SPACE_TO_BATCH_ND (a dilated convolution with Keras' dynamic batch): TFLM computes such "
                     "models incorrectly; tinyml follows TF Lite. Convert with keras.Input(batch_size=1) to get "
                     "a plain dilated CONV_2D that both run identically")

    arena, arena_where, arenas = None, "", {}
    if not problems:
        try:
            arenas, arena_where = measure_arena(model_path, arch, info, small, chip)
            arena = arenas[keep_inputs]
        except TinymlError as exc:
            problems.append(str(exc))
    code = None
    if not problems:
        try:
            from .build import model_module, module_text_bytes
            code = module_text_bytes(model_module(arch, info, small=small, chip=chip))
        except TinymlError as exc:
            notes.append(f"engine code size unknown ({str(exc).splitlines()[0]})")

    if arena is not None:
        print(f"  memory: arena {arena} bytes (tensors, op data and descriptors; {arena_where}) "
              f"+ model {info.size} bytes")
        extra = arenas[True] - arenas[False]
        if keep_inputs:
            print(f"  inputs: kept across invoke() (Model(buf, keep_inputs=True)): {extra} bytes of the arena")
        else:
            print(f"  inputs: their storage is reused once read, so invoke() may overwrite them (as in TFLM); "
                  f"Model(buf, keep_inputs=True) keeps them for {extra} more bytes")
    if code is not None:
        print(f"  engine code for {arch} with this model's kernels: {code} bytes")
    if board and arena is not None:
        # Arm ports load native code into the MicroPython heap, next to the arena and the model; the ESP32
        # copies it into IRAM, a budget of its own.
        code_in_heap = board.get("native_code_in", "heap") == "heap"
        ram = arena + info.size + ((code or 0) if code_in_heap else 0)
        what = (f"arena {arena}, model {info.size}" + (f", engine code {code}" if code_in_heap and code else ""))
        if ram > board["heap_bytes"]:
            hint = "use a smaller model, or keep the model in a ROMFS file and pass a memoryview"
            if code_in_heap and code and not small:
                hint = _small_hint(arch, info, code, chip) + hint
            problems.append(f"needs {ram} bytes of RAM ({what}), {board['name']} has about {board['heap_bytes']} "
                            f"free: {hint}")
        else:
            print(f"  RAM: {ram} bytes ({what}) of about {board['heap_bytes']} free on {board['id']} "
                  f"({100 * ram // board['heap_bytes']}%)")
        if code is not None and not code_in_heap and code > board["native_code_bytes"]:
            problems.append(f"engine code {code} bytes exceeds the ~{board['native_code_bytes']} bytes for native "
                            f"code on {board['id']}: `tinyml pack` includes only the model's kernels")
    for n in notes:
        print(f"  note: {n}")
    if problems:
        for p in problems:
            print(f"  PROBLEM: {p}")
        print("  verdict: will NOT run")
        return False
    print("  verdict: ok")
    return True


ARM_ARCHES = ("armv6m", "armv7m", "armv7emsp")

# Ops with a weights input that have hybrid (float activations x int8 weights) kernels in TF Lite.
HYBRID_CANDIDATES = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "BATCH_MATMUL", "EMBEDDING_LOOKUP",
                     "UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN",
                     "SVDF", "TRANSPOSE_CONV")


def _operators(model_path):
    """(model, operator code, operator, subgraph) for every operator of every subgraph, in read_model's order."""
    from .model_info import schema
    model = schema().ModelT.InitFromPackedBuf(bytearray(Path(model_path).read_bytes()), 0)
    for g in model.subgraphs:
        for op in g.operators or []:
            yield model, model.operatorCodes[op.opcodeIndex], op, g


def fused_lstm_state_bytes(model_path):
    """Bytes of the hidden and cell states (inputs 18 and 19, variable tensors) of every
    UNIDIRECTIONAL_SEQUENCE_LSTM: TFLM keeps them across invokes, and so does the engine."""
    from .model_info import op_names
    names = op_names()
    item = {0: 4, 7: 2, 9: 1}     # TensorType FLOAT32, INT16, INT8: the types the engine's LSTM takes
    total = 0
    for _, code, op, g in _operators(model_path):
        if names.get(max(code.builtinCode, code.deprecatedBuiltinCode)) == "UNIDIRECTIONAL_SEQUENCE_LSTM" and \
                len(op.inputs) > 19:
            for i in (18, 19):
                t = g.tensors[op.inputs[i]]
                total += int(np.prod(t.shape)) * item.get(t.type, 0)
    return total


def custom_codes(model_path):
    """Per operator (read_model's order): its custom_code for a CUSTOM op, else None."""
    out = []
    for _, code, _, _ in _operators(model_path):
        custom = code.customCode
        if isinstance(custom, bytes):
            custom = custom.decode(errors="replace")
        out.append((custom or "?") if max(code.builtinCode, code.deprecatedBuiltinCode) == 32 else None)
    return out


def custom_advice(custom_code):
    """What to do about a custom op. The converter writes a TensorFlow op it kept as is (SELECT_TF_OPS) as the
    custom op "Flex" + the TF op's name: say which TF op, the thing the user can find in their model."""
    if custom_code.startswith("Flex"):
        tf_op = custom_code[4:]
        return (f"the TensorFlow op {tf_op} kept by the converter's SELECT_TF_OPS (Flex), which only full TF Lite "
                f"with the Flex delegate runs (not TFLM, not this engine): replace the layer that makes {tf_op} "
                f"and convert with target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8] only")
    return (f"custom op '{custom_code}': only the application that registered it can run it; rebuild the model "
            f"from builtin Keras layers")


def dilated_conv1d_with_dynamic_batch(model_path):
    """True when a SPACE_TO_BATCH_ND output goes into EXPAND_DIMS: Keras' dilated Conv1D under a dynamic batch.
    SPACE_TO_BATCH_ND multiplies the batch by the block size, but the converter writes the shapes after
    EXPAND_DIMS with batch 1: TFLM computes with those (its outputs differ from TF Lite's, which resizes at
    run time); the engine follows TF Lite (kernels/reshape.c gives the placeholder the input's batch)."""
    from .model_info import op_names
    names = op_names()
    s2b_outputs = set()
    for _, code, op, g in _operators(model_path):
        name = names.get(max(code.builtinCode, code.deprecatedBuiltinCode))
        if name == "SPACE_TO_BATCH_ND":
            s2b_outputs.add((id(g), int(op.outputs[0])))
        elif name == "EXPAND_DIMS" and (id(g), int(op.inputs[0])) in s2b_outputs:
            return True
    return False


def hybrid_ops(model_path):
    """'NAME (operator i)' for each op that takes a float32 activation and int8 constant weights: the
    converter's dynamic-range quantization (optimizations=[DEFAULT] without a representative dataset)."""
    from .model_info import op_names
    names = op_names()
    found, index = [], 0
    for model, code, op, g in _operators(model_path):
        name = names.get(max(code.builtinCode, code.deprecatedBuiltinCode))
        if name in HYBRID_CANDIDATES and op.inputs is not None and len(op.inputs) > 1:
            data = g.tensors[op.inputs[2 if name == "TRANSPOSE_CONV" else 0]]
            weights = g.tensors[op.inputs[1]]
            constant = weights.buffer and model.buffers[weights.buffer].data is not None
            if data.type == 0 and weights.type == 9 and constant:  # FLOAT32 activations, INT8 weights
                found.append(f"{name} (operator {index})")
        index += 1
    return found


def _small_hint(arch, info, code, chip=None):
    """What `tinyml pack --small` would save, when it saves something worth saying."""
    from .build import model_module, module_text_bytes
    small_code = module_text_bytes(model_module(arch, info, small=True, chip=chip))
    if small_code > code * 0.9:
        return ""
    return f"`tinyml pack --small` makes the engine code {small_code} bytes (slower), or "


# Prints the arena of both input plans, as the module on an emulated board plans them.
ARENA_SCRIPT = ("import tinyml\nd = open('m.tflite', 'rb').read()\n"
                "print('ARENA', tinyml.Model(d).arena_bytes, tinyml.Model(d, keep_inputs=True).arena_bytes)\n")


def measure_arena(model_path, arch, info, small=False, chip=None):
    """Arena bytes as the engine for `arch` needs them, {keep_inputs: bytes} for both input plans: loaded on
    the emulated Cortex-M4 for Arm archs (it runs armv6m and armv7m code too, and kernels plan per-arch
    scratch), on the emulated Xtensa core for an ESP32-family `chip` (the MAC16 kernels plan scratch the host
    build does not), else on the host build."""
    data = Path(model_path).read_bytes()
    if arch == "xtensawin" and chip is not None:
        from .build import model_module
        from .targets import get_target
        # No fallback to the host's plan, which would undercount: a failure here is check's problem line.
        result = get_target("qemu-xtensa").run(ARENA_SCRIPT, {
            "m.tflite": data, "tinyml.mpy": model_module(arch, info, small=small, chip=chip).read_bytes()})
        default, kept = result.stdout.split("ARENA")[1].split()[:2]
        return ({False: int(default), True: int(kept)},
                f"measured by the {chip} build of the engine on the emulated Xtensa core")
    if arch in ARM_ARCHES:
        from .build import model_module
        from .targets.qemu import QemuTarget
        try:
            result = QemuTarget("qemu-m4").run(ARENA_SCRIPT, {
                "m.tflite": data, "tinyml.mpy": model_module(arch, info, small=small).read_bytes()})
            default, kept = result.stdout.split("ARENA")[1].split()[:2]
            return ({False: int(default), True: int(kept)},
                    f"measured by the {arch} engine on an emulated Cortex-M4")
        except TinymlError as exc:
            if "ValueError" in str(exc) or "MemoryError" in str(exc):
                raise
    from .hostlib import HostEngine
    arenas = {}
    for keep in (False, True):
        engine = HostEngine(data, keep_inputs=keep)
        arenas[keep] = engine.arena_bytes
        engine.close()
    where = "measured on the x64 build" + ("" if arch == "x64" else f"; {arch} differs a little (32-bit descriptors)")
    return arenas, where
