"""nbgrader's real exchange with real students, for tests and benchmarks: Unix users made for the run (and
removed after it), each submitting, fetching feedback and asking ``backprop-kit status`` as that user, with
nbgrader's own exchange code. nbgrader takes a student's id from the Unix user, so this is the honest way.

Each student has a home of its own (mode 0700) holding an ``nbgrader_config.py`` that names the exchange and the
course, and a submitter: one Python of the student's (``NONROOT_PYTHON``, an interpreter every user can run)
that imports nbgrader once and then runs ``ExchangeSubmit`` or ``ExchangeFetchFeedback`` on request, as
``nbgrader submit`` and ``nbgrader fetch_feedback`` do after their start-up.
"""

import atexit
import json
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import REPO

from autograder.course import open_course

NONROOT_PYTHON = Path(os.environ.get("BACKPROP_KIT_NONROOT_PYTHON", "/opt/backprop-nonroot/bin/python"))
USER_BUSY = 8  # userdel's exit code: the user still runs a process

SUBMITTER = r"""
import json, sys, traceback
from traitlets.config import Config
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import ExchangeFetchFeedback, ExchangeSubmit

config = Config()
config.Exchange.root, config.CourseDirectory.course_id = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    kind = {"submit": ExchangeSubmit, "fetch_feedback": ExchangeFetchFeedback}[line.strip()]
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = "backprop"
    try:
        app = kind(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
        app.start()
        print(json.dumps({"timestamp": app.timestamp}), flush=True)
    except BaseException:
        print(json.dumps({"error": traceback.format_exc()}), flush=True)
"""


def why_not():
    """Why real students cannot be made here, or None."""
    if os.geteuid() != 0:
        return "making Unix users needs root"
    if not NONROOT_PYTHON.exists():
        return f"no interpreter every user can run at {NONROOT_PYTHON} (bash .ci/run makes it)"
    if not shutil.which("useradd"):
        return "no useradd"
    return None


def open_exchange(course):
    """An exchange every user can reach (a folder of its own under /tmp, removed when this process ends), named in
    the course's course_config.py, with the course's assignment released to it by nbgrader; returns (course,
    exchange root)."""
    from nbgrader.apps import NbGraderAPI

    root = Path(tempfile.mkdtemp(prefix="backprop-exchange-", dir="/tmp"))
    atexit.register(shutil.rmtree, root, True)
    root.chmod(0o777)
    with open(course.root / "course_config.py", "a") as config:
        config.write(f"\nc.Exchange.root = {str(root)!r}\n")
    course = open_course(course.root)
    result = NbGraderAPI(config=course.config).release_assignment(course.assignment)
    assert result["success"], result.get("error")
    return course, root


class Students:
    """Unix users ``<prefix>-<name>`` for ``names``; use as a context manager (they are removed at its end)."""

    def __init__(self, names, exchange_root, course_id):
        self.root, self.course_id = exchange_root, course_id
        self.prefix = f"bk{secrets.token_hex(3)}"
        self.homes = Path(tempfile.mkdtemp(prefix="backprop-students-", dir="/tmp"))
        self.homes.chmod(0o755)
        self.users = {name: f"{self.prefix}-{name}" for name in names}
        self.submitters = {}

    def __enter__(self):
        for name, user in self.users.items():
            home = self.homes / user
            subprocess.run(["useradd", "--home-dir", home, "--create-home", "--shell", "/bin/sh", user], check=True)
            home.chmod(0o700)
            config = f"c = get_config()\nc.Exchange.root = {str(self.root)!r}\nc.CourseDirectory.course_id = "
            self._write(name, "nbgrader_config.py", f"{config}{self.course_id!r}\n")
            command = self._as(name, [NONROOT_PYTHON, "-c", SUBMITTER, self.root, self.course_id])
            self.submitters[name] = subprocess.Popen(
                command, cwd=home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
        return self

    def __exit__(self, *exc):
        for submitter in self.submitters.values():
            submitter.stdin.close()  # the student's Python ends at the end of its input, then runuser
        for submitter in self.submitters.values():
            try:
                submitter.wait(timeout=60)
            except subprocess.TimeoutExpired:
                submitter.kill()
                submitter.wait()
        for user in self.users.values():
            deadline = time.monotonic() + 30
            while subprocess.run(["userdel", "--remove", user], capture_output=True).returncode == USER_BUSY:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Unix user {user} still runs processes: not removed")
                time.sleep(0.5)
        shutil.rmtree(self.homes, ignore_errors=True)

    def id(self, name):
        """The student id nbgrader gives ``name``: its Unix user name."""
        return self.users[name]

    def home(self, name):
        return self.homes / self.users[name]

    def hand_in(self, name, folder):
        """Put ``folder`` (a submission) in the student's home as the assignment folder, owned by the student."""
        target = self.home(name) / "backprop"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target)
        account = pwd.getpwnam(self.users[name])
        for path in [target, *target.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
        return target

    def submit(self, name):
        """``nbgrader submit`` as the student; returns nbgrader's timestamp of the submission."""
        return self._ask(name, "submit")["timestamp"]

    def fetch_feedback(self, name):
        """``nbgrader fetch_feedback`` as the student; returns the student's feedback folder."""
        self._ask(name, "fetch_feedback")
        return self.home(name) / "backprop" / "feedback"

    def status(self, name, *args):
        """``backprop-kit status`` run by the student in their home; the finished process."""
        command = self._as(name, [NONROOT_PYTHON, "-m", "backprop_lib.kit.cli", "status", *args])
        return subprocess.run(command, cwd=self.home(name), capture_output=True, text=True, timeout=120)

    def can_list(self, name, folder):
        """Whether the student can list ``folder``."""
        command = self._as(name, [NONROOT_PYTHON, "-c", "import os, sys; os.listdir(sys.argv[1])", folder])
        return subprocess.run(command, capture_output=True).returncode == 0

    def _ask(self, name, what):
        submitter = self.submitters[name]
        submitter.stdin.write(f"{what}\n")
        submitter.stdin.flush()
        answer = json.loads(submitter.stdout.readline())
        assert "error" not in answer, answer["error"]
        return answer

    def _as(self, name, command):
        home = self.home(name)
        environment = [f"HOME={home}", f"PYTHONPATH={REPO}", "PATH=/usr/bin:/bin"]
        return ["runuser", "-u", self.users[name], "--", "env", "-i", *environment, *map(str, command)]

    def _write(self, name, file, text):
        path = self.home(name) / file
        path.write_text(text)
        account = pwd.getpwnam(self.users[name])
        os.chown(path, account.pw_uid, account.pw_gid)


def submit_for(root, course_id, student, folder):
    """``nbgrader submit --student STUDENT`` (an instructor's submission on a student's behalf) of ``folder``, in
    this process, with nbgrader's own exchange code; returns nbgrader's timestamp."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeSubmit
    from traitlets.config import Config

    config = Config()
    config.Exchange.root, config.CourseDirectory.course_id = str(root), course_id
    config.Exchange.cache = tempfile.mkdtemp(prefix="backprop-cache-")
    with tempfile.TemporaryDirectory() as place:
        shutil.copytree(folder, Path(place) / "backprop")
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id, coursedir.student_id = "backprop", student
        app = ExchangeSubmit(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
        app.assignment_dir = place
        app.start()
    shutil.rmtree(config.Exchange.cache, ignore_errors=True)
    return app.timestamp
