"""`tinyml mip-dist`: the folder mip installs from (the runtime's package.json, the engine per arch as
ARCH_6.3/tinyml.mpy), served from a loopback HTTP server and installed onto the emulated Cortex-M4 board with the
real `mpremote mip install` (mpremote downloads on the host and writes the files over the serial REPL, so the
board needs no network); `tinyml deploy --dist URL` computes the engine's URL from what the board reports."""

import contextlib
import functools
import json
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from conftest import MODELS, REPO
from tinyml import TinymlError, oracle
from tinyml.board_compat import BoardReport, mpy_file_arch
from tinyml.boards import get_board
from tinyml.deploy import deploy, prepare_emulated_fs
from tinyml.device_package import package_files, package_json
from tinyml.mip_dist import engine_location, make_dist
from tinyml.model_info import read_model
from tinyml.paths import venv_tool
from tinyml.targets.qemu import QemuTarget

HELLO = MODELS / "hello_world.tflite"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The engine with hello_world's one kernel, --small: 20 KB to move over the emulated UART, not 100+."""
    out = tmp_path_factory.mktemp("dist")
    make_dist(out, archs=("armv7emsp",), model=HELLO, small=True, echo=lambda *_: None)
    return out


@contextlib.contextmanager
def served(directory):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()


def test_dist_layout(dist):
    pkg = json.loads((dist / "package.json").read_text())
    runtime = [rel[:-3] + ".mpy" for _, rel in package_files()]
    assert [dest for dest, _ in pkg["urls"]] == runtime and all(src == dest for dest, src in pkg["urls"])
    for rel in runtime:
        version, _, arch = mpy_file_arch((dist / rel).read_bytes())
        assert (version, arch) == (6, None), rel                                 # bytecode: any arch
    assert mpy_file_arch((dist / "armv7emsp_6.3" / "tinyml.mpy").read_bytes()) == (6, 3, "armv7emsp")


def test_repository_package_json_is_in_step():
    """device/package.json, for `mpremote mip install github:OWNER/REPO/device` or a local
    `mpremote mip install device/package.json`, lists every runtime file (`tinyml device-package --package-json
    device/package.json` regenerates it)."""
    pkg = json.loads((REPO / "device" / "package.json").read_text())
    assert pkg == package_json()
    assert all((REPO / "device" / src).is_file() for _, src in pkg["urls"])


def test_engine_location_per_board(dist):
    base = "https://example.org/tinyml"
    cases = {(11014, "ESP32 module with ESP32"): "xtensawin", (4870, "Raspberry Pi Pico with RP2040"): "armv6m",
             (7942, "Raspberry Pi Pico2 with RP2350"): "armv7m", (7942, "Arduino Nano 33 BLE Sense with NRF52840"):
             "armv7emsp", (6918, "QEMU mps2 with Cortex-M4F/M7"): "armv7m"}
    from tinyml.board_compat import match_board
    from tinyml.boards import load_boards
    for (mpy, machine), arch in cases.items():
        report = BoardReport(mpy=mpy, version=(1, 24, 0), machine=machine)
        url, got = engine_location(base, report, match_board(report, load_boards()))
        assert (url, got) == (f"{base}/{arch}_6.3/tinyml.mpy", arch), machine
    m4 = BoardReport(mpy=7942, version=(1, 23, 0))
    assert engine_location(str(dist), m4, get_board("qemu-m4")) == (str(dist / "armv7emsp_6.3" / "tinyml.mpy"),
                                                                      "armv7emsp")
    with pytest.raises(TinymlError, match=r"armv6m_6.3/tinyml.mpy not found: this dist has armv7emsp_6.3"):
        engine_location(str(dist), BoardReport(mpy=4870, version=(1, 24, 0)), None)


def test_mip_install_from_http_onto_the_emulated_board(dist, tmp_path):
    fs = tmp_path / "fs"
    prepare_emulated_fs(fs)
    lines = []
    with served(dist) as url, QemuTarget("qemu-m4").serve_pty(fs) as pty:
        # The runtime with mpremote's own mip. The emulated board's sys.path has no /lib: install at the root.
        mip = subprocess.run([venv_tool("mpremote"), "connect", pty, "mip", "install", "--target", "/",
                              f"{url}/package.json"], capture_output=True, text=True, timeout=300)
        # The engine: deploy asks the board, computes ARCH_6.3/tinyml.mpy's URL and installs it with mip too.
        result = deploy(HELLO, port=pty, dist=url, echo=lines.append)
        ran = subprocess.run([venv_tool("mpremote"), "connect", pty, "exec",
                              "from tinyml_device.ring import Ring\nimport tinyml_device, hello_world\n"
                              "print('RUN', tinyml_device.VERSION, Ring(2).capacity, hello_world.model)"],
                             capture_output=True, text=True, timeout=60)
    assert mip.returncode == 0 and mip.stdout.rstrip().endswith("Done"), mip.stdout + mip.stderr
    for dest, _ in json.loads((dist / "package.json").read_text())["urls"]:
        assert (fs / dest).read_bytes() == (dist / dest).read_bytes(), dest
    text = "\n".join(lines)
    assert f"engine: {url}/armv7emsp_6.3/tinyml.mpy (arch armv7emsp" in text, text
    assert f"mip install --target / {url}/armv7emsp_6.3/tinyml.mpy" in text, text
    assert (fs / "tinyml.mpy").read_bytes() == (dist / "armv7emsp_6.3" / "tinyml.mpy").read_bytes()
    assert (fs / "hello_world.tflite").read_bytes() == HELLO.read_bytes()
    info = read_model(HELLO)
    zero = [np.full(t.shape, t.zero_point, dtype=t.dtype) for t in info.inputs]
    assert result.outputs == [o.tobytes() for o in oracle.invoke(HELLO, zero)]
    assert ran.returncode == 0 and "RUN 0.1.0 2 <Model: 3 ops" in ran.stdout, ran.stdout + ran.stderr
