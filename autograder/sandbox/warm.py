"""One kernel server per submission, in that submission's box (``autograder.sandbox.forkserver`` runs there).

``kernel.kernels_for`` starts it around a student's notebooks and publishes it
in ``current``, which the autograde child inherits; ``kernel.ConfinedKernelManager``
then starts each kernel through it (``WarmProvisioner``: the kernel is the
server's child, watched through its connection), or cold, in a box of its own,
when the server did not start, is gone or serves another folder (the notebook's
log says why). Once the notebooks are done, the server forks the integrity
verification too (``autograder.sandbox.verify``).

The box (``box.server_box``) runs the server under a uid of its own with three
capabilities; it starts each kernel under the kernels' uid and the verification
under the verifier's, with none, so no student process can signal, trace or
replace it, or reach its folder (``server/``, mode 0700: its home and socket).
The grader owns the writable folder and ``kernels/`` (one folder per kernel, and
the verification's). Only a root grader has uids to give (``box.warm_possible``).
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

START_SECONDS = 60.0
PING_SECONDS = 15.0
STOP_SECONDS = 15.0

current = None  # the Server of the submission this worker grades, inherited by its autograde children


@dataclass
class Server:
    """A kernel server: its box process (a child of this worker), writable folder, socket, notebook folder, and
    the uids its kernels and its verification run as."""

    process: subprocess.Popen
    scratch: str
    socket: str
    folder: str
    kernel_uid: int
    verifier_uid: int
    why_not: str = ""

    def ready(self, timeout=START_SECONDS):
        """Whether the server answers with a clean box (waiting while it starts); else sets ``why_not``."""
        if forkserver.wait_ready(self.socket, lambda: _alive(self.process.pid), timeout, min(timeout, PING_SECONDS)):
            return True
        if not _alive(self.process.pid):
            self.why_not = "the submission's kernel server has ended"
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


def start(manager, folder, shown):
    """A Server for the notebooks that run in ``folder``, where its box shows the student's files ``shown``; its
    limits, library and fonts are ``manager``'s (a ``kernel.ConfinedKernelManager``)."""
    folder, scratch = str(folder), tempfile.mkdtemp(prefix="backprop-warm-")
    os.chmod(scratch, 0o755)
    home, kernels = os.path.join(scratch, "server"), os.path.join(scratch, "kernels")
    os.mkdir(home)
    os.mkdir(kernels)
    os.chmod(kernels, 0o711)  # the box's uids reach their folders; nobody lists them (a verification's holds cases)
    env = box.environment(home)
    if manager.font_cache and os.path.isdir(manager.font_cache):
        shutil.copytree(manager.font_cache, env["MPLCONFIGDIR"], dirs_exist_ok=True)
    box.give_to_box(home, box.uid(box.SERVER))
    os.chmod(home, 0o700)
    socket_path = os.path.join(home, "server.sock")
    uids = box.uid(box.KERNELS), box.uid(box.VERIFIER)
    command = [sys.executable, box.SERVER_FILE, "serve", socket_path, folder, *map(str, uids)]
    server_box = box.server_box(scratch, folder, str(shown), manager.library, env, manager.limits())
    process = box.start(server_box, command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    return Server(process, scratch, socket_path, folder, *uids)


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
