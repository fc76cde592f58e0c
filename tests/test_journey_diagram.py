"""docs/img/model-journey.svg (docs/architecture.md, "From Keras to the chip") is what tools/journey_diagram.py
draws today, and every file the picture names exists (so a rename shows up here)."""

import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import journey_diagram  # noqa: E402


def test_committed_picture_is_current():
    assert journey_diagram.OUT.read_text() == journey_diagram.draw(), \
        "docs/img/model-journey.svg is out of date: run `python3 tools/journey_diagram.py` and commit it"


def test_the_files_it_names_exist():
    for path in ("host/tinyml/convert.py", "host/tinyml/check.py", "host/tinyml/build.py", "host/tinyml/deploy.py",
                 "native_modules/engine/tm_model.c"):
        assert (REPO / path).is_file(), path
        assert path.rsplit("/", 1)[1] in journey_diagram.OUT.read_text()
