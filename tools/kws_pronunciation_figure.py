"""docs/tutorials/img/kws-pronunciation.png: what the keyword model hears (the device's frontend, as int8) for
"hey I O T" as espeak-ng reads it (the pronoun "I"), the keyword as the job says it (the letters, kws_data.SPOKEN),
and the negative "hey A O T", each said by the same voices. Two of espeak-ng's Caribbean (en-029) voices, where
the pronoun reading is nearly the negative, and one British voice, where it is not.

    .venv/bin/python tools/kws_pronunciation_figure.py [OUT.png]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from tinyml.jobs import kws, kws_data as kd  # noqa: E402

VOICES = (("en-029+zac", 190, 67), ("en-029+norbert", 144, 43), ("en-gb+AnxiousAndy", 170, 50))
SAID = (("hey I O T", "told \"hey I O T\" (the pronoun I)"), (kd.KEYWORD, "the keyword, as the job says it"),
        ("hey A O T", "\"hey A O T\" (a negative)"))


def features(u):
    """The int8 features of utterance u after 0.5 s of near-silence (the frontend's noise estimate settles)."""
    noise = np.random.default_rng(0).normal(0, 3, len(u) + 8000)
    pcm = np.round(np.concatenate([np.zeros(8000), u * 3000]) + noise).astype(np.int16)
    return kws.to_int8(kws.frontend().process(pcm))[50:]


def main(out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(len(VOICES), len(SAID), figsize=(10, 5.4), dpi=80, sharey=True)
    for r, voice in enumerate(VOICES):
        for c, (text, title) in enumerate(SAID):
            f = features(kd.say(text, *voice))
            ax = axs[r, c]
            ax.imshow(f.T, origin="lower", aspect="auto", cmap="magma", extent=(0, 10 * len(f), 0, 40))
            ax.set_title(f"{voice[0]}: {title}" if c == 0 else title, fontsize=8)
            if c == 0:
                ax.set_ylabel("channel (low to high)", fontsize=7)
            if r == len(VOICES) - 1:
                ax.set_xlabel("ms", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(out)
    from PIL import Image       # a 64-colour palette: a third of the bytes, no visible change
    Image.open(out).convert("RGB").quantize(64).save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/tutorials/img/kws-pronunciation.png")
