# Always-listening keyword spotter: an I2S microphone -> TFLM's audio frontend -> ESPHome's microWakeWord
# streaming model ("okay_nabu" by default) -> ESPHome's detection rule, printed with the time it was heard.
#
#   INMP441 --I2S 16 kHz--> 10 ms of PCM --AudioFrontend--> 40 x uint16 --to_int8--> 40 x int8 --+
#        every 3rd frame (stride = the model's input dims[1]): invoke() -> 1 uint8 probability -+
#        mean of the last 5 (sliding_window_size) / 255 > 0.85 (probability_cutoff) -> DETECTED
#
# Wiring: an INMP441 on I2S(0): SCK 14, WS 15, SD 32, L/R to GND (the left channel, which MONO reads).
# Files on the board: the model packed with its frontend (one module, only the kernels it needs):
#     tinyml pack okay_nabu.tflite --arch xtensawin --features audio -o okay_nabu.mpy
# or the full engine tinyml.mpy plus okay_nabu.tflite; optionally okay_nabu.json (the model's manifest, as
# pymicro-wakeword and ESPHome ship it: probability_cutoff, sliding_window_size) and kws.json (settings below).
#
#   tinyml run --board unix-sim device/examples/keyword_spotter.py --data mic=speech.wav \
#       --file okay_nabu.mpy --file okay_nabu.json --file kws.json --no-engine
#
# What always-listening costs: the board never sleeps. machine.I2S needs its clocks and DMA running, and no
# port keeps them in light or deep sleep (and a missed 10 ms is a missed syllable), so the CPU stays awake:
# an ESP32 at 80-160 MHz draws 20-44 mA (chip, Wi-Fi off; ESP32 datasheet v3.5 Table 6), an ESP32-S3 board about
# 32 mA (DevKitM-1 at 3.3 V), plus the mic (the INMP441's datasheet says 1.4 mA). A 2000 mAh LiPo lasts about
# 2-3 days (2000 / 32 mA = 62 h), against years in deep sleep (5-10 uA). For a battery, wake on a sound-level
# comparator first (wake_on_sound.py) and listen for the keyword only then. boards/*.json has the currents.
#
# The loop allocates nothing (the per-second stats line says how many bytes it did, from gc.mem_free()), and
# the per-second stats give frames, invokes, the time per invoke and the share of real time spent computing.
import gc
import time
from array import array

from tinyml_device import board
from tinyml_device.duty import read_file
from tinyml_device.drivers.inmp441 import INMP441

SCK, WS, SD = 14, 15, 32
RATE = 16000
CHUNK = 160                     # 10 ms of samples per read: one feature frame (microWakeWord's step)
CHANNELS = 40
SETTINGS = {
    "model": "okay_nabu",       # module okay_nabu.mpy (packed), or okay_nabu.tflite with tinyml.mpy
    "cutoff": 0.85,             # okay_nabu.json in pymicro-wakeword; ESPHome's models repo ships 0.97
    "window": 5,                # sliding_window_size
    "seconds": 0,               # listen this long (0: forever)
    "stats": True,              # one line of stats per second of audio
    "trace": 0,                 # keep the first N probabilities and print them at the end (for tests)
}


def load_json(name):
    try:
        import json
        with open(name) as f:
            return json.load(f)
    except OSError:
        return None


def to_int8(src, dst, off):
    """40 frontend values (uint16) -> the model's int8 input at dst[off:off+40], as ESPHome's micro_wake_word
    does: round(value * 256 / 666) - 128 in integers, clamped at 127 (values are >= 0, so never below -128)."""
    for i in range(40):
        v = (src[i] * 256 + 333) // 666 - 128
        dst[off + i] = v if v < 127 else 127


def load(name):
    """The model and the AudioFrontend class: a packed module NAME.mpy first, else tinyml.mpy + NAME.tflite."""
    try:
        mod = __import__(name)
        model = mod.model
        where = name + ".mpy (packed)"
    except ImportError:
        import tinyml as mod
        model = mod.Model(read_file(name + ".tflite"))
        where = name + ".tflite with tinyml.mpy"
    if not hasattr(mod, "AudioFrontend"):
        raise RuntimeError("%s has no AudioFrontend: pack it with `tinyml pack %s.tflite --features audio`"
                           % (where, name))
    return model, mod.AudioFrontend, where


b = board.current()
cfg = dict(SETTINGS)  # type: dict  # (values of several types)
cfg.update(load_json("kws.json") or {})
manifest = load_json(cfg["model"] + ".json")
if manifest and "micro" in manifest:
    cfg["cutoff"] = manifest["micro"].get("probability_cutoff", cfg["cutoff"])
    cfg["window"] = manifest["micro"].get("sliding_window_size", cfg["window"])
word = manifest.get("wake_word", cfg["model"]) if manifest else cfg["model"]

model, AudioFrontend, where = load(cfg["model"])
shape = model.inputs[0]["shape"]
if (len(shape) != 3 or shape[2] != CHANNELS or model.inputs[0]["dtype"] != "int8"
        or model.outputs[0]["dtype"] != "uint8"):
    raise ValueError("not a microWakeWord streaming model (input (1, stride, 40) int8, output uint8): %r" % (
        model,))
STRIDE = shape[1]
WINDOW = cfg["window"]
THRESHOLD = cfg["cutoff"] * 255 * WINDOW        # sum of the last WINDOW outputs must exceed this
print("keyword spotter on %s: '%s' from %s, %d frames (%d ms) per invoke, state %d of %d arena bytes" % (
    b.id, word, where, STRIDE, STRIDE * 10, model.state_bytes, model.arena_bytes))
print("detect: mean of the last %d outputs / 255 > %.2f" % (WINDOW, cfg["cutoff"]))

# ---- every buffer, made once -------------------------------------------------------------------------------
fe = AudioFrontend()                            # microWakeWord: 30 ms windows every 10 ms
pcm = bytearray(2 * CHUNK)
frame = array("H", bytes(2 * CHANNELS * 2))     # a 10 ms chunk completes at most one frame; room for two
inp = model.input(0)                            # int8 view of the input tensor (STRIDE x 40), in the arena
out = model.output(0)                           # uint8 view of the output
probs = bytearray(WINDOW)                       # the last WINDOW outputs, a ring
trace = bytearray(cfg["trace"])
mic = INMP441(SCK, WS, SD, rate=RATE, bits=16, ibuf=8000)    # 250 ms of DMA buffers

end = cfg["seconds"] * RATE
samples = frames = invokes = detections = 0
slot = pi = filled = total = 0
active = False
# per-second stats
s_frames = s_invokes = s_inv_us = s_inv_max = s_busy_us = 0
s_next = RATE
s_alloc = s_read_alloc = 0         # bytes allocated by the loop, and by I2S.readinto (see the stats line)
t0 = ti = dt = q = f0 = f_read = now = el = 0   # every global the loop sets exists before it (no dict growth)
gc.collect()
f_end = gc.mem_free()
t_sec = time.ticks_us()
print("listening%s" % ("" if not end else " for %d s" % cfg["seconds"]))

while not end or samples < end:
    mic.readinto(pcm)                           # blocks for 10 ms of audio
    t0 = time.ticks_us()
    f_read = gc.mem_free()
    s_read_alloc += f_end - f_read
    samples += CHUNK
    if fe.process(pcm, frame):
        to_int8(frame, inp, slot * CHANNELS)
        frames += 1
        s_frames += 1
        slot += 1
        if slot == STRIDE:                      # ESPHome: one invoke per `stride` frames
            slot = 0
            ti = time.ticks_us()
            model.invoke()
            dt = time.ticks_diff(time.ticks_us(), ti)
            s_inv_us += dt
            if dt > s_inv_max:
                s_inv_max = dt
            q = out[0]
            if invokes < len(trace):
                trace[invokes] = q
            invokes += 1
            s_invokes += 1
            total += q - probs[pi]
            probs[pi] = q
            pi += 1
            if pi == WINDOW:
                pi = 0
            if filled < WINDOW:
                filled += 1
            if filled == WINDOW and total > THRESHOLD:
                if not active:                  # report the rising edge, once per utterance
                    detections += 1
                    f0 = gc.mem_free()
                    print("DETECTED '%s' at %.2f s (invoke %d, mean %.3f)" % (
                        word, samples / RATE, invokes - 1, total / (255 * WINDOW)))
                    s_alloc -= f0 - gc.mem_free()       # the print's allocation is not the loop's
                active = True
            else:
                active = False
    s_busy_us += time.ticks_diff(time.ticks_us(), t0)
    f_end = gc.mem_free()
    s_alloc += f_read - f_end
    if samples >= s_next:
        s_next += RATE
        if cfg["stats"]:
            now = time.ticks_us()
            el = time.ticks_diff(now, t_sec)
            print("second %d: %d frames, %d invokes, invoke %.2f ms avg (max %.2f), busy %d%%, alloc %d B "
                  "(I2S.readinto %d B)" % (samples // RATE, s_frames, s_invokes, s_inv_us / 1000 / max(s_invokes, 1),
                                           s_inv_max / 1000, 100 * s_busy_us // max(el, 1), s_alloc, s_read_alloc))
        s_frames = s_invokes = s_inv_us = s_inv_max = s_busy_us = s_alloc = s_read_alloc = 0
        t_sec = time.ticks_us()
        f_end = gc.mem_free()

mic.deinit()
print("listened %.2f s: %d frames, %d invokes, %d detections" % (samples / RATE, frames, invokes, detections))
if trace:
    print("PROBS " + " ".join("%d" % trace[i] for i in range(min(invokes, len(trace)))))
