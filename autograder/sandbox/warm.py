"""One warm kernel server per submission, in that submission's box (``autograder.forkserver`` runs in it).

``grading.grade_student`` opens ``kernels_for(course, student)`` around the
student's notebooks: it starts the server box and publishes it in ``current``,
which the autograde child (forked from the worker) inherits;
``autograder.kernel.ConfinedKernelManager`` then starts each kernel through the
server (``WarmProvisioner``: the kernel is the server's child, watched through its
connection, with no client process), or cold, in a box of its own, when warm
kernels are switched off (``ConfinedKernelManager.warm``), or the server did not
start, is gone, or serves another folder: then the notebook's log says why.

The server's box is what a kernel's box is (``autograder.box``): the notebook
folder read-only with the course's library and the student's exercise files
over its ``backprop_lib/``, the same environment, the same limits, its own uid
(root) or user namespace. Its writable folder (``Server.scratch``, the grader's)
holds the server's home and socket (``server/``) and one folder per kernel
under ``kernels/`` (the grader's too: a root grader's box cannot rename a
kernel's folder away). The kit's packages stay hidden in the box: the server's one file is
bound read-only at ``SERVER_FILE``, and the integrity verification's runner
beside it (``RUNNER_FILE``): once the notebooks are done, the server forks the
verification too (``autograder.verify``, ``Server.start_verification``). The box
dies with the worker (bubblewrap's --die-with-parent); ``kernels_for`` ends it
after the verification.

What changes against a box per kernel: a submission's kernels share one box,
one after the other (the server kills whatever a notebook left running before
the next one starts); kernels of two students never share one.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

from autograder.sandbox import box, forkserver

SERVER_FILE = "/run/backprop-kit/forkserver.py"
RUNNER_FILE = os.path.join(os.path.dirname(SERVER_FILE), forkserver.RUNNER)  # where the server looks for it
START_SECONDS = 60.0
PING_SECONDS = 15.0
STOP_SECONDS = 15.0

current = None  # the Server of the submission this worker grades, inherited by its autograde children


@dataclass
class Server:
    """A kernel server: its box process (a child of this worker), writable folder, socket, notebook folder,
    box uid."""

    process: subprocess.Popen
    scratch: str
    socket: str
    folder: str
    uid: int | None
    why_not: str = ""

    def ready(self, timeout=START_SECONDS):
        """Whether the server answers with a clean box (waiting while it starts); else sets ``why_not``."""
        if forkserver.wait_ready(self.socket, lambda: _alive(self.process.pid), timeout, min(timeout, PING_SECONDS)):
            return True
        if not _alive(self.process.pid):
            self.why_not = "the submission's kernel server has ended (a kernel may have killed it)"
        else:
            self.why_not = f"the submission's kernel server did not answer within {timeout:g} s"
        return False

    def new_kernel_folder(self):
        """A fresh scratch folder for one kernel, inside the box's writable folder."""
        return tempfile.mkdtemp(prefix="kernel-", dir=os.path.join(self.scratch, "kernels"))

    def start_kernel(self, kernel_arguments, cwd, env):
        """A kernel forked by the server (``forkserver.Child``): ipykernel with ``kernel_arguments``, working in
        ``cwd`` with the environment ``env`` and nothing else; its output goes where this process's goes."""
        request = json.dumps({"argv": list(kernel_arguments), "cwd": cwd, "env": env})
        with open(os.devnull) as nothing:
            return forkserver.Child(self.socket, request, [nothing.fileno(), 1, 2])

    def start_verification(self, names, work, env, limits, start_seconds):
        """The integrity verification of exercises ``names`` forked by the server (``forkserver.Child``): cases in
        ``work``/cases, answers into ``work``/out, its working folder, with the environment ``env`` and
        ``limits`` (an ``autograder.sandbox.box.Limits``); ChildError unless it starts within ``start_seconds``."""
        request = {"verify": list(names), "cwd": os.path.join(work, "out"), "env": env, "limits": asdict(limits)}
        with open(os.devnull) as nothing:
            return forkserver.Child(self.socket, json.dumps(request), [nothing.fileno()] * 3, start_seconds)

    def stop(self):
        """End the server (it cleans its box first) and remove its folder; only in the process that started it."""
        self.process.stdin.close()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def start(manager, folder, submitted):
    """A Server for the notebooks that run in ``folder``; the student's exercise files are bound from
    ``submitted``, where nbgrader copies them from into ``folder``."""
    folder, scratch = str(folder), tempfile.mkdtemp(prefix="backprop-warm-")
    os.chmod(scratch, 0o755)
    home, kernels = os.path.join(scratch, "server"), os.path.join(scratch, "kernels")
    os.mkdir(home)
    os.mkdir(kernels)
    os.chmod(kernels, 0o711)  # the box's uid reaches its folders; nobody lists them (a verification's holds cases)
    env = box.kernel_environment(home)
    if manager.font_cache and os.path.isdir(manager.font_cache):
        shutil.copytree(manager.font_cache, env["MPLCONFIGDIR"], dirs_exist_ok=True)
    box.give_to_box(home)
    libraries = box.library_binds(manager.library, folder, submitted)
    Path(folder, "backprop_lib" if libraries else "").mkdir(parents=True, exist_ok=True)  # the mount points
    read_only = ((folder, folder), *libraries, (forkserver.__file__, SERVER_FILE), (str(box.RUNNER), RUNNER_FILE))
    limits = box.Limits(manager.cpu_seconds, manager.memory_bytes, manager.file_size_bytes, 1024, manager.processes)
    socket_path = os.path.join(home, "server.sock")
    command = [sys.executable, SERVER_FILE, "serve", socket_path, folder]
    argv = box.argv(box.Box(scratch, read_only, env, folder, limits), command)
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    return Server(process, scratch, socket_path, folder, box.box_uid())


class WarmProvisioner(LocalProvisioner):
    """jupyter_client's provisioner of a kernel that the submission's kernel server forks: its process is the
    server's ``forkserver.Child``, polled, waited for and killed through its connection. ``parent`` (the kernel
    manager) names the ``server``, the notebook ``folder`` and the kernel's environment (``kernel_env``)."""

    async def launch_kernel(self, cmd, **kwargs):
        manager = self.parent
        self.process = manager.server.start_kernel(cmd, manager.folder, manager.kernel_env)
        self.pid, self.pgid, self.cwd = self.process.pid, None, manager.folder
        return self.connection_info


def _alive(pid):
    """Whether process ``pid`` runs (not gone, not a zombie); works in any process, not only its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
