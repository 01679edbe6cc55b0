"""Warm kernels (autograder.sandbox.warm, .forkserver): a kernel forked from a submission's server is the
kernel a cold start gives, nothing a notebook leaves running reaches the next one, and a student who breaks
the server only loses speed. Real bubblewrap boxes, real ipykernel kernels."""

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import box, forkserver, warm
from autograder.sandbox.kernel import WARM_FAILED, ConfinedKernelManager
from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.workspace import copy_library

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(box.BWRAP) is None, reason="bubblewrap is not installed"),
]

SEEN = """
import json, os, sys, tempfile, matplotlib
home = os.environ["HOME"]
print(json.dumps({
    "path": sys.path,
    "argv0": sys.argv[0],
    "env": {k: v.replace(home, "HOME") for k, v in os.environ.items()},
    "cwd": os.getcwd(),
    "tmp": tempfile.gettempdir().replace(home, "HOME"),
    "backend": matplotlib.get_backend(),
    "student modules": sorted(set(sys.modules) & {"backprop_lib." + m for m in EXERCISE_MODULES}),
}))
""".replace("EXERCISE_MODULES", repr(EXERCISE_MODULES))
FIGURE_AND_WIDGET = """
import matplotlib.pyplot as plt, ipywidgets
plt.plot([1, 2])
display(ipywidgets.IntSlider())
"""
PROCESSES = "import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))"


@pytest.fixture
def folder(tmp_path):
    """A notebook folder with a student's library, and the course's library beside it."""
    (tmp_path / "notebook").mkdir()
    copy_library(tmp_path / "notebook" / "backprop_lib")
    copy_library(tmp_path / "library")
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "fonts")}  # as the course build prepares it
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True)
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tmp_path


@pytest.fixture
def server(folder):
    manager = ConfinedKernelManager(library=str(folder / "library"), font_cache=str(folder / "fonts"))
    warm.current = warm.start(manager, folder / "notebook", folder / "notebook")
    yield warm.current
    warm.current.stop()
    assert not os.path.exists(warm.current.scratch)
    warm.current = None


async def run(folder, *cells, warm_kernel=True, kill_kernel=False, timeout=60):
    """The text each cell printed (display data: its MIME types), in a fresh confined kernel; and its manager."""
    library, fonts = str(folder / "library"), str(folder / "fonts")
    manager = ConfinedKernelManager(library=library, font_cache=fonts, warm=warm_kernel, log=logging.getLogger("warm"))
    await manager.start_kernel(cwd=str(folder / "notebook"))
    client = manager.client()
    client.start_channels()
    outputs = []
    try:
        await client.wait_for_ready(timeout=60)
        for cell in cells:
            texts = []

            def keep(message, texts=texts):
                content = message["content"]
                if message["msg_type"] == "stream":
                    texts.append(content["text"])
                elif message["msg_type"] in ("display_data", "execute_result"):
                    texts.append(" ".join(sorted(content["data"])))
                elif message["msg_type"] == "error":
                    texts.append(f"{content['ename']}: {content['evalue']}")

            await client.execute_interactive(cell, output_hook=keep, timeout=timeout)
            outputs.append("".join(texts).strip())
    finally:
        client.stop_channels()
        if kill_kernel:
            manager.provisioner.process.kill()
        await manager.shutdown_kernel(now=kill_kernel)
    return outputs, manager


def test_a_warm_kernel_sees_what_a_cold_one_sees(folder, server):
    (warm_seen, warm_shown), _ = asyncio.run(run(folder, SEEN, FIGURE_AND_WIDGET))
    (cold_seen, cold_shown), _ = asyncio.run(run(folder, SEEN, FIGURE_AND_WIDGET, warm_kernel=False))
    assert json.loads(warm_seen) == json.loads(cold_seen)
    assert json.loads(warm_seen)["student modules"] == []
    assert warm_shown == cold_shown == "application/vnd.jupyter.widget-view+json text/plain" + "image/png text/plain"


def test_every_warm_kernel_draws_its_own_random_numbers(folder, server):
    """The server imports numpy.random and random before it forks: each kernel must still draw fresh entropy, as a
    cold kernel's own import does, or every notebook of a submission would see the same 'random' data."""
    draw = "import random, numpy as np; print(np.random.rand(), np.random.default_rng().random(), random.random())"
    draws = [asyncio.run(run(folder, draw))[0][0].split() for _ in range(2)]
    assert all(first != second for first, second in zip(*draws, strict=True)), draws


def test_nothing_a_notebook_leaves_running_reaches_the_next_kernel(folder, server):
    leave = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\nprint('left one')"
    assert asyncio.run(run(folder, leave))[0] == ["left one"]
    asyncio.run(run(folder, leave, kill_kernel=True))  # killed through its connection: the server kills the kernel
    (processes,), _ = asyncio.run(run(folder, PROCESSES))
    assert len(json.loads(processes)) == 3, processes  # the box's init, the server, this kernel


ATTACKS = """
import ctypes, os, signal
server, done = os.getppid(), []
for name, attack in [
    ("stop", lambda: os.kill(server, signal.SIGSTOP)),
    ("kill", lambda: os.kill(server, signal.SIGKILL)),
    ("environ", lambda: open(f"/proc/{server}/environ").read()),
    ("memory", lambda: open(f"/proc/{server}/mem", "rb").read(1)),
    ("socket", lambda: os.unlink(SOCKET)),
    ("home", lambda: open(os.path.join(os.path.dirname(SOCKET), "planted"), "w").write("x")),
]:
    try:
        attack()
        done.append(name)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(16, server, None, None) == 0:  # PTRACE_ATTACH
    done.append("ptrace")
print(done)
"""


def test_a_kernel_can_neither_stop_kill_trace_nor_replace_its_server(folder, server):
    """The server runs as a uid of its own: its kernels (another uid, no capability) cannot signal it, trace it,
    read its memory or environment, or touch its folder and socket; every later notebook still gets a warm kernel."""
    (done,), _ = asyncio.run(run(folder, ATTACKS.replace("SOCKET", repr(server.socket))))
    assert done == "[]"
    (processes,), manager = asyncio.run(run(folder, PROCESSES))
    assert manager.server is server and len(json.loads(processes)) == 3  # init, the server, this kernel
    assert server.ready(5) and os.path.exists(server.socket)


def test_a_server_that_is_gone_makes_the_next_kernels_start_cold(folder, server, caplog):
    server.process.kill()  # the machine may end it (out of memory, say); no student process can
    with caplog.at_level(logging.WARNING, logger="warm"):
        (processes,), manager = asyncio.run(run(folder, PROCESSES))
    assert manager.server is None and len(json.loads(processes)) == 2  # a box of its own: init and the kernel
    assert f"{WARM_FAILED} the submission's kernel server has ended" in caplog.text


def test_a_warm_kernel_restarted_cold_gets_jupyter_clients_own_provisioner(folder, server):
    """jupyter_client keeps a manager's provisioner through a restart: a kernel restarted cold (no server for it
    any more) must not go to the kernel server."""
    manager = ConfinedKernelManager(library=str(folder / "library"), font_cache=str(folder / "fonts"))

    async def restart_cold():
        kinds = []
        await manager.start_kernel(cwd=str(folder / "notebook"))
        kinds.append(type(manager.provisioner).__name__)
        manager.warm = False
        await manager.restart_kernel()
        kinds.append(type(manager.provisioner).__name__)
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
        finally:
            client.stop_channels()
            await manager.shutdown_kernel()
        return kinds

    assert asyncio.run(restart_cold()) == ["WarmProvisioner", "LocalProvisioner"]


def test_the_server_says_why_it_refuses_a_request(server):
    not_a_kernel = json.dumps({"argv": [1], "cwd": "/", "env": {}})
    unknown_limit = json.dumps({"verify": ["relu_backward"], "cwd": "/", "env": {}, "limits": {"nice": 40}})
    assert server.ready()
    with pytest.raises(forkserver.ChildError, match="refused the request: argv, exercise names and env hold strings"):
        forkserver.Child(server.socket, not_a_kernel, [0, 1, 2])
    with pytest.raises(forkserver.ChildError, match="refused the request: limits are whole numbers of cpu_seconds"):
        forkserver.Child(server.socket, unknown_limit, [0, 1, 2])
    assert server.ready()


LEAVE_STATE = """
import ctypes, os
os.makedirs("/tmp/left/deep", exist_ok=True)
open("/tmp/left/deep/file", "w").write("from notebook 1")
os.chmod("/tmp/left", 0)
open("/dev/shm/left", "w").write("from notebook 1")
libc = ctypes.CDLL(None, use_errno=True)
print(libc.shmget(0x1234, 4096, 0o1666) >= 0)
"""
FIND_STATE = """
import os
found = sorted(set(os.listdir("/tmp")) - MOUNTED) + os.listdir("/dev/shm")
found += open("/proc/sysvipc/shm").read().splitlines()[1:]
print(found)
"""


def test_what_a_notebook_leaves_in_the_box_s_shared_places_never_reaches_the_next(folder, server):
    # /tmp shows the folders bound under it as mount points (the interpreter's too, in a checkout under /tmp)
    binds = [Path(server.scratch), folder, *(Path(shown) for _, shown in box.python_binds())]
    mounted = {path.relative_to("/tmp").parts[0] for path in binds if path.is_relative_to("/tmp")}
    (made,), _ = asyncio.run(run(folder, LEAVE_STATE))
    assert made == "True"
    (found,), manager = asyncio.run(run(folder, FIND_STATE.replace("MOUNTED", repr(mounted))))
    assert manager.server is server and found == "[]"


def test_no_kernel_makes_a_user_namespace_or_reads_the_grader_s_environment(folder, server, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "never-in-a-box")
    refuse = "import subprocess\nprint(subprocess.run(['unshare', '-Ur', 'true'], capture_output=True).returncode != 0)"
    leak = "try:\n    print('never-in-a-box' in open('/proc/1/environ').read())\nexcept OSError:\n    print(False)"
    for warm_kernel in (True, False):
        (refused, leaked), _ = asyncio.run(run(folder, refuse, leak, warm_kernel=warm_kernel))
        assert (refused, leaked) == ("True", "False"), warm_kernel
