"""A kernel server: in a submission's box, it forks a fresh ipykernel per notebook, and then the verification.

A fresh kernel pays for starting Python and importing ipykernel, IPython, numpy
and the kit's notebook support, every notebook again. The server (``serve``)
pays for them once (``PRELOADED``: never a student's exercise module), then
listens on a unix socket in its own folder and forks a child per request. The
child drops to the student's uid (the kernels' or the verifier's: no
capability left), and becomes exactly the kernel a cold start gives
(``become_kernel``: fresh stdin/stdout/stderr, working folder, environment and
random state, ``sys.path`` and ``sys.argv`` as ``python -m ipykernel_launcher``
has them) or the verification (``become_verifier``: the runner beside this
file, within the verification's lower limits). When a child ends, the server
kills every other process of the box and removes what the kernels left in the
box's ``/tmp``, ``/dev/shm`` and System V IPC, so the next notebook starts as in
a box of its own; a ping answers ready only for a box in that state.

``Child`` is the grader's side (stdlib only): the child's handle, as
``subprocess.Popen`` is a process's. Protocol: SOCK_SEQPACKET, one JSON message
per packet: ``{"ping": true}`` -> ``{"ready": BOOL}``; ``{"argv", "cwd", "env"}``
(a kernel) or ``{"verify", "cwd", "env", "limits"}`` (the verification) with
three descriptors attached -> ``{"pid": PID}``, then ``{"exit": STATUS}`` once it
ended and the box is clean (or ``{"error": WHY}``). This file runs by its path
in the box (the kit's packages are hidden there): the standard library only at
module level. docs/autograder.md ("Warm kernels") tells why it is built so.
"""

import contextlib
import ctypes
import gc
import json
import os
import resource
import select
import selectors
import signal
import socket
import sys
import time
import traceback

# What every kernel imports while it starts (ipykernel's kernel, its debugger support) and what every
# notebook's graded path imports (numpy.random: a kernel reseeds it, as a fresh import draws fresh entropy).
# matplotlib, scikit-learn and ipywidgets are left out: only illustration cells import them, and those are
# skipped in an unchanged copy (autograder.illustrations).
# A student's exercise modules are never preloaded: they are imported in the kernel, from the student's files.
PRELOADED = (
    "numpy",
    "numpy.random",
    "faulthandler",
    "secrets",
    "IPython.core.logger",
    "IPython.display",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.magics.extension",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "psutil",
    "sqlite3",
    "tornado.platform.asyncio",
    "backprop_lib",
    "backprop_lib.kit.notebook",
    "backprop_lib.kit.gradcheck",
    "backprop_lib.kit.selfcheck",
)
LIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    "memory_bytes": resource.RLIMIT_AS,
    "file_bytes": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
    "processes": resource.RLIMIT_NPROC,
}  # what a verification request may lower, by autograder.box.Limits' names
RUNNER = "runner.py"  # the verification's runner, bound beside this file (autograder.sandbox.box)
PACKET = 1 << 20
SWEEP_SECONDS = 10.0
PR_SET_DUMPABLE, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 47, 4
CAPABILITY_VERSION_3 = 0x20080522
SHARED = ("/tmp", "/dev/shm")  # the box's folders every uid may write
_mounted = {}  # their entries as the box began (the mount points of its binds): never a kernel's
IPC = {"shm": "shmctl", "sem": "semctl", "msg": "msgctl"}  # /proc/sysvipc/<kind>: the call that removes one


def serve(path, folder, kernel_uid, verifier_uid):
    """Preload, listen on ``path`` and fork a kernel (as ``kernel_uid``) or the verification (as ``verifier_uid``)
    per request, until stdin ends."""
    _prctl(PR_SET_DUMPABLE, 0)
    _mounted.update({shared: set(os.listdir(shared)) for shared in SHARED if os.path.isdir(shared)})
    os.chdir(folder)
    sys.path[0] = folder  # as a kernel's `-m ipykernel_launcher` started here has it, until the launcher removes it
    preloaded, exported = _preload()
    _compile_tokenizer()
    listener = listen(path)
    print(
        f"forkserver: ready in {_cpu(resource.RUSAGE_SELF):.2f} s of CPU, preloaded {', '.join(preloaded)}",
        file=sys.stderr,
        flush=True,
    )
    Server(listener, exported, (int(kernel_uid), int(verifier_uid))).run()


def listen(path):
    """The listening socket at ``path`` of a server whose imports are done; refuses to serve if they started a
    thread (a fork copies only the forking one), and freezes what they loaded, so that it stays shared with the
    children instead of being copied by the garbage collector."""
    import threading

    if threading.active_count() != 1:
        raise SystemExit(f"forkserver: a preloaded library started a thread ({threading.enumerate()}); no fork")
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(8)
    return listener


def _preload():
    """Import PRELOADED; returns the names imported and the environment variables the imports set (a kernel
    gets them as a cold one does: ipykernel's debugger support sets PYDEVD_USE_FRAME_EVAL)."""
    before, loaded = dict(os.environ), []
    for name in PRELOADED:
        try:
            __import__(name)
            loaded.append(name)
        except Exception as error:  # a library that cannot load here is imported by the kernel, as cold
            print(f"forkserver: not preloaded: {name}: {type(error).__name__}: {error}", file=sys.stderr)
    return loaded, {name: value for name, value in os.environ.items() if before.get(name) != value}


def _compile_tokenizer():
    """IPython tokenizes every cell it runs: compiling tokenize's patterns here spares every kernel doing it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return
    TransformerManager().transform_cell("x = 1\n")


class Server:
    """The event loop: the listening socket, each client's connection, each child's pidfd; ``exported``: the
    environment variables the preloads set, which every kernel gets.

    A subclass serves other children (``autograder.distributed``'s grading server): it says what a request
    holds (``validate``), what the forked child does (``child``), and what to clean after each child and at
    the end (``after_child``, ``finish``).
    """

    what = "kernel"

    def __init__(self, listener, exported=None, uids=(None, None)):
        self.listener, self.exported, self.selector = listener, exported or {}, selectors.DefaultSelector()
        self.kernel_uid, self.verifier_uid = uids
        self.children = {}  # connection -> (pid, pidfd, what the child is)
        self.selector.register(listener, selectors.EVENT_READ)
        self.selector.register(0, selectors.EVENT_READ, "stdin")

    def run(self):
        """Serve until stdin ends (the grader closed it, or died): then clean up (``finish``) and return."""
        while True:
            for key, _ in self.selector.select():
                if self.selector.get_map().get(key.fd) is not key:
                    continue  # closed by an earlier event of this batch: a connection and its child's end at once
                if key.data == "stdin":
                    if not os.read(0, 4096):
                        self.finish()
                        print(
                            f"forkserver: done, {_cpu(resource.RUSAGE_SELF):.2f} s of CPU, {self.what}s "
                            f"{_cpu(resource.RUSAGE_CHILDREN):.2f} s",
                            file=sys.stderr,
                            flush=True,
                        )
                        return
                elif key.fileobj is self.listener:
                    connection, _ = self.listener.accept()
                    self.selector.register(connection, selectors.EVENT_READ, "connection")
                elif key.data == "connection":
                    self.receive(key.fileobj)
                else:
                    self.ended(key.data)

    def receive(self, connection):
        try:
            data, fds, _, _ = socket.recv_fds(connection, PACKET, 3)
        except OSError:
            data, fds = b"", []
        if not data:  # the client went away: its kernel goes too
            self.close(connection)
            return
        try:
            request = json.loads(data)
            if request.get("ping"):
                connection.send(json.dumps({"ready": self.clean()}).encode())
            elif connection not in self.children and len(fds) == 3:
                self.fork(connection, request, fds)
            else:
                raise ValueError(f"one {self.what} per connection, with stdin, stdout and stderr attached")
        except (ValueError, TypeError, KeyError, AttributeError, OSError) as error:
            print(f"forkserver: refused a request: {error}", file=sys.stderr)
            with contextlib.suppress(OSError):
                connection.send(json.dumps({"error": f"the {self.what} server refused the request: {error}"}).encode())
            self.close(connection)
        finally:
            for fd in fds:
                os.close(fd)

    def validate(self, request):
        """Raise TypeError unless ``request`` is a kernel's (argv, cwd and env) or a verification's (``verify``:
        exercise names, cwd, env and ``limits``: resource name to number), strings and numbers only."""
        words, env = list(request.get("verify") or request["argv"]), dict(request["env"])
        if not all(isinstance(x, str) for x in [*words, str(request["cwd"]), *env, *env.values()]):
            raise TypeError("argv, exercise names and env hold strings only")
        limits = dict(request.get("limits", {}))
        if not all(name in LIMITS and type(value) is int and value >= 0 for name, value in limits.items()):
            raise TypeError(f"limits are whole numbers of {', '.join(LIMITS)}")

    def child(self, request, fds):
        """In the forked child: become the kernel or the verification ``request`` asks for; returns its exit
        status."""
        if request.get("verify"):
            become(self.verifier_uid)
            limits = request.get("limits", {})
            return become_verifier(list(request["verify"]), str(request["cwd"]), request["env"], limits, fds)
        become(self.kernel_uid)
        env = {**self.exported, **request["env"]}  # what the imports set, unless the kernel's own env says otherwise
        return become_kernel(list(request["argv"]), str(request["cwd"]), env, fds)

    def clean(self):
        """Whether the box is clean, as a ping's answer says: no child of an earlier request, no process it left,
        nothing left in the box's shared folders or IPC."""
        return not self.children and not _others() and not _left_behind()

    def name(self, request):
        """What the child ``request`` asks for is, in the server's messages."""
        return "verification" if request.get("verify") else self.what

    def after_child(self, what):
        """A child (``what``: its name) ended: kill what it left in the box, and remove what its uid left in the
        box's shared places."""
        sweep()
        tidy(self.verifier_uid if what == "verification" else self.kernel_uid)

    def finish(self):
        """Serving ends: kill everything left in the box."""
        sweep()

    def fork(self, connection, request, fds):
        self.validate(request)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as error:
            why = f"the {self.what} server could not fork ({error})"
            connection.send(json.dumps({"error": why}).encode())
            raise
        if pid == 0:
            code = 1
            try:
                code = self.child(request, fds)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        pidfd = os.pidfd_open(pid)
        self.children[connection] = (pid, pidfd, self.name(request))
        self.selector.register(pidfd, selectors.EVENT_READ, connection)
        connection.send(json.dumps({"pid": pid}).encode())

    def ended(self, connection):
        """A child ended: reap it, clean up after it, tell its client how it ended."""
        pid, pidfd, what = self.children.pop(connection)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        try:
            _, status, usage = os.wait4(pid, 0)
            cpu = usage.ru_utime + usage.ru_stime
        except ChildProcessError:  # reaped by an earlier clean-up (another child ended first and swept the box)
            status, cpu = signal.SIGKILL, 0.0
        self.after_child(what)
        print(f"forkserver: {what} {pid} ended ({_status(status)}), {cpu:.2f} s of CPU", file=sys.stderr, flush=True)
        try:
            connection.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
        except OSError:
            pass
        self.close(connection)

    def close(self, connection):
        if connection in self.children:
            pid = self.children[connection][0]
            os.kill(pid, signal.SIGKILL)
            self.ended(connection)  # reaps, sweeps and closes
            return
        self.selector.unregister(connection)
        connection.close()


def _cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _status(status):
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def sweep():
    """Kill every process of the box but its init and this server, and wait until they are gone."""
    deadline = time.monotonic() + SWEEP_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        if not _others():
            return
        time.sleep(0.005)


def _others():
    """Processes of the box other than its init and this server (zombies included until reaped)."""
    mine = {"1", str(os.getpid())}
    return [entry for entry in os.listdir("/proc") if entry.isdigit() and entry not in mine]


def become(uid):
    """In a forked child: run as ``uid`` (groups, real, effective and saved ids) with no capability at all."""
    if uid is None:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0), (ctypes.c_uint32 * 6)()
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset: the capabilities could not be dropped")


def tidy(uid):
    """As ``uid`` (the kernels', once none runs), remove what they left in the box's /tmp, /dev/shm and System V
    IPC (best effort: ``_left_behind`` tells what remains)."""
    pid = os.fork()
    if pid == 0:
        try:
            become(uid)
            for folder in SHARED:
                _empty(folder)
            _remove_ipc()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _empty(folder):
    """Remove every entry of ``folder`` this process owns, whatever the modes its folders were left with."""
    import shutil

    for entry in _left_in(folder):
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
            for root, folders, _ in os.walk(path):
                for name in folders:
                    with contextlib.suppress(OSError):
                        os.chmod(os.path.join(root, name), 0o700, follow_symlinks=False)
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _remove_ipc():
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, call in IPC.items():
        for identifier in _ipc_ids(kind):
            getattr(libc, call)(identifier, *((0, 0) if kind == "sem" else (0, None)))  # IPC_RMID is 0


def _ipc_ids(kind):
    """The ids of the box's System V IPC objects of ``kind`` (the box has an IPC namespace of its own)."""
    try:
        with open(f"/proc/sysvipc/{kind}") as table:
            rows = table.read().splitlines()[1:]
    except OSError:
        return []
    return [int(row.split()[1]) for row in rows if row.split()]


def _left_in(folder):
    """The entries of a shared ``folder`` that were not there when the box began."""
    return sorted(set(os.listdir(folder)) - _mounted.get(folder, set())) if os.path.isdir(folder) else []


def _left_behind():
    """Whether anything remains in the box's shared folders or IPC."""
    return any(map(_left_in, SHARED)) or any(map(_ipc_ids, IPC))


def become_kernel(argv, cwd, env, fds):
    """In the forked child: reset what a fresh kernel has fresh, run ipykernel; returns the exit status."""
    _start_afresh(cwd, env, fds)
    import ipykernel_launcher
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [ipykernel_launcher.__file__, *argv]
    del sys.path[0]  # what ipykernel_launcher does; IPython puts '' back
    app = IPKernelApp.instance()
    code = 0
    try:
        app.initialize(argv)
        app.start()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    return code


def become_verifier(names, cwd, env, limits, fds):
    """In the forked child: the integrity verification (``autograder.sandbox.runner``, bound beside this file) of
    exercises ``names`` in ``cwd``, the folder for its answers (``out/``, beside ``cases/``), within ``limits``
    (only ever lowered); returns 0."""
    _start_afresh(cwd, env, fds)
    del sys.path[0]  # the notebook folder: as in a box of its own, only the library's package (preloaded) is seen
    for name, value in limits.items():
        _, hard = resource.getrlimit(LIMITS[name])
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(LIMITS[name], (value, value))
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), RUNNER)
    spec = importlib.util.spec_from_file_location("runner", path)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    runner.main([os.path.dirname(cwd), *names])
    return 0


def _start_afresh(cwd, env, fds):
    """In a forked child: the given stdin, stdout and stderr and no other file, ``cwd``, only ``env``, fresh
    temporary folder and random state (as a fresh process has them)."""
    _prctl(PR_SET_DUMPABLE, 1)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env, PWD=cwd)  # as bubblewrap's --chdir sets it
    import tempfile

    tempfile.tempdir = None
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()  # fresh entropy, as a fresh import draws


class ChildError(Exception):
    """The server could not start the child (it is gone, or refused the request)."""


class Child:
    """A child the server at ``path`` forked for ``request`` (JSON text), with ``fds`` as its stdin, stdout and
    stderr: ``pid`` (in the server's box), ``poll()``, ``wait()`` (TimeoutError after ``timeout``), ``kill()``
    and ``returncode`` as ``subprocess.Popen`` has them. Closing the connection (``kill``, or this process's end)
    makes the server kill the child; other signals are not passed on (a kernel's interrupts travel as messages).
    ChildError when the server does not start it within ``start_seconds``, refuses, or is gone."""

    stdin = stdout = stderr = None

    def __init__(self, path, request, fds, start_seconds=60.0):
        self.returncode, self.connection = None, socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.connection.settimeout(start_seconds)
            self.connection.connect(path)
            socket.send_fds(self.connection, [request.encode()], fds)
            started = json.loads(self.connection.recv(PACKET) or b"{}")
            self.connection.settimeout(None)
        except (OSError, ValueError) as error:  # socket.timeout is an OSError
            started = {"error": f"the server is gone or stuck ({error})"}
        if "pid" not in started:
            self.connection.close()
            raise ChildError(started.get("error", "the server ended"))
        self.pid = started["pid"]

    def poll(self):
        if self.returncode is None and self._readable(0):
            self._ended()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if not self._readable(timeout):
                raise TimeoutError(f"child {self.pid} still runs after {timeout} s")
            self._ended()
        return self.returncode

    def kill(self):
        if self.returncode is None:
            self.connection.close()
            self.returncode = -signal.SIGKILL

    def send_signal(self, signum):
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.kill()

    terminate = kill

    def _readable(self, timeout):
        poller = select.poll()
        poller.register(self.connection, select.POLLIN)
        return bool(poller.poll(None if timeout is None else timeout * 1000))

    def _ended(self):
        """The server's last word: ``{"exit": STATUS}`` once the child ended and the box is clean; nothing if the
        server itself is gone, which ends its children too (a kernel dies with the box, a grading process with
        its server): then -SIGKILL."""
        try:
            ended = json.loads(self.connection.recv(PACKET) or b"{}")
        except (OSError, ValueError):
            ended = {}
        self.connection.close()
        self.returncode = ended.get("exit", -signal.SIGKILL)


def wait_ready(path, alive, timeout, ping_seconds=15.0):
    """Whether the server at ``path`` answers ready within ``timeout`` seconds, waiting while it starts; False as
    soon as ``alive()`` is false."""
    deadline = time.monotonic() + timeout
    while alive():
        if ping(path, ping_seconds):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return False


def ping(path, timeout):
    """Whether the server at ``path`` answers, with a clean box, within ``timeout`` seconds."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
            connection.settimeout(timeout)
            connection.connect(path)
            connection.send(json.dumps({"ping": True}).encode())
            return json.loads(connection.recv(PACKET) or b"{}").get("ready") is True
    except (OSError, ValueError):
        return False


def _prctl(option, value):
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 6:
        serve(*sys.argv[2:6])
    else:
        sys.exit(f"usage: {sys.argv[0]} serve SOCKET FOLDER KERNEL_UID VERIFIER_UID")
