# Always-listening keyword spotter: an I2S microphone -> TFLM's audio frontend (40 features every 10 ms) -> a
# stateful streaming keyword model -> posterior smoothing -> an action (print, LED) when the smoothed score
# crosses the cutoff. Every model it runs is in microWakeWord's form: input (1, stride, 40) int8 (`stride` new
# 10 ms frames per invoke, 30 ms), output uint8 (the keyword's probability), the past kept inside the model in
# ring buffers. Two kinds:
#
# 1. Your own, from `tinyml train kws --out DIR` ("Hey IoT"). DIR/job.json gives the frames per invoke, the
#    smoothing, the cutoff chosen in training (as an integer threshold on the sum of the last uint8 outputs), the
#    refractory time and the table from frontend value to model input.
# 2. ESPHome's pretrained microWakeWord models ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu" from the
#    pymicro-wakeword wheel), with the cutoff and sliding window from the model's own manifest (NAME.json, as the
#    wheel and ESPHome ship it: probability_cutoff, sliding_window_size); their input is ESPHome's int8 as is.
#
#      INMP441 -> 10 ms PCM -> AudioFrontend -> 40 x uint16 -> ESPHome int8 -> table -> the model's input row
#        every `stride` frames: invoke() -> uint8 probability
#        sum of the last `window` outputs > threshold -> DETECTED, then not again for `refractory` invokes
#        (2 s, as microWakeWord does: one phrase is one detection; ESPHome's models: once per rising edge)
#
# Which one: kws.json {"model": NAME}; by default the job's model (kws.mpy, or kws.tflite with tinyml.mpy) when
# job.json is on the board, else okay_nabu.
#
# Wiring: an INMP441 on I2S(0) at the board's "example_inmp441" pins in boards/*.json (ESP32: SCK 19, WS 18,
# SD 23; the simulated board: 14, 15, 32), else SCK 14, WS 15, SD 32; kws.json "pins": [sck, ws, sd] for others
# (on a Pico ws must be sck + 1). L/R to GND (the left channel, which MONO reads), VDD 3.3 V.
# Files on the board: the model packed with its frontend (one module, only the kernels it needs):
#     tinyml pack DIR/model.tflite --arch xtensawin --features audio -o kws.mpy       (+ DIR/job.json)
#     tinyml pack okay_nabu.tflite --arch xtensawin --features audio -o okay_nabu.mpy (+ okay_nabu.json)
# or the full engine tinyml.mpy (with --features audio) plus the .tflite.
#
#   tinyml run --board unix-sim device/examples/keyword_spotter.py --data mic=speech.wav \
#       --file kws.mpy --file job.json --no-engine --clock virtual
#
# If a file named `log.on` exists, each invoke appends to kws.log: the model's input (stride x 40 int8), its
# output and whether it detected (1 byte each). The host replays them through its own engine
# (tests/test_train_kws.py) to show that the board decided what the host decides on the same input.
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
import os
import time
from array import array

from tinyml_device import board
from tinyml_device.duty import read_file
from tinyml_device.drivers.inmp441 import INMP441

RATE = 16000
CHUNK = 160                     # 10 ms of samples per read: one feature frame
CHANNELS = 40
SETTINGS = {
    "model": None,              # None: job.json's job ("kws": kws.mpy) if job.json exists, else "okay_nabu"
    "cutoff": 0.85,             # microWakeWord models: overridden by NAME.json's probability_cutoff
    "window": 5,                # microWakeWord models: overridden by NAME.json's sliding_window_size
    "pins": None,               # INMP441 [sck, ws, sd]; None: the board's example_inmp441 (boards/*.json), else 14, 15, 32
    "seconds": 0,               # listen this long (0: forever)
    "stats": True,              # one line of stats per second of audio
    "trace": 0,                 # keep the first N keyword outputs and print them at the end (for tests)
    "blink_ms": 200,            # LED on this long per detection
}


def load_json(name):
    try:
        import json
        with open(name) as f:
            return json.load(f)
    except OSError:
        return None


def to_row(src, table, dst, off):
    """40 frontend values (uint16) -> ESPHome's int8 (round(value * 256 / 666) - 128 in integers, clamped at 127;
    values are >= 0, so never below -128) -> the model's input (table, indexed by int8 + 128) at dst[off:]."""
    for i in range(40):
        v = (src[i] * 256 + 333) // 666
        dst[off + i] = table[v if v < 255 else 255]


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
job = load_json("job.json")
if cfg["model"] is None:
    cfg["model"] = job["job"] if job else "okay_nabu"
JOB_MODE = bool(job) and cfg["model"] == job["job"]
model, AudioFrontend, where = load(cfg["model"])
shape = model.inputs[0]["shape"]

if (len(shape) != 3 or shape[0] != 1 or shape[2] != CHANNELS or model.inputs[0]["dtype"] != "int8"
        or model.outputs[0]["dtype"] != "uint8"):
    raise ValueError("not a streaming keyword model (input (1, stride, 40) int8, output uint8): %r" % (model,))
STRIDE = shape[1]                               # frames per invoke
if JOB_MODE:
    if "step_frames" not in job:                # a job.json of the window model (before streaming models)
        raise ValueError("job.json is not from a streaming keyword model (no step_frames): train again with "
                         "`tinyml train kws` and copy the new model and job.json")
    if STRIDE != job["step_frames"]:
        raise ValueError("model does not match job.json: %d frames per invoke, job.json says %d"
                         % (STRIDE, job["step_frames"]))
    WINDOW = job["smooth"]
    THRESHOLD = job["threshold_sum"]            # sum of the last WINDOW uint8 outputs must exceed this
    REFRACTORY = job["refractory"]              # invokes after a detection without another
    SCALE = job["output_scale"]
    word = job["keyword"]
    table = array("b", job["input_table"])      # ESPHome int8 + 128 -> the model's input
else:
    manifest = load_json(cfg["model"] + ".json")
    if manifest and "micro" in manifest:
        cfg["cutoff"] = manifest["micro"].get("probability_cutoff", cfg["cutoff"])
        cfg["window"] = manifest["micro"].get("sliding_window_size", cfg["window"])
    word = manifest.get("wake_word", cfg["model"]) if manifest else cfg["model"]
    WINDOW = cfg["window"]
    REFRACTORY = 0                              # ESPHome's models: once per rising edge
    THRESHOLD = cfg["cutoff"] * 255 * WINDOW    # sum of the last WINDOW outputs must exceed this
    SCALE = 1 / 255
    table = array("b", range(-128, 128))        # ESPHome's models take ESPHome's int8 as it is
print("keyword spotter on %s: '%s' from %s, %d frames (%d ms) per invoke, state %d of %d arena bytes" % (
    b.id, word, where, STRIDE, STRIDE * 10, model.state_bytes, model.arena_bytes))
if JOB_MODE:
    print("detect: sum of the last %d outputs > %d (mean probability > %.3f), then not for %d ms" % (
        WINDOW, THRESHOLD, job["cutoff"], REFRACTORY * STRIDE * 10))
else:
    print("detect: mean of the last %d outputs / 255 > %.2f" % (WINDOW, cfg["cutoff"]))

# ---- every buffer, made once -------------------------------------------------------------------------------
fe = AudioFrontend()                            # microWakeWord: 30 ms windows every 10 ms
pcm = bytearray(2 * CHUNK)
frame = array("H", bytes(2 * CHANNELS * 2))     # a 10 ms chunk completes at most one frame; room for two
inp = model.input(0)                            # view of the input tensor, in the arena
out = model.output(0)                           # view of the output
probs = array("h", bytes(2 * WINDOW))           # the last WINDOW outputs, a ring
trace = array("h", bytes(2 * cfg["trace"]))
led, led_on = b.led_pin()
log = open("kws.log", "wb") if "log.on" in os.listdir() else None
logged_in = bytearray(STRIDE * CHANNELS)        # the input as invoked (invoke() may overwrite the tensor)
flag = bytearray(1)
pins = cfg["pins"] or (b.i2s or {}).get("example_inmp441") or (14, 15, 32)
if isinstance(pins, dict):
    pins = (pins["sck"], pins["ws"], pins["sd"])
mic = INMP441(pins[0], pins[1], pins[2], rate=RATE, bits=16, ibuf=8000)    # 250 ms of DMA buffers

end = cfg["seconds"] * RATE
samples = frames = invokes = detections = 0
slot = pi = filled = total = 0
led_off_at = -1
active = False
last_detection = -REFRACTORY                    # the invoke of the last detection
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
    if samples == led_off_at:
        led.value(1 - led_on)
    if fe.process(pcm, frame):
        frames += 1
        s_frames += 1
        to_row(frame, table, inp, slot * CHANNELS)
        slot += 1
        if slot == STRIDE:
            slot = 0
            if log is not None:
                logged_in[:] = inp
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
            flag[0] = 0
            if filled == WINDOW and total > THRESHOLD:
                # once per refractory time (the job's models) or rising edge (ESPHome's): once per utterance
                if (invokes - 1 - last_detection >= REFRACTORY) if REFRACTORY else not active:
                    last_detection = invokes - 1
                    detections += 1
                    flag[0] = 1
                    f0 = gc.mem_free()
                    print("DETECTED '%s' at %.2f s (invoke %d, mean %.3f)" % (
                        word, samples / RATE, invokes - 1, total * SCALE / WINDOW))
                    if led is not None:
                        led.value(led_on)
                        led_off_at = samples + cfg["blink_ms"] * RATE // 1000
                    s_alloc -= f0 - gc.mem_free()       # the print's allocation is not the loop's
                active = True
            else:
                active = False
            if log is not None:
                log.write(logged_in)
                log.write(out)
                log.write(flag)
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
if log is not None:
    log.close()
print("listened %.2f s: %d frames, %d invokes, %d detections" % (samples / RATE, frames, invokes, detections))
if trace:
    print("PROBS " + " ".join("%d" % trace[i] for i in range(min(invokes, len(trace)))))
