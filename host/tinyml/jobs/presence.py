"""Presence from an 8x8 thermal array (AMG8833): is a person in view? Two classes, empty and present.

The sensor: 64 thermopiles behind a lens with a 60 degree field of view (7.5 degrees a pixel), 0.25 degC per count,
about 0.2 degC of noise per frame at 10 fps, a fixed offset per pixel, read over I2C (device/tinyml_device/
drivers/amg8833.py).

Synthetic frames (nothing can be downloaded here; the report says so). Each frame is rendered at 8x the
sensor's resolution and averaged into its 64 pixels (a pixel sees the mean temperature of its footprint), then
blurred by the lens (0.35-0.6 px), offset per pixel (+-0.3 degC, per device), given noise and quantized to
0.25 degC:
  - the room: 16-28 degC, a gradient of up to 1 degC across the view (a window, a warm ceiling), sometimes a
    floor patch 1-3 degC warmer in the sun;
  - the mounting: on a wall (a person is upright in view) or on the ceiling (a person is seen from above: head
    and shoulders);
  - a person (class present): 0.5-3.5 m away (the footprint of a pixel is 0.13 m per metre), standing,
    sitting, lying or walking in at the edge of view; head and skin 31-35 degC (at least the room + 4), clothed
    body 26-32 degC (at least the room + 2.5), body parts as ellipses sized from a 1.5-1.9 m adult; partly
    occluded by a desk or a chair back (the lower 20-60 % hidden) in a third of frames, partly out of view
    when near an edge. A person the sensor cannot resolve (after the lens, no pixel 3 degC warmer for them,
    or under 8 degC of warmth summed over the pixels: too far, too hidden) is not a "present" sample: it is
    drawn again. Past about 3.5 m an AMG8833 sees a person as one
    pixel a degree or two up, which a hot cup also is;
  - hot objects, in empty AND present frames (hard negatives): a radiator (40-65 degC panel at an edge), a
    monitor or laptop (30-36 degC, under a pixel), a lamp or kettle (a small 60-100 degC spot), a cup of tea
    (50-70 degC, tiny); each covers some pixels partly, so it reads as a few degrees above the room.
The model sees, per pixel, (t - frame mean) / 4 and (t - 24) / 8: the shape and the absolute temperature (a
person's skin is 31-35 degC, a radiator is not). With values on the sensor's 0.25 degC grid these are exact in
float32 on the host and on any board (device/examples/thermal_presence.py computes them).

The user's recordings: DIR/empty/*.npy|*.csv and DIR/present/*.npy|*.csv: frames of 64 pixels in degC (rows of
64 values, or an array [frames, 8, 8]), one recording per file, every frame a sample."""

from pathlib import Path

import numpy as np

from .. import TinymlError
from .base import Dataset, Job, Sizes

CLASSES = ("empty", "present")
SIZE = 8
SUPER = 8                       # render at 8x the resolution, average into pixels
FOV_DEG = 60.0
RESOLUTION_C = 0.25
MIN_CONTRAST_C = 3.0            # a "present" frame has a pixel at least this much warmer for the person,
MIN_HEAT_C_PX = 8.0             # and this much warmth over all pixels (after the lens): a body, not a spot
LAYOUT = ("DIR/empty/*.npy|*.csv and DIR/present/*.npy|*.csv: frames of 64 pixels in degC (rows of 64 values or "
          "[frames, 8, 8]), one recording per file")


def _ellipse(gx, gy, cx, cy, rx, ry, angle=0.0):
    c, s = np.cos(angle), np.sin(angle)
    u, v = (gx - cx) * c + (gy - cy) * s, -(gx - cx) * s + (gy - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1


def _blur(img, sigma):
    """A separable Gaussian blur in pixels (edges replicated)."""
    r = 2
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    p = np.pad(img, r, mode="edge")
    p = np.apply_along_axis(lambda row: np.convolve(row, k, "valid"), 1, p)
    return np.apply_along_axis(lambda col: np.convolve(col, k, "valid"), 0, p)


def _person(scene, gx, gy, rng, mount, room):
    """Draws a person into the fine-grid scene (degC); returns nothing."""
    dist = rng.uniform(0.5, 3.5)
    px_m = 2 * dist * np.tan(np.radians(FOV_DEG / 2)) / SIZE        # metres per sensor pixel at that distance
    height = rng.uniform(1.5, 1.9) / px_m                           # in sensor pixels
    skin = max(rng.uniform(31, 35), room + 4)
    cloth = max(rng.uniform(26, 32), room + 2.5)
    pose = rng.choice(["standing", "sitting", "lying", "entering"]) if mount == "wall" else "above"
    cx, cy = rng.uniform(0.5, SIZE - 0.5), rng.uniform(1.5, SIZE - 0.5)
    if pose == "entering":
        cx = rng.choice([rng.uniform(-0.3, 0.6), rng.uniform(SIZE - 0.6, SIZE + 0.3)])
        pose = "standing"
    tilt = rng.normal(0, 0.15)
    head_r = 0.07 * height
    if pose == "above":             # from the ceiling: head, shoulders, maybe arms
        shoulder = rng.uniform(0.22, 0.28) * height
        ang = rng.uniform(0, np.pi)
        scene[_ellipse(gx, gy, cx, cy, shoulder, 0.45 * shoulder, ang)] = cloth
        scene[_ellipse(gx, gy, cx, cy, head_r * 1.1, head_r * 1.1)] = skin
        return
    if pose == "lying":
        length, ang = height, np.pi / 2 + rng.normal(0, 0.2)
        scene[_ellipse(gx, gy, cx, cy, 0.13 * length, 0.45 * length, ang)] = cloth
        hx, hy = cx + 0.5 * length * np.cos(ang - np.pi / 2), cy + 0.5 * length * np.sin(ang - np.pi / 2)
        scene[_ellipse(gx, gy, hx, hy, head_r, head_r)] = skin
        return
    body_h = height * (0.62 if pose == "sitting" else 1.0)
    top = cy - body_h / 2
    # torso, legs, head (y grows downwards); arms as a wider torso now and then
    torso_w = rng.uniform(0.12, 0.16) * height * (1.3 if rng.random() < 0.3 else 1.0)
    scene[_ellipse(gx, gy, cx, top + 0.37 * body_h, torso_w, 0.2 * body_h, tilt)] = cloth
    scene[_ellipse(gx, gy, cx, top + 0.78 * body_h, 0.09 * height, 0.22 * body_h, tilt)] = cloth - rng.uniform(0, 2)
    scene[_ellipse(gx, gy, cx + tilt * body_h * 0.3, top + head_r * 1.1, head_r, head_r * 1.2)] = skin
    scene[_ellipse(gx, gy, cx, top + 0.28 * body_h, 0.05 * height, 0.05 * height)] = skin - 1   # face/neck
    if rng.random() < 1 / 3:        # a desk or chair back hides the lower part (at room temperature)
        cut = top + body_h * rng.uniform(0.4, 0.8)
        scene[(gy > cut) & (np.abs(gx - cx) < 2 * torso_w + 1)] = room


def _hot_object(scene, gx, gy, rng, room):
    kind = rng.choice(["radiator", "screen", "lamp", "cup", "sun"])
    if kind == "radiator":
        edge = rng.integers(4)
        w, h = rng.uniform(0.6, 1.5), rng.uniform(1.5, 4)
        x0 = [0 - w / 2, SIZE - w / 2, rng.uniform(0, 6), rng.uniform(0, 6)][edge]
        y0 = rng.uniform(2, SIZE - h) if edge < 2 else [0, SIZE - w][edge - 2]
        if edge >= 2:
            w, h = h, w
        scene[(gx >= x0) & (gx < x0 + w) & (gy >= y0) & (gy < y0 + h)] = rng.uniform(40, 65)
    elif kind == "screen":
        cx, cy = rng.uniform(0, SIZE, 2)
        w, h = rng.uniform(0.3, 0.8, 2)
        scene[(np.abs(gx - cx) < w / 2) & (np.abs(gy - cy) < h / 2)] = rng.uniform(30, 36)
    elif kind == "lamp":
        cx, cy = rng.uniform(0, SIZE, 2)
        scene[_ellipse(gx, gy, cx, cy, rng.uniform(0.1, 0.25), rng.uniform(0.1, 0.25))] = rng.uniform(60, 100)
    elif kind == "cup":
        cx, cy = rng.uniform(0, SIZE, 2)
        scene[_ellipse(gx, gy, cx, cy, 0.12, 0.12)] = rng.uniform(50, 70)
    else:                           # a sunlit patch of floor: large, diffuse, a few degrees up
        cx, cy = rng.uniform(0, SIZE), rng.uniform(4, SIZE)
        scene[_ellipse(gx, gy, cx, cy, rng.uniform(1, 2.5), rng.uniform(0.6, 1.5), rng.uniform(0, 3))] += \
            rng.uniform(1, 3)


def sensor(rng):
    """One AMG8833 unit: its fixed per-pixel offsets, lens blur and noise level."""
    return {"offsets": rng.normal(0, 0.15, (SIZE, SIZE)).clip(-0.3, 0.3), "blur": rng.uniform(0.35, 0.6),
            "noise": rng.uniform(0.12, 0.28)}


def room(rng):
    """An empty room as the camera sees it, at the fine grid: (temperatures in degC, the room's temperature,
    the mounting)."""
    n = SIZE * SUPER
    gy, gx = (np.mgrid[0:n, 0:n] + 0.5) / SUPER
    t_room = rng.uniform(16, 28)
    gxs, gys = rng.uniform(-0.12, 0.12, 2)
    img = t_room + gxs * (gx - 4) + gys * (gy - 4)
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        _hot_object(img, gx, gy, rng, t_room)
    return img, t_room, "wall" if rng.random() < 0.6 else "ceiling"


def with_person(img, t_room, mount, rng):
    """The room with a person in it. A person the sensor cannot resolve (after the lens, under MIN_CONTRAST_C on
    every pixel or MIN_HEAT_C_PX in all) is drawn again: such a frame is not a "present" example."""
    n = SIZE * SUPER
    gy, gx = (np.mgrid[0:n, 0:n] + 0.5) / SUPER
    for _ in range(50):
        out = img.copy()
        _person(out, gx, gy, rng, mount, t_room)
        seen = _blur(_pixels(out - img), 0.5)
        if seen.max() >= MIN_CONTRAST_C and seen.sum() >= MIN_HEAT_C_PX:
            break
    return out


def scene(present, rng):
    """The true temperature (degC) over the field of view, at the fine grid, and the room temperature."""
    img, t_room, mount = room(rng)
    return (with_person(img, t_room, mount, rng) if present else img), t_room


def _pixels(fine):
    return fine.reshape(SIZE, SUPER, SIZE, SUPER).mean(axis=(1, 3))


def capture(img, unit, rng):
    """What the sensor reports for a fine-grid scene: pixel means, lens blur, offsets, noise, 0.25 degC steps."""
    px = _pixels(img)
    px = _blur(px, unit["blur"]) + unit["offsets"] + rng.normal(0, unit["noise"], (SIZE, SIZE))
    return (np.round(np.clip(px, 0, 80) / RESOLUTION_C) * RESOLUTION_C).astype(np.float32)


def make_frame(present, rng, unit=None):
    img, _ = scene(present, rng)
    return capture(img, unit or sensor(rng), rng)


def features(frames):
    """[n, 8, 8] degC -> [n, 8, 8, 2]: (t - frame mean) / 4 and (t - 24) / 8, exact in float32 for frames on
    the 0.25 degC grid (the device computes the same in its own float)."""
    f = np.asarray(frames, np.float32).reshape(-1, SIZE, SIZE)
    mean = f.astype(np.float64).sum(axis=(1, 2), keepdims=True) / 64
    rel = ((f - mean) / 4).astype(np.float32)
    absolute = ((f.astype(np.float64) - 24) / 8).astype(np.float32)
    return np.stack([rel, absolute], axis=-1)


class Presence(Job):
    def synthesize(self, n, seed) -> Dataset:
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, size=n)
        x = np.stack([make_frame(bool(k), rng) for k in y])
        return Dataset(x, y, CLASSES, synthetic=True, source=f"synthesized (seed {seed}; host/tinyml/jobs/presence.py)")

    def recording(self, schedule, seed, fps=10):
        """Frames [n, 8, 8] at `fps` from one sensor in one room: `schedule` is [(seconds, present)]; in each
        present segment a person somewhere in the room keeps still; new noise every frame. What the simulated
        AMG8833 plays back."""
        rng = np.random.default_rng(seed)
        unit = sensor(rng)
        empty, t_room, mount = room(rng)
        frames = []
        for secs, present in schedule:
            img = with_person(empty, t_room, mount, rng) if present else empty
            frames += [capture(img, unit, rng) for _ in range(int(secs * fps))]
        return np.array(frames, np.float32)

    def load(self, data_dir) -> Dataset:
        return self.load_labelled(data_dir, (".csv", ".npy"), read_frames)

    def features(self, x):
        return features(x)

    def build_model(self, input_shape, n_classes, board):
        """A small CNN (about 140k MACs, 12 KB as int8): 3x3 convolutions see a body's outline, the max pool
        finds it anywhere."""
        import tensorflow as tf
        L = tf.keras.layers
        return tf.keras.Sequential([
            tf.keras.Input(shape=input_shape),
            L.Conv2D(8, 3, padding="same", activation="relu"),
            L.Conv2D(16, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(24, 3, padding="same", activation="relu"),
            L.GlobalMaxPooling2D(),
            L.Dropout(0.2),
            L.Dense(16, activation="relu"),
            L.Dense(n_classes, activation="softmax"),
        ])


def read_frames(path: Path) -> np.ndarray:
    """A recording of thermal frames as float32 [n, 8, 8] degC (.npy [n, 64] or [n, 8, 8]; .csv rows of 64)."""
    from .base import read_table
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False).astype(np.float32)
        if a.ndim == 3 and a.shape[1:] == (SIZE, SIZE):
            return a
        if a.ndim == 2 and a.shape[1] == SIZE * SIZE:
            return a.reshape(-1, SIZE, SIZE)
        raise TinymlError(f"{path}: expected frames [n, 64] or [n, 8, 8] in degC, got shape {a.shape}")
    return read_table(path, SIZE * SIZE).reshape(-1, SIZE, SIZE)


JOB = Presence(
    name="presence", title="Presence detection (AMG8833 8x8 thermal camera)", metric="accuracy", target=0.95,
    quick=Sizes(train=4000, test=600, epochs=12), full=Sizes(train=30000, test=4000, epochs=40),
    data_layout=LAYOUT,
    extra={"lr": 3e-3, "classes": CLASSES, "fps": 10, "frames_per_look": 3, "period_ms": 5000,
           "arrive_p": 0.6, "leave_p": 0.4})
