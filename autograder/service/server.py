"""``backprop-kit course serve``: grade each submission as it arrives in nbgrader's exchange, and tell the student.

One process, no thread; its workers are forked from it, as ``course grade``'s are, and die with it (on a hub, so
does the insights page's server, ``autograder.service.pages``):

- every POLL_SECONDS (and at the start: nothing submitted while the service was down is missed), the
  exchange's complete submissions not seen before enter the queue in the gradebook (``queue.Queue``);
- while fewer than ``jobs`` gradings run, the next waiting entry (first in, first out; one grading of a student
  at a time; ``c.BackpropCourse.gradings_per_hour``) goes to a worker (``job.run``); a worker that outlives its
  time is killed and its entry fails;
- every change of an entry goes to the submission's status file and the queue file in the exchange (what
  ``backprop-kit status`` reads) and is printed as one line for the TA.

SIGTERM or SIGINT (Ctrl-C, or a JupyterHub stopping its services) stops it: running gradings are killed and
wait for the next start. One service runs per course (``autograder.gradebook.lock.service_lock``).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_for

from autograder.course import TA_CONFIG, BuildError, names
from autograder.gradebook import migration
from autograder.gradebook.lock import WAIT_SECONDS, service_lock
from autograder.grading import batch
from autograder.grading.autograde import die_with_parent
from autograder.reports import feedback
from autograder.sandbox import verify
from autograder.service import job
from autograder.service.exchange import Exchange, Submission
from autograder.service.queue import FAILED, GRADED, GRADING, WAITING, Queue, now
from backprop_lib.kit.status import FORMAT

POLL_SECONDS = 0.5
RETRY_SECONDS = 2.0
GRADINGS_PER_HOUR = 6


def gradings_per_hour(course):
    """``c.BackpropCourse.gradings_per_hour`` (default GRADINGS_PER_HOUR; None: no limit), checked."""
    value = course.option("gradings_per_hour", GRADINGS_PER_HOUR)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise BuildError(
            f"{course.root / TA_CONFIG}: c.BackpropCourse.gradings_per_hour must be a whole number of at least 1, "
            f"or None for no limit, not {value!r}"
        )
    return value


class Service:
    """The grading service of one course: its queue, the exchange, the workers running, what it has told."""

    def __init__(self, course, scheduler=None, jobs=2, notebook_seconds=batch.NOTEBOOK_SECONDS):
        self.course, self.scheduler, self.jobs, self.notebook_seconds = course, scheduler, jobs, notebook_seconds
        self.per_hour = gradings_per_hour(course)
        self.shows_hidden = feedback.hidden_results_shown(course)
        self.exchange, self.queue = Exchange(course), Queue(course)
        self.budget = batch.student_budget(course, notebook_seconds) + 2 * WAIT_SECONDS + 120
        self.running, self.later, self.held, self.told_busy = {}, {}, {}, set()
        self.queue_file, self.stopping = None, False

    def run(self):
        """Serve until SIGTERM or SIGINT; returns 0."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        self._tell_start()
        for entry in self.queue.recover(now()):
            self._changed(entry, "again" if entry.state == WAITING else "failed")
        while not self.stopping:
            self._notice()
            self._dispatch()
            self._write_queue()
            sentinels = list(self.running)
            if sentinels:
                wait_for(sentinels, timeout=POLL_SECONDS)
            else:
                time.sleep(POLL_SECONDS)
            self._collect_finished()
        self._stop_workers()
        return 0

    def _stop(self, signum, frame):
        self.stopping = True

    def _tell_start(self):
        limit = f"at most {self.per_hour} gradings per student an hour" if self.per_hour else "no limit per student"
        due = feedback.due_date(self.course)
        if self.shows_hidden:
            sees = "full feedback" if due is None or due <= now() else "full feedback before the due date"
        else:
            sees = f"points and checks until the due date ({due:%Y-%m-%d %H:%M} UTC), then full feedback"
        where = self.scheduler or f"{self.jobs} local worker{'s' * (self.jobs > 1)}"
        _line(
            "serving", self.course.course_id,
            f"submissions from {self.exchange.inbound} as they arrive; {where}; {limit}; students see {sees}",
        )  # fmt: skip

    def _notice(self):
        submissions = self.exchange.submissions(self.queue.known)
        if all(submission.folder in self.queue.known for submission in submissions):
            return
        due = feedback.due_date(self.course)
        chosen = self.exchange.chosen(submissions, due and due.replace(tzinfo=None))
        for entry in self.queue.notice(submissions, chosen, now()):
            self._changed(entry, "received" if entry.state == WAITING else entry.state)

    def _dispatch(self):
        moment = time.monotonic()
        self.later = {key: at for key, at in self.later.items() if at > moment}
        while len(self.running) < self.jobs and not self.stopping:
            in_flight = {entry.student for _, entry in self.running.values()}
            entry, held = self.queue.next(now(), in_flight, self.per_hour, self.later)
            for key, allowed in held.items():
                if self.held.get(key) != allowed:
                    self.held[key] = allowed
                    self._changed(self._entry(key), "waits", allowed)
            if entry is None:
                return
            self._start(self.queue.start(entry, now()))

    def _start(self, entry):
        context = get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        submission = Submission(entry.student, entry.submission, entry.submitted_at.replace(tzinfo=None))
        worker = context.Process(target=self._work, args=(submission, sender), name=entry.student)
        worker.start()
        sender.close()
        self.running[worker.sentinel] = ((worker, receiver, time.monotonic() + self.budget), entry)
        self._changed(entry, "grading")

    def _work(self, submission, sender):
        """Worker process: the job, its outcome sent back as JSON; its output goes to reports/service/<student>.log
        (reports/logs/<student>/ is the grading's: a Dask run replaces it)."""
        os.setsid()
        die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        logs = self.course.reports / "service"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{submission.student}.log", "a") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        outcome = job.Outcome(job.FAILED, "the grading stopped unexpectedly")
        try:
            outcome = job.run(self.course, submission, self.scheduler, self.notebook_seconds)
        except Exception as error:  # reported to the service, which fails the entry with it
            outcome = job.Outcome(job.FAILED, f"{type(error).__name__}: {error}")
            raise
        finally:
            sender.send_bytes(json.dumps(outcome.to_dict()).encode())

    def _collect_finished(self):
        for sentinel, ((worker, receiver, deadline), entry) in list(self.running.items()):
            if worker.is_alive() and time.monotonic() < deadline:
                continue
            if worker.is_alive():
                os.killpg(worker.pid, signal.SIGKILL)
            worker.join()
            del self.running[sentinel]
            outcome = _received(receiver, worker, self.budget)
            receiver.close()
            self._finish(entry, outcome)

    def _finish(self, entry, outcome):
        if outcome.kind == job.BUSY:
            self.later[entry.id] = time.monotonic() + RETRY_SECONDS
            entry = self.queue.back(entry, outcome.note)
            if entry.id not in self.told_busy:
                self.told_busy.add(entry.id)
                self._changed(entry, "busy")
            return
        if outcome.kind == job.FAILED:
            self._changed(self.queue.finish(entry, FAILED, now(), outcome.note), "failed")
            return
        entry = self.queue.finish(entry, GRADED, now(), outcome.note, outcome.score, outcome.max_score)
        self._changed(entry, "kept" if outcome.kept else "graded", released=outcome.released)

    def _stop_workers(self):
        for (worker, receiver, _), entry in self.running.values():
            if worker.is_alive():
                os.killpg(worker.pid, signal.SIGKILL)
            worker.join()
            receiver.close()
            self._changed(self.queue.back(entry, "the service stopped during its grading: graded again"), "again")
        stopped = f"{len(self.running)} gradings interrupted, to start again at the next start"
        _line("stopped", self.course.course_id, stopped)
        self.running = {}
        self._write_queue()

    def _entry(self, key):
        return next(entry for entry in self.queue.entries() if entry.id == key)

    def _changed(self, entry, event, allowed=None, released=False):
        """Tell the student (the status file) and the TA (a line) that ``entry`` changed."""
        secret = self.exchange.secret(Submission(entry.student, entry.submission, None))
        if secret:  # a submission the TA removed from the exchange has no student to tell
            self.exchange.write_status(secret, self._status(entry, allowed, released))
        _line(event, f"#{entry.id} {entry.student}", _details(entry, event, allowed, self.per_hour))

    def _status(self, entry, allowed, released):
        message = entry.note
        if allowed:
            message = f"this course grades at most {self.per_hour} submissions of a student an hour"
        return {
            "format": FORMAT,
            "course": self.course.course_id,
            "assignment": self.course.assignment,
            "student": entry.student,
            "ticket": entry.id,
            "state": entry.state,
            "submitted_at": _iso(entry.submitted_at),
            "received_at": _iso(entry.noticed_at),
            "not_before": _iso(allowed),
            "started_at": _iso(entry.started_at),
            "finished_at": _iso(entry.finished_at),
            "score": entry.score,
            "max_score": entry.max_score,
            "feedback": released,
            "message": message,
        }

    def _write_queue(self):
        entries = self.queue.entries(WAITING, GRADING)
        waiting = [entry.id for entry in entries if entry.state == WAITING]
        grading = [entry.id for entry in entries if entry.state == GRADING]
        if (waiting, grading) != self.queue_file:
            data = {"format": FORMAT, "updated_at": _iso(now()), "waiting": waiting, "grading": grading}
            self.exchange.write_queue(data)
            self.queue_file = (waiting, grading)


def _received(receiver, worker, budget):
    """The Outcome a worker sent, or a failure saying why there is none."""
    if receiver.poll():
        try:
            return job.Outcome(**json.loads(receiver.recv_bytes()))
        except (EOFError, ValueError, TypeError):
            pass
    why = f"no result after {budget:g} s" if worker.exitcode == -9 else f"exit code {worker.exitcode}"
    return job.Outcome(job.FAILED, f"the grading stopped ({why}); see reports/service/")


def _details(entry, event, allowed, per_hour):
    submitted = f"submission of {entry.submitted_at:%Y-%m-%d %H:%M:%S} UTC"
    if event in ("graded", "kept"):
        took = (entry.finished_at - entry.submitted_at).total_seconds()
        how = "graded before: nothing graded again" if event == "kept" else f"{took:.1f} s after it was submitted"
        extra = f"; {entry.note}" if entry.note else ""
        return f"{entry.score:g}/{entry.max_score:g}  {submitted}, {how}{extra}"
    if event == "waits":
        return f"{submitted} waits until {allowed:%H:%M:%S} UTC: {per_hour} gradings in the last hour"
    return f"{submitted}{': ' + entry.note if entry.note else ''}"


def _line(event, who, details):
    print(names.terminal(f"{now():%H:%M:%S}  {event:<8}  {who}  {details}"), flush=True)


def _iso(moment):
    return moment.isoformat() if moment else None


def serve(course, scheduler=None, jobs=2, notebook_seconds=batch.NOTEBOOK_SECONDS, pages_port=None):
    """Run the grading service of ``course`` until stopped; ``Busy`` if one runs already. With ``pages_port``
    (a JupyterHub service), the class insights page is served beside it (``autograder.service.pages``)."""
    inbound = Exchange(course).inbound
    if not inbound.is_dir():
        raise BuildError(
            f"no exchange inbound folder at {inbound}: set c.Exchange.root in {course.root / TA_CONFIG} and release "
            f"the assignment to it (nbgrader release_assignment {course.assignment}, in {course.root})"
        )
    with service_lock(course):
        migration.migrate(course)
        batch.preload()
        verify.Isolation.detect()  # stops here, with the reason, on a machine where no box starts
        sys.stdout.flush()
        with _pages(course, pages_port):
            return Service(course, scheduler, jobs, notebook_seconds).run()


@contextlib.contextmanager
def _pages(course, port):
    """The insights page's server on ``port`` while the block runs (nothing without a port).

    The port is bound here, so one in use stops the service with the reason; the server is a child in a session
    of its own (Ctrl-C stops the service, which stops it) that dies with the service."""
    if port is None:
        yield
        return
    try:
        listening = socket.create_server(("127.0.0.1", port))
    except OSError as error:
        raise BuildError(f"the insights page's port {port}: {error.strerror}") from None
    with listening:
        command = [sys.executable, "-I", "-m", "autograder.service.pages", str(course.root), str(listening.fileno())]
        server = subprocess.Popen(
            command, pass_fds=[listening.fileno()], preexec_fn=die_with_parent, start_new_session=True
        )
    try:
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
