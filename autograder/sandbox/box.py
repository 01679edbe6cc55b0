"""One box per submission: the bubblewrap command line that runs student code alone.

Every process that runs student code (a notebook's kernel, the integrity
sandbox) starts as ``argv(box, command)``: bubblewrap (``bwrap``) builds a
fresh root file system holding only what the box needs, in namespaces of its
own, and runs the command there:

- its own process namespace with its own ``/proc`` (no other process is
  visible; when the command ends, every process it started ends with it), its
  own network namespace (no route out), IPC and UTS namespaces, a new session
  (no terminal to inject into), and death with the grader (``--die-with-parent``);
- a file system of ``/usr`` (with the ``/bin``, ``/lib`` links), the Python
  installation (``sys.base_prefix``) and the environment's site-packages with
  the kit's own packages (``autograder``, ``backprop_lib``) and any editable
  install hidden, the box's read-only binds, a private ``/tmp`` (tmpfs of ``TMP_BYTES``) and one
  writable folder, on a read-only root; nothing else of the host exists in it (no
  repository, no ``.git``, no course, no other submission);
- a clean environment (exactly ``Box.env``);
- limits (``prlimit``, inherited by every process of the box): processes, CPU
  seconds (SIGKILL when spent), address space, file size, open files, no core
  dumps;
- its own user: run by root, bwrap starts the command through ``setpriv`` as a
  uid of its own (``UID_BASE`` + the starting process's pid: no two boxes alive
  at once share one), with no capabilities, no bounding set and no new
  privileges; run by any other user, bwrap's unprivileged user namespace (one
  per box) maps the grader's uid and grants no capability on the host. The
  process limit counts per uid (root) or per user namespace (Linux >= 5.14), so
  a fork loop stays inside its box either way.

Paths inside the box are the host's paths (a bound folder appears where it is
on the host), so file names in messages, sockets and the kernel's connection
file mean the same on both sides.
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

from backprop_lib import EXERCISE_MODULES

BWRAP = "bwrap"
UID_BASE = 1_600_000_000
TMP_BYTES = 64 << 20
KIT_PACKAGES = ("autograder", "backprop_lib", "solutions")
ROOT, USER_NAMESPACE = "root", "user namespace"
RUNNER = Path(__file__).with_name("runner.py")  # the verification's program, bound into its box
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION")


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


@dataclass(frozen=True)
class Box:
    """What one box holds: its writable folder, read-only binds, environment, limits, working folder.

    ``read_only``: (host path, box path) pairs, mounted in order (a later one may cover
    part of an earlier one, e.g. a student's file over the course's copy).
    ``writable``: a host folder, the only writable place besides the private /tmp.
    """

    writable: str
    read_only: tuple = ()
    env: dict = field(default_factory=dict)
    cwd: str = ""
    limits: Limits = Limits()


def mode():
    """How boxes are confined here: 'root' (a uid per box) or 'user namespace' (an unprivileged grader)."""
    return ROOT if os.geteuid() == 0 else USER_NAMESPACE


def box_uid():
    """The uid the boxes this process starts run as (root only): unique among running processes."""
    return UID_BASE + os.getpid() if mode() == ROOT else None


def describe():
    """The isolation this machine gives, in words for the grading record."""
    who = "a uid of its own (root grader)" if mode() == ROOT else "an unprivileged user namespace of its own"
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
        done = _probe(code)
        if done.returncode == 0:
            continue
        closed = closed_to_boxes() if mode() == ROOT else []
        if closed:
            raise Unavailable(
                f"every box runs under a uid of its own, which cannot read {closed[0]} (mode "
                f"{oct(os.stat(closed[0]).st_mode & 0o777)[2:]}): make the grading environment readable by all "
                f"users (chmod -R o+rX {_installation_of(closed[0])}) or install it where every user can read it, "
                f"e.g. under /opt"
            )
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit code {done.returncode}"
        raise Unavailable(f"{failing}: {reason}")


def _probe(code):
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    return subprocess.run(argv(Box(str(folder)), [sys.executable, "-I", "-c", code]), capture_output=True, text=True)


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


def give_to_box(folder, uid=None):
    """Hand ``folder`` (and everything in it) to the box user (``uid``, default this process's boxes' uid), so the
    box can write it (root only)."""
    uid = box_uid() if uid is None else uid
    if uid is None:
        return
    for path in [Path(folder), *Path(folder).rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)


def argv(box, command):
    """The argv running ``command`` inside ``box``."""
    binds = [*python_binds(), *box.read_only]
    arguments = [BWRAP, *_namespaces(), "--proc", "/proc", "--dev", "/dev"]
    arguments += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    arguments += [*_symlinks(), "--ro-bind", "/usr", "/usr"]
    arguments += _parents([target for _, target in binds] + [box.writable])
    for source, target in binds:
        arguments += _mount(source, target)
    arguments += ["--bind", box.writable, box.writable, "--remount-ro", "/", "--clearenv"]
    for name, value in box.env.items():
        arguments += ["--setenv", name, value]
    arguments += ["--chdir", box.cwd or box.writable, "--"]
    uid = box_uid()
    if uid is not None:
        arguments += [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        arguments += ["--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]
    return [*arguments, _tool("prlimit"), *box.limits.prlimit(), "--", *command]


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


def kernel_environment(scratch):
    """The complete environment of a boxed kernel whose scratch folder is ``scratch``."""
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


def library_binds(library, folder, submitted=None):
    """(host, box) binds putting the course's ``library`` over ``folder``/backprop_lib, the student's exercises on top.

    Only the exercise files (``EXERCISE_MODULES``) come from the student's folder (``submitted``
    when given, where nbgrader copies them from, else ``folder``), and only regular files:
    anything else the student put in backprop_lib/ is not visible.
    """
    target = os.path.join(folder, "backprop_lib")
    own_folder = os.path.join(submitted or folder, "backprop_lib")
    if not library or (submitted is None and not os.path.isdir(target)) or os.path.islink(own_folder):
        return []
    binds = [(library, target)]
    for module in EXERCISE_MODULES:
        own = os.path.join(own_folder, f"{module}.py")
        if os.path.isfile(own) and not os.path.islink(own) and os.path.isfile(os.path.join(library, f"{module}.py")):
            binds.append((own, os.path.join(target, f"{module}.py")))
    return binds
