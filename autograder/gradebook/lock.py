"""One grading of a student at a time: a lock per (course, student), held by whatever grades, gone when it dies.

Everything that changes a student's working folders or grade takes the student's
lock first (``student_lock``): ``course grade`` and ``course verify`` in each
student's worker, a Dask task's grading process, the grading service. A second
grader finds it held (``Busy``, which names the holder) and waits or leaves the
student to the holder. ``service_lock`` lets one grading service run per course.

- A PostgreSQL gradebook (graders on several machines): a session advisory lock
  (``pg_try_advisory_lock``) on a connection of its own, open while the lock is
  held. The server releases it when that connection ends, however its holder
  ended; the connection's ``application_name`` says who holds it.
- Any other gradebook (sqlite: one machine): ``flock`` on a file in a folder
  beside the gradebook; the kernel releases it when the holder's process ends.
  The file says who holds it.

Before recording a grading, its holder calls ``check``: ``LockLost`` if the lock
is no longer its own (the database connection broke), so a grading never
records what another grading may have changed.
"""

import fcntl
import hashlib
import json
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

POLL_SECONDS = 0.2
WAIT_SECONDS = 600.0  # how long a grading waits, by default, for a student another grading holds
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


class Busy(Exception):
    """The lock is held by another grading; ``holder`` says which, the message what it is doing."""

    def __init__(self, message, holder):
        super().__init__(message)
        self.holder = holder


class LockLost(Exception):
    """A lock this process held is no longer its own."""


def student_lock(course, student, by):
    """The lock on grading ``student`` of ``course``, for a holder described as ``by`` (e.g. "course grade")."""
    name = f"grading\0{course.course_id}\0{course.assignment}\0{student}"
    return _lock_class(course)(course, name, f"{student} is being graded by {{holder}}", by)


def service_lock(course, by="course serve"):
    """The lock on running the grading service of ``course`` (one per course)."""
    message = "the grading service of this course runs already: {holder}"
    return _lock_class(course)(course, f"service\0{course.course_id}", message, by)


def _lock_class(course):
    return _PostgresLock if sa.make_url(course.db_url).get_backend_name() == "postgresql" else _FileLock


class _Lock:
    """A named lock: ``acquire(wait)`` (Busy after ``wait`` seconds), ``release``, ``check``, ``holder``.

    As a context manager it acquires without waiting, unless it is held already, and releases at the end.
    """

    held = False

    def __init__(self, course, name, busy, by):
        self.course, self.busy = course, busy
        self.key = int.from_bytes(hashlib.sha256(f"backprop-kit\0{name}".encode()).digest()[:8], "big", signed=True)
        self.description = f"{by} (pid {os.getpid()} on {socket.gethostname()}"

    def acquire(self, wait=0.0):
        deadline = time.monotonic() + wait
        while not self._try():
            if time.monotonic() >= deadline:
                self.release()
                holder = self.holder() or "another grading"
                raise Busy(self.busy.format(holder=holder), holder)
            time.sleep(POLL_SECONDS)
        self.held = True
        return self

    def __enter__(self):
        return self if self.held else self.acquire()

    def __exit__(self, *exc):
        self.release()

    def _since(self):
        return f"{self.description}, since {datetime.now(timezone.utc):%H:%M:%S} UTC)"


class _PostgresLock(_Lock):
    def __init__(self, course, name, busy, by):
        super().__init__(course, name, busy, by)
        self.connection = None
        unsigned = self.key & (2**64 - 1)
        self.ids = {"key": self.key, "hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}

    def _try(self):
        if self.connection is None:
            engine = sa.create_engine(
                self.course.db_url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=KEEPALIVE
            )
            self.connection = engine.connect()
            # A machine that vanishes without closing its connection: the server drops it within about a minute.
            for name, value in (("idle", 30), ("interval", 10), ("count", 3)):
                self.connection.execute(sa.text(f"SET tcp_keepalives_{name} = {value}"))
        if not self.connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), self.ids).scalar():
            return False
        name = self._since()[:63]  # PostgreSQL keeps 63 bytes of an application_name
        self.connection.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})
        return True

    def release(self):
        if self.connection is not None:
            self.connection.close()  # the session ends, and with it the lock
            self.connection = None
        self.held = False

    def check(self):
        try:
            mine = self.connection.execute(sa.text(_HELD + " AND l.pid = pg_backend_pid()"), self.ids).first()
        except Exception as error:
            raise LockLost(f"the grading lost its lock with its database connection: {error}") from None
        if mine is None:
            raise LockLost("the grading's lock is no longer its own")

    def holder(self):
        engine = sa.create_engine(self.course.db_url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                found = connection.execute(sa.text(_HELD), self.ids).first()
        finally:
            engine.dispose()
        return found and (found.application_name or f"a database session from {found.client_addr}")


_HELD = (
    "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
)


class _FileLock(_Lock):
    def __init__(self, course, name, busy, by):
        super().__init__(course, name, busy, by)
        self.path = lock_folder(course) / f"{self.key & (2**64 - 1):016x}.lock"
        self.fd = None

    def _try(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"holder": self._since()}).encode(), 0)
        return True

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # and with it the lock
            self.fd = None
        self.held = False

    def check(self):
        try:
            same = os.fstat(self.fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            same = False
        if not same:
            raise LockLost(f"the grading's lock file {self.path} was removed or replaced")

    def holder(self):
        try:
            return json.loads(self.path.read_text()).get("holder")
        except (OSError, ValueError, AttributeError):
            return None


def lock_folder(course):
    """Where a gradebook that is not PostgreSQL keeps its lock files: beside a sqlite file, else in the course."""
    url = sa.make_url(course.db_url)
    if url.get_backend_name() == "sqlite" and url.database:
        database = Path(url.database)
        return database.with_name(f"{database.name}.locks")
    return course.grader_cache / "locks"
