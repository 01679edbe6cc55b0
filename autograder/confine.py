"""Start a command confined: resource limits, a clean environment, hidden paths, no network.

Every process that runs student code (the nbgrader kernel, the integrity sandbox)
is started through this launcher. It runs as its own interpreter,

    python -I -S confine.py SPEC_JSON -- COMMAND ARGS...

applies SPEC to itself, then replaces itself with COMMAND (execve), so the
confinement holds for COMMAND and for everything COMMAND starts. It imports the
standard library only, never the kit, and never student code.

SPEC (JSON object; every key optional):
    limits: {"cpu": seconds, "memory": bytes (address space), "file_size": bytes,
             "open_files": n}: hard and soft limits alike (the CPU limit is a SIGKILL,
             not a catchable SIGXCPU); core dumps are always off.
    env: the complete environment of COMMAND (nothing is inherited).
    cwd: the working directory of COMMAND.
    hide: folders and files covered by an empty read-only mount in a private mount
          namespace, so COMMAND cannot read them even by path (needs root). COMMAND then
          also runs as process 1 of a new process namespace: it cannot see or signal any
          process outside, and everything it starts dies with it.
    no_network: true for a new network namespace where no interface is up (needs root).
    read_only: true to make every mount read-only in that namespace, but the folders
          listed in ``writable`` (needs root and Linux 5.12: mount_setattr).
    drop_capabilities: true to give up every capability before COMMAND starts, so that
          even as root it cannot undo any of the above (no mount, no namespace switch).

A request that cannot be met (no root, or a container that forbids namespaces)
makes the launcher exit with status 125 before COMMAND starts, instead of running
it less confined than asked: the grader asks for namespaces only when
``namespaces_available`` found that they work here.
The process gets SIGKILL when its parent dies (PR_SET_PDEATHSIG), so a killed
grader leaves no student process behind.

Switching to an unprivileged user is not done here: the interpreter may live
where that user cannot read it (a pyenv under /root), so the sandbox starts as
the grader's user and drops privileges itself once its imports are done
(``autograder.sandbox_runner``).
"""

import ctypes
import functools
import json
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x40000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 0x1
REFUSED = 125

_RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "memory": resource.RLIMIT_AS,
    "file_size": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
}


def command(spec, argv):
    """The argv that runs ``argv`` confined by ``spec`` (a dict as described above)."""
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), json.dumps(spec), "--", *argv]


@functools.cache
def namespaces_available():
    """True when this process may use every namespace option (root, and a kernel that allows them)."""
    if os.geteuid() != 0:
        return False
    import subprocess

    everything = {"hide": [], "no_network": True, "read_only": True, "writable": ["/tmp"], "drop_capabilities": True}
    probe = command(everything, [sys.executable, "-I", "-S", "-c", "pass"])
    return subprocess.run(probe, capture_output=True).returncode == 0


def libc():
    """The C library, for the system calls the standard library lacks (unshare, mount, prctl)."""
    lib = ctypes.CDLL(None, use_errno=True)
    lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return lib


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


class _MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]


def _isolate(hide, no_network, read_only=False, writable=()):
    """Private mount and process namespaces with ``hide`` covered, and optionally no network.

    Returns in a forked child, process 1 of the new process namespace: when it
    ends, the kernel kills everything it started, and it cannot see or signal
    any process outside (another student's sandbox, the grader). This process
    stays behind as its parent, waits, and ends the same way it did.
    """
    lib = libc()
    _check(lib.unshare(CLONE_NEWNS | CLONE_NEWPID | (CLONE_NEWNET if no_network else 0)), "unshare")
    _check(lib.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    for path in hide:
        target = os.fsencode(path)
        if os.path.isdir(path):
            flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            _check(lib.mount(b"tmpfs", target, b"tmpfs", flags, b"size=4k,mode=000"), f"hide {path}")
        elif os.path.exists(path):
            _check(lib.mount(b"/dev/null", target, None, MS_BIND, None), f"hide {path}")
    if read_only:
        _set_read_only(lib, "/", True, recursive=True)
        for path in writable:
            _check(lib.mount(os.fsencode(path), os.fsencode(path), None, MS_BIND | MS_REC, None), f"open {path}")
            _set_read_only(lib, path, False)
    child = os.fork()
    if child == 0:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is for the child (a kernel), not for this waiter
    status = os.waitpid(child, 0)[1]
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


def _set_read_only(lib, path, read_only, recursive=False):
    """mount_setattr(2): set or clear the read-only flag of the mount at ``path`` (and below it)."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0) if read_only else _MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
    flags = ctypes.c_uint(AT_RECURSIVE if recursive else 0)
    result = lib.syscall(
        SYS_MOUNT_SETATTR, ctypes.c_long(AT_FDCWD), os.fsencode(path), flags, ctypes.byref(attr), ctypes.sizeof(attr)
    )
    _check(result, f"make {path} {'read-only' if read_only else 'writable'}")


def _drop_capabilities():
    """Give up every capability for good: even as root, no mount, no namespace switch, no tracing."""
    lib = libc()
    for capability in range(64):
        if lib.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no such
            _check(-1, f"drop capability {capability}")
    _check(lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")


def _limit(limits):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, value in limits.items():
        resource.setrlimit(_RLIMITS[name], (int(value), int(value)))


def die_with_parent(parent):
    """SIGKILL this process when its parent dies (call again after any change of user).

    ``parent``: the parent's pid as seen before, to catch a parent that died already.
    """
    _check(libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if os.getppid() != parent:
        os._exit(REFUSED)


def main(argv):
    parent = os.getppid()
    spec, target = json.loads(argv[1]), argv[3:]
    try:
        if "hide" in spec or spec.get("no_network"):
            _isolate(
                spec.get("hide", []), spec.get("no_network", False), spec.get("read_only"), spec.get("writable", [])
            )
            parent = 0  # process 1 of a new process namespace: its parent is outside, seen as 0
        if spec.get("drop_capabilities"):
            _drop_capabilities()
        _limit(spec.get("limits", {}))
        die_with_parent(parent)
        if spec.get("cwd"):
            os.chdir(spec["cwd"])
        os.execve(target[0], target, spec.get("env", {}))
    except OSError as error:
        print(f"confine: cannot start {target[:1]} confined: {error}", file=sys.stderr)
        os._exit(REFUSED)


if __name__ == "__main__":
    main(sys.argv)
