"""nbgrader's exchange as the grading service sees it: submissions arriving, collecting one, releasing feedback.

``nbgrader submit`` writes ``<root>/<course_id>/inbound/<student>+<assignment>+<timestamp>[+<random>]``: it
copies the student's folder, writes ``timestamp.txt`` and ``submission_secret.txt``, sets every mode, and the
folder's own (0777) last. A submission is complete once that is done. Collecting, the submission nbgrader's
``collect`` would take for a student (``chosen``), the copy (``ignore``, ``include``, sizes) and releasing
feedback are nbgrader's own code and settings (``c.ExchangeCollect.before_duedate``, ``check_owner``...), so
``course serve`` and ``nbgrader collect`` put the same files in ``submitted/<student>/``, ``timestamp.txt``
included: nbgrader's late penalty follows from it. Only nbgrader's default (file system) exchange is watched.

The exchange's feedback folder also receives the status files students read (``backprop_lib.kit.status``).
"""

import json
import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeFactory
from nbgrader.utils import capture_log, parse_utc

from autograder.course import names
from backprop_lib.kit.status import QUEUE_FILE, feedback_folder, status_file

COMPLETE_MODE = 0o777  # the mode nbgrader's submit gives a submission's folder as its last step
IDENTITY = ("timestamp.txt", "submission_secret.txt")  # what tells one submission from another


@dataclass(frozen=True)
class Submission:
    """One submission in the inbound folder: whose, its folder's name, its time (UTC, as nbgrader reads it)."""

    student: str
    folder: str
    timestamp: datetime


class Exchange:
    """The course's assignment in nbgrader's exchange, with nbgrader's exchange classes and the course's settings."""

    def __init__(self, course):
        self.course = course
        self.coursedir = CourseDirectory(config=course.config)
        self.coursedir.assignment_id = course.assignment
        self.factory = ExchangeFactory(config=course.config)
        self.collector = self._app(self.factory.Collect)
        self.inbound = Path(self.collector.root) / course.course_id / "inbound"
        self.feedback = feedback_folder(self.collector.root, course.course_id)

    def _app(self, kind):
        config = self.course.config
        return kind(coursedir=self.coursedir, authenticator=Authenticator(config=config), config=config)

    def submissions(self, known=()):
        """Every complete submission of the assignment in the inbound folder (those named in ``known`` are not
        looked at again)."""
        try:
            entries = list(os.scandir(self.inbound))
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            parts = entry.name.rsplit("+", 3)  # as nbgrader's collect splits it
            ours = len(parts) >= 3 and parts[1] == self.course.assignment
            if ours and (entry.name in known or self._complete(entry)):
                try:
                    found.append(Submission(parts[0], entry.name, parse_utc(parts[2])))
                except ValueError:
                    continue  # not a time: not nbgrader's
        return found

    def _complete(self, entry):
        try:
            done = (entry.stat(follow_symlinks=False).st_mode & 0o7777) == COMPLETE_MODE
            return done and os.path.getsize(Path(entry.path) / "submission_secret.txt") > 0
        except OSError:
            return False

    def chosen(self, submissions, due_date):
        """{student: the submission nbgrader's collect would take}: the newest, or, with
        ``c.ExchangeCollect.before_duedate``, the newest before the due date if there is one."""
        by_student = {}
        for submission in sorted(submissions, key=lambda s: s.timestamp):
            by_student.setdefault(submission.student, []).append(submission)
        chosen = {}
        for student, ordered in by_student.items():
            on_time = [s for s in ordered if due_date is None or s.timestamp <= due_date]
            early = self.collector.before_duedate and due_date is not None and on_time
            chosen[student] = on_time[-1] if early else ordered[-1]
        return chosen

    def secret(self, submission):
        """The submission's secret (which names its status file), or None if it is gone from the exchange."""
        try:
            return (self.inbound / submission.folder / "submission_secret.txt").read_text().strip()
        except OSError:
            return None

    def collect(self, submission):
        """Copy ``submission`` into ``submitted/<student>/`` as nbgrader's collect does (unless it is there already),
        replacing what was there in one step; returns a note when the folder's owner is not the student."""
        source, target = self.inbound / submission.folder, self.course.folder("submitted", submission.student)
        if not _same_submission(source, target):
            target.parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".collecting-", dir=target.parent))
            try:
                self.collector.do_copy(str(source), str(scratch / "new"))
                if target.exists():
                    target.rename(scratch / "old")
                (scratch / "new").rename(target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        return self._owner_note(source, submission.student)

    def _owner_note(self, source, student):
        if not self.collector.check_owner:
            return None
        try:
            owner = pwd.getpwuid(source.stat().st_uid).pw_name
        except KeyError:
            owner = "an unknown user"
        if owner == student:
            return None
        return f"submitted by the Unix user {owner}, not {student} (c.ExchangeCollect.check_owner)"

    def release_feedback(self, student):
        """nbgrader's release_feedback for ``student``; None, or the reason it failed in one line."""
        self.coursedir.student_id = names.nbgrader_glob(student)
        try:
            result = capture_log(self._app(self.factory.ReleaseFeedback))
        finally:
            self.coursedir.student_id = "*"
        if result["success"]:
            return None
        return (result.get("error") or "unknown error").strip().splitlines()[-1]

    def write_status(self, secret, data):
        """The status file of the submission whose secret is ``secret``."""
        self._write(status_file(secret), data)

    def write_queue(self, data):
        self._write(QUEUE_FILE, data)

    def _write(self, name, data):
        """``name`` in the exchange's feedback folder (made as nbgrader's release_feedback makes it), in one step,
        readable by whoever knows the name (the folder cannot be listed)."""
        if not self.feedback.is_dir():
            releaser = self._app(self.factory.ReleaseFeedback)
            releaser.init_dest()
        fd, scratch = tempfile.mkstemp(prefix=".writing-", dir=self.feedback)
        with os.fdopen(fd, "w") as file:
            json.dump(data, file)
        os.chmod(scratch, 0o644)
        os.replace(scratch, self.feedback / name)


def _same_submission(source, target):
    """Whether ``target`` holds the submission in ``source`` (its timestamp and secret), as a collect leaves it."""
    try:
        return all((source / name).read_bytes() == (target / name).read_bytes() for name in IDENTITY)
    except OSError:
        return False
