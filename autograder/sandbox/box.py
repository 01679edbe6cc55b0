"""What a box holds and may use: the one answer to "what can a student's code see and do?".

Every process that runs student code (a notebook's kernel, the integrity
verification) runs in a bubblewrap box built here, from one of three
descriptions: ``notebook_box`` (a kernel started cold), ``server_box`` (the warm
kernel server of a submission, ``autograder.sandbox.warm``) and
``verification_box``. A box holds:

- the file system: ``/usr``, the interpreter and the environment's site-packages
  with the kit's own packages hidden, read-only; for a notebook, the student's
  own files (the intake copy: never nbgrader's autograded notebooks, which hold
  the hidden tests) at the notebook folder's path, with the course's
  ``backprop_lib/`` over the student's and only the student's exercise files on
  top; one writable folder; a private ``/tmp`` (``TMP_BYTES``) and ``/dev/shm``
  (``SHM_BYTES``); a read-only ``/dev``; nothing else of the host (no repository,
  course, gradebook or other student);
- namespaces of its own: processes and ``/proc``, network (none), IPC, UTS; a new
  session; death with the grader;
- ``environment()``'s variables and nothing of the grader's (bubblewrap itself
  starts with ``LAUNCH_ENV``, so even the box's init shows no grader secret);
- limits (``Limits``: CPU seconds, address space, file size, open files,
  processes) and a system-call filter (``autograder.sandbox.seccomp``: no new
  user namespace, no POSIX message queue);
- its user. As root, every box runs under uids of its own (``uid``: the starting
  process's pid picks four, one per role, so no two boxes alive share one), with
  no capability. A kernel server keeps exactly three (set uids, set groups, kill)
  to start kernels and verifications as the student's uids, which cannot signal,
  trace or replace it. Run by any other user, a box is an unprivileged user
  namespace mapping the grader's uid alone, so a server cannot be kept apart from
  its kernels: kernels then start cold, each in a box of its own (``warm_possible``).

Paths inside a box are the host's paths (a bound folder appears where it is on
the host), so file names in messages, sockets and connection files mean the same
on both sides.
"""

import functools
import os
import shutil
import site
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import seccomp
from backprop_lib import EXERCISE_MODULES

BWRAP = "bwrap"
UID_BASE = 1_600_000_000
TMP_BYTES = 64 << 20
SHM_BYTES = 16 << 20
KIT_PACKAGES = ("autograder", "backprop_lib", "solutions")
ROOT, USER_NAMESPACE = "root", "user namespace"
COLD, SERVER, KERNELS, VERIFIER = range(4)  # who a box's processes are (as root, each role has a uid of its own)
SERVER_CAPABILITIES = "setuid,setgid,kill"  # a kernel server's, to start kernels and verifications as their uids
LAUNCH_ENV = {"PATH": "/usr/bin:/bin"}  # bubblewrap's own environment: the box's init holds nothing of the grader's
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION")
SERVER_SOURCE = Path(__file__).with_name("forkserver.py")
RUNNER = Path(__file__).with_name("runner.py")  # the verification's program
SERVER_FILE = "/run/backprop-kit/forkserver.py"  # where a kernel server's box shows the two
RUNNER_FILE = "/run/backprop-kit/runner.py"


@dataclass(frozen=True)
class Limits:
    """Resource limits of every process in a box (hard and soft alike)."""

    cpu_seconds: int = 60
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 64

    def prlimit(self):
        """``prlimit`` options setting these limits (and no core dumps)."""
        values = {
            "cpu": self.cpu_seconds,
            "as": self.memory_bytes,
            "fsize": self.file_bytes,
            "nofile": self.open_files,
            "nproc": self.processes,
            "core": 0,
        }
        return [f"--{name}={int(value)}:{int(value)}" for name, value in values.items()]


KERNEL_LIMITS = Limits(cpu_seconds=120, memory_bytes=3 << 30, file_bytes=64 << 20, open_files=1024, processes=128)
VERIFICATION_LIMITS = Limits(cpu_seconds=30, memory_bytes=2 << 30, file_bytes=64 << 20, open_files=64, processes=32)


@dataclass(frozen=True)
class Box:
    """One box: its writable folder, read-only binds, environment, working folder, limits, and whose it is.

    ``read_only``: (host path, box path) pairs, mounted in order (a later one may cover
    part of an earlier one, e.g. a student's file over the course's copy).
    ``writable``: a host folder, the only writable place besides the private /tmp and /dev/shm.
    ``role``: COLD (a box of its own) or SERVER (a kernel server, ``server_box``).
    """

    writable: str
    read_only: tuple = ()
    env: dict = field(default_factory=dict)
    cwd: str = ""
    limits: Limits = Limits()
    role: int = COLD


def notebook_box(scratch, folder, shown, library, env, limits=KERNEL_LIMITS):
    """A notebook's box: the student's files ``shown`` at the notebook ``folder`` (the working folder), the
    course's ``library`` over its ``backprop_lib/`` with the student's exercise files on top, ``scratch`` writable.
    ``shown`` gets an empty ``backprop_lib/`` if it has none (the library's mount point)."""
    if library and not os.path.lexists(os.path.join(shown, "backprop_lib")):
        os.mkdir(os.path.join(shown, "backprop_lib"))
    read_only = ((shown, folder), *library_binds(library, folder, shown))
    return Box(scratch, read_only, env, folder, limits)


def server_box(scratch, folder, shown, library, env, limits=KERNEL_LIMITS):
    """A submission's kernel server: a notebook's box that also shows the server's file and the verification's
    runner, run as the server's uid with SERVER_CAPABILITIES."""
    notebook = notebook_box(scratch, folder, shown, library, env, limits)
    read_only = (*notebook.read_only, (str(SERVER_SOURCE), SERVER_FILE), (str(RUNNER), RUNNER_FILE))
    return Box(scratch, read_only, env, folder, limits, SERVER)


def verification_box(work, library, own_library):
    """A verification of its own: the course's ``library`` at ``work``/lib with the student's exercise files (from
    ``own_library``) over it, the runner and the cases read-only, ``work``/out writable and the working folder."""
    target = str(Path(work) / "lib" / "backprop_lib")
    read_only = [(str(library), target)]
    for module in EXERCISE_MODULES:
        path = Path(own_library) / f"{module}.py"
        if path.is_file() and not path.is_symlink():
            read_only.append((str(path), f"{target}/{module}.py"))
    read_only += [(str(RUNNER), str(Path(work) / "runner" / RUNNER.name)), (str(Path(work) / "cases"),) * 2]
    out = str(Path(work) / "out")
    return Box(out, tuple(read_only), {**verification_environment(), "HOME": out}, out, VERIFICATION_LIMITS)


def verification_environment():
    """The environment of a verification: a path, a locale, one BLAS thread."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"}


def mode():
    """How boxes are confined here: 'root' (uids of their own) or 'user namespace' (an unprivileged grader)."""
    return ROOT if os.geteuid() == 0 else USER_NAMESPACE


def warm_possible():
    """Whether a kernel server can be kept apart from its kernels here (a root grader: uids of their own)."""
    return mode() == ROOT


def uid(role=COLD, pid=None):
    """The uid of ``role`` in the boxes process ``pid`` (default: this one) starts, as root; None otherwise.

    Four per process, so no two boxes alive at once share one."""
    return UID_BASE + 4 * (pid or os.getpid()) + role if mode() == ROOT else None


def describe():
    """The isolation this machine gives, in words for the grading record."""
    if mode() == ROOT:
        who = "uids of its own (root grader), the kernel server apart from the student's kernels"
    else:
        who = "an unprivileged user namespace of its own, every kernel in a box of its own"
    return f"bubblewrap box: {who}, own /proc, no network, only the interpreter and its own files visible"


class Unavailable(RuntimeError):
    """No box can start on this machine (bubblewrap missing, or namespaces forbidden), with the reason."""


@functools.cache
def check_available():
    """Raise Unavailable with the reason when bubblewrap cannot start a box on this machine.

    Two probes: the interpreter starts in a box, then it imports numpy there (the
    environment's site-packages). As root, a failure caused by files other users
    cannot read names the first such file and the chmod that opens it up.
    """
    if shutil.which(BWRAP) is None:
        raise Unavailable("bubblewrap is not installed: `apt-get install bubblewrap` (Debian package bubblewrap)")
    probes = [("pass", "bubblewrap cannot start a box here"),
              ("import numpy", "the grading environment's packages cannot be imported in a box")]  # fmt: skip
    for code, failing in probes:
        returncode, error = _probe(code)
        if returncode == 0:
            continue
        closed = closed_to_boxes() if mode() == ROOT else []
        if closed:
            raise Unavailable(
                f"every box runs under a uid of its own, which cannot read {closed[0]} (mode "
                f"{oct(os.stat(closed[0]).st_mode & 0o777)[2:]}): make the grading environment readable by all "
                f"users (chmod -R o+rX {_installation_of(closed[0])}) or install it where every user can read it, "
                f"e.g. under /opt"
            )
        reason = error.strip().splitlines()[-1] if error.strip() else f"exit code {returncode}"
        raise Unavailable(f"{failing}: {reason}")


def _probe(code):
    """(exit code, stderr) of the interpreter running ``code`` in a box."""
    command = [sys.executable, "-I", "-c", code]
    with start(Box(os.environ.get("TMPDIR", "/tmp")), command, stderr=subprocess.PIPE, text=True) as process:
        error = process.communicate()[1]
    return process.returncode, error


def closed_to_boxes():
    """Which of the interpreter, its bound folders and their direct entries others cannot read (or enter, or run)."""
    interpreter = [Path(sys.executable), Path(sys.executable).resolve()]
    paths = list(interpreter)
    for source, _ in python_binds():
        paths += [Path(source), *(Path(source).iterdir() if Path(source).is_dir() else [])]
    return [
        str(path)
        for path in dict.fromkeys(paths)
        if path.exists() and not _open_to_others(path, runnable=path in interpreter)
    ]


def _installation_of(path):
    """The Python environment or installation that holds ``path`` (the folder to open up)."""
    return next((root for root in (sys.prefix, sys.base_prefix) if Path(path).is_relative_to(root)), path)


def _open_to_others(path, runnable=False):
    wanted = stat.S_IROTH | (stat.S_IXOTH if runnable or path.is_dir() else 0)
    return path.stat().st_mode & wanted == wanted


def give_to_box(folder, owner=None):
    """Hand ``folder`` (and everything in it) to the uid ``owner`` (default: this process's cold boxes'), so the
    box can write it (root only)."""
    owner = uid() if owner is None else owner
    if owner is None:
        return
    for path in [Path(folder), *Path(folder).rglob("*")]:
        os.chown(path, owner, owner, follow_symlinks=False)


def start(box, command, **options):
    """``subprocess.Popen`` of ``command`` inside ``box``."""
    filter_fd = seccomp.descriptor()
    try:
        return subprocess.Popen(argv(box, command, filter_fd), env=LAUNCH_ENV, pass_fds=(filter_fd,), **options)
    finally:
        os.close(filter_fd)


def argv(box, command, filter_fd):
    """The argv running ``command`` inside ``box``; bubblewrap reads the system-call filter from ``filter_fd``
    (``seccomp.descriptor()``, passed to it), and starts with LAUNCH_ENV as its environment."""
    binds = [*python_binds(), *box.read_only]
    arguments = [BWRAP, *_namespaces(), "--proc", "/proc", "--dev", "/dev"]
    arguments += ["--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    arguments += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    arguments += [*_symlinks(), "--ro-bind", "/usr", "/usr"]
    arguments += _parents([target for _, target in binds] + [box.writable])
    for source, target in binds:
        arguments += _mount(source, target)
    arguments += ["--bind", box.writable, box.writable, "--remount-ro", "/", "--clearenv"]
    for name, value in box.env.items():
        arguments += ["--setenv", name, value]
    arguments += ["--seccomp", str(filter_fd), "--chdir", box.cwd or box.writable, "--"]
    return [*arguments, *_user(box.role), _tool("prlimit"), *box.limits.prlimit(), "--", *command]


def _user(role):
    """As root: ``setpriv`` to the role's uid, no capability (a kernel server: SERVER_CAPABILITIES)."""
    owner = uid(role)
    if owner is None:
        return []
    keep = f"-all,+{SERVER_CAPABILITIES.replace(',', ',+')}" if role == SERVER else "-all"
    options = [_tool("setpriv"), f"--reuid={owner}", f"--regid={owner}", "--clear-groups", f"--bounding-set={keep}"]
    options += [f"--inh-caps={keep}"] + ([f"--ambient-caps={keep}"] if role == SERVER else [])
    return [*options, "--no-new-privs", "--"]


def _tool(name):
    """The absolute path of a util-linux tool (the box's environment has no PATH of the grader's)."""
    return shutil.which(name) or f"/usr/bin/{name}"


@functools.cache
def python_binds():
    """(host, box) read-only binds of this interpreter: its installation and site-packages, kit hidden."""
    binds = [] if Path(sys.base_prefix).is_relative_to("/usr") else [(sys.base_prefix, sys.base_prefix)]
    if sys.prefix != sys.base_prefix:
        binds += [(os.path.join(sys.prefix, "pyvenv.cfg"),) * 2, (os.path.join(sys.prefix, "bin"),) * 2]
        binds += [(path, path) for path in site.getsitepackages() if os.path.isdir(path)]
    return tuple(binds)


def hidden_in(site_packages):
    """The kit's own entries of a site-packages folder: packages, editable-install hooks."""
    hidden = []
    for entry in sorted(os.listdir(site_packages)):
        kit = entry in KIT_PACKAGES or entry.startswith(("__editable__", "backprop_kit"))
        if kit or (entry.endswith(".pth") and _mentions_kit(os.path.join(site_packages, entry))):
            hidden.append(os.path.join(site_packages, entry))
    return hidden


def _mentions_kit(pth):
    with open(pth, errors="replace") as file:
        text = file.read()
    return "backprop" in text or any(Path(line.strip(), "autograder").is_dir() for line in text.splitlines())


def _namespaces():
    shared = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    shared += ["--die-with-parent", "--new-session"]
    return shared if mode() == ROOT else ["--unshare-user", "--disable-userns", *shared]


def _symlinks():
    links = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        if os.path.islink(f"/{name}"):
            links += ["--symlink", os.readlink(f"/{name}").lstrip("/"), f"/{name}"]
    return links


def _parents(targets):
    """Create the folders above every mount point as 0755 (bwrap would copy the host's 0700 /root)."""
    mounted = {*targets, "/usr", "/proc", "/dev"}
    parents = {str(parent) for target in targets for parent in Path(target).parents} - {"/", "/tmp"}
    inside = [p for p in parents if any(p == m or p.startswith(m.rstrip("/") + "/") for m in mounted)]
    wanted = sorted(parents - set(inside), key=lambda p: p.count("/"))
    return [option for path in wanted for option in ("--perms", "0755", "--dir", path)]


def _mount(source, target):
    """A read-only bind, with the kit's own entries hidden when it is a site-packages folder."""
    options = ["--ro-bind", source, target]
    if os.path.basename(source) == "site-packages":
        for path in hidden_in(source):
            hidden = os.path.join(target, os.path.basename(path))
            if os.path.isdir(path):
                options += ["--tmpfs", hidden, "--remount-ro", hidden]
            else:
                options += ["--ro-bind", "/dev/null", hidden]
    return options


def environment(scratch):
    """The complete environment of a kernel (or a kernel server) whose scratch folder is ``scratch``."""
    env = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    folders = {
        "HOME": "",
        "TMPDIR": "tmp",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
        "JUPYTER_CONFIG_DIR": "jupyter",
        "JUPYTER_DATA_DIR": "jupyter",
        "JUPYTER_RUNTIME_DIR": "jupyter",
    }
    for name, sub in folders.items():
        env[name] = str(Path(scratch, sub))
        Path(env[name]).mkdir(exist_ok=True)
    env["JPY_PARENT_PID"] = "1"  # the box's init: ipykernel polls no parent (the box dies with the grader)
    threads = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return {**env, **threads, "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def library_binds(library, folder, shown):
    """(host, box) binds putting the course's ``library`` over ``folder``/backprop_lib, the student's exercises on top.

    Only the exercise files (``EXERCISE_MODULES``) come from the student's folder ``shown``, and only regular
    files: anything else the student put in backprop_lib/ is not visible. None without a ``backprop_lib/`` folder
    in ``shown`` (the mount point; the intake always makes one).
    """
    target, own_folder = os.path.join(folder, "backprop_lib"), os.path.join(shown, "backprop_lib")
    if not library or os.path.islink(own_folder) or not os.path.isdir(own_folder):
        return []
    binds = [(library, target)]
    for module in EXERCISE_MODULES:
        own = os.path.join(own_folder, f"{module}.py")
        if os.path.isfile(own) and not os.path.islink(own) and os.path.isfile(os.path.join(library, f"{module}.py")):
            binds.append((own, os.path.join(target, f"{module}.py")))
    return binds
