"""The system-call filter of every box: no new user namespace, no POSIX message queue.

A box's processes have no capability, but the machine lets any user create a user
namespace (and, inside it, mount, network and process namespaces with full
capabilities over them). Nothing outside the box is reachable that way, yet a
student's code has no use for it, so the filter refuses ``unshare`` and ``clone``
with ``CLONE_NEWUSER`` (EPERM) and ``clone3`` (ENOSYS: the C library then falls
back to ``clone``, which the filter can inspect). POSIX message queues outlive the
process that made them, in the box's IPC namespace, so ``mq_open`` is refused too.

The program is classic BPF as the kernel reads it (``struct sock_filter``), for
x86-64 and AArch64; bubblewrap loads it (``--seccomp FD``) before it runs the box's
command, and every process of the box inherits it. On another architecture, or a
foreign system-call convention in the box (x86's x32 or 32-bit calls), every call
of a foreign convention is refused.
"""

import errno
import os
import platform
import struct

CLONE_NEWUSER = 0x10000000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
SYSCALLS = {  # unshare, clone, clone3, mq_open
    "x86_64": (272, 56, 435, 240),
    "aarch64": (97, 220, 435, 180),
}
X32_SYSCALL_BIT = 0x40000000

# BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h)
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
ALLOW, ERRNO, KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
NR, ARCH, ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arguments are 64-bit, little-endian)


class Unsupported(RuntimeError):
    """This machine's architecture has no filter here."""


def program(machine=None):
    """The filter as bytes of ``struct sock_filter`` instructions, for ``machine`` (default: this one)."""
    machine = machine or platform.machine()
    if machine not in SYSCALLS:
        raise Unsupported(f"no system-call filter for the {machine} architecture")
    unshare, clone, clone3, mq_open = SYSCALLS[machine]
    refuse, missing = ERRNO | errno.EPERM, ERRNO | errno.ENOSYS
    code = [
        (LD_W_ABS, 0, 0, ARCH),
        (JEQ_K, 1, 0, AUDIT_ARCH[machine]),
        (RET_K, 0, 0, KILL_PROCESS),  # a foreign convention: its numbers mean other calls
        (LD_W_ABS, 0, 0, NR),
        (JGE_K, 0, 1, X32_SYSCALL_BIT),  # x32's calls (x86-64 kernels), never used by the box's programs
        (RET_K, 0, 0, refuse),
        (JEQ_K, 0, 1, clone3),
        (RET_K, 0, 0, missing),
        (JEQ_K, 0, 1, mq_open),
        (RET_K, 0, 0, refuse),
        (JEQ_K, 1, 0, unshare),
        (JEQ_K, 0, 3, clone),
        (LD_W_ABS, 0, 0, ARG0),  # the flags: CLONE_NEWUSER lies in their low 32 bits
        (JSET_K, 0, 1, CLONE_NEWUSER),
        (RET_K, 0, 0, refuse),
        (RET_K, 0, 0, ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


def descriptor():
    """A new file descriptor, inheritable, positioned at the start of the program: bubblewrap's ``--seccomp FD``
    reads it to its end, so every box needs its own."""
    fd = os.memfd_create("backprop-kit-seccomp", 0)
    os.write(fd, program())
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    return fd
