"""Where your submission stands with the course's grading service: ``backprop-kit status``.

A course that grades on submission runs a grading service (the TA's ``backprop-kit course serve``). For every
submission it notices in nbgrader's exchange it writes a small JSON file (``FORMAT``: state, place, score) into
the exchange's feedback folder, under a name made from the submission's secret (``submission_secret.txt``,
which ``nbgrader submit`` keeps in your own nbgrader cache and in the exchange's inbound folder, which students
cannot list). So only you, and your instructors, can find your file, as with the feedback nbgrader releases.
Beside it, ``QUEUE_FILE`` lists the submissions waiting, by ticket number, in order, without names.

This module defines both files for both sides (the service writes them) and is the student's reader. It finds
the exchange, the cache and the course as nbgrader's own student commands do (``nbgrader_config.py`` in the
Jupyter config folders, then in the current folder) and imports nothing of nbgrader's or the autograder's.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

FORMAT = 1
QUEUE_FILE = "backprop-kit-queue.json"
EXCHANGE_ROOT = "/usr/local/share/nbgrader/exchange"  # nbgrader's default Exchange.root


def status_file(secret):
    """The name of a submission's status file, made from its secret."""
    digest = hashlib.sha256(b"backprop-kit status\0" + secret.encode()).hexdigest()
    return f"backprop-kit-{digest}.json"


def feedback_folder(root, course_id):
    """The exchange's folder of released feedback, where the status files live too."""
    return Path(root) / course_id / "feedback"


@dataclass
class Submission:
    """One of your submissions, as nbgrader's cache keeps it."""

    course_id: str
    assignment: str
    timestamp: str
    secret: str


def cached_submissions(cache, course_id=None):
    """Your submissions in nbgrader's cache (``<cache>/<course>/<you>+<assignment>+<timestamp>``), newest first."""
    found = []
    for course in sorted(Path(cache).iterdir()) if Path(cache).is_dir() else []:
        if course_id and course.name != course_id:
            continue
        for folder in course.glob("*+*+*"):
            secret = folder / "submission_secret.txt"
            if secret.is_file():
                _, assignment, timestamp = folder.name.rsplit("+", 2)
                found.append(Submission(course.name, assignment, timestamp, secret.read_text().strip()))
    return sorted(found, key=lambda s: s.timestamp, reverse=True)


def read_json(path):
    """A small JSON file of the service's, or None if it is not there (or not readable yet)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def describe(submission, status, queue):
    """What the student reads about one submission: a heading and a line or two."""
    head = f"{submission.course_id} {submission.assignment}, submitted {_when(submission.timestamp)}:"
    if status is None:
        return (
            f"{head}\n  not seen by the grading service yet (it looks every few seconds; if this lasts, the course "
            "may not grade on submission, or its service is stopped: ask your TA)"
        )
    state = status["state"]
    lines = [f"received {_when(status['received_at'])}"]
    if state == "waiting":
        lines.append(_place(status["ticket"], queue))
        if status.get("not_before"):
            lines.append(f"graded from {_when(status['not_before'])} ({status['message']})")
    elif state == "grading":
        lines.append(f"being graded since {_when(status['started_at'])}")
    elif state == "graded":
        lines.append(f"graded {_when(status['finished_at'])}: {status['score']:g}/{status['max_score']:g} points")
        if status.get("feedback"):
            lines.append(
                "feedback released: in JupyterLab's Assignments tab, click Fetch Feedback "
                f"(or run: nbgrader fetch_feedback {submission.assignment} --course {submission.course_id})"
            )
    elif state == "failed":
        lines.append("could not be graded on submission: tell your TA")
    if state in ("replaced", "failed", "graded") and status.get("message"):
        lines.append(status["message"])
    return head + "".join(f"\n  {line}" for line in lines)


def _place(ticket, queue):
    waiting = (queue or {}).get("waiting", [])
    if ticket not in waiting:
        return "waiting in the queue"
    grading = len((queue or {}).get("grading", []))
    return f"waiting: place {waiting.index(ticket) + 1} of {len(waiting)} in the queue ({grading} being graded now)"


def _when(text):
    """An nbgrader or ISO time as 'YYYY-MM-DD HH:MM:SS UTC'."""
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        return text
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def nbgrader_settings():
    """(exchange root, cache folder, course id or None) from nbgrader's configuration, as its commands read it."""
    from jupyter_core.application import JupyterApp
    from jupyter_core.paths import jupyter_data_dir
    from traitlets.config import Application

    class NbgraderConfig(JupyterApp):
        name = "nbgrader"

    app = NbgraderConfig()
    app.load_config_file()
    Application.load_config_file(app, "nbgrader_config", os.getcwd())
    config = app.config
    root = config.Exchange.get("root") or EXCHANGE_ROOT
    cache = config.Exchange.get("cache") or os.path.join(jupyter_data_dir(), "nbgrader_cache")
    return root, cache, config.CourseDirectory.get("course_id") or None


def report(course_id=None, as_json=False):
    """What to print: the newest submission of each assignment you submitted, or that there is none yet."""
    root, cache, configured = nbgrader_settings()
    course_id = course_id or configured
    newest = {}
    for submission in cached_submissions(cache, course_id):
        newest.setdefault((submission.course_id, submission.assignment), submission)
    if not newest:
        where = f"course {course_id}" if course_id else "any course"
        text = f"nothing submitted yet to {where} (nbgrader's cache: {cache}): submit with the Assignments tab first"
        return "[]" if as_json else text
    entries = []
    for submission in newest.values():
        folder = feedback_folder(root, submission.course_id)
        status = read_json(folder / status_file(submission.secret))
        queue = read_json(folder / QUEUE_FILE)
        entries.append((submission, status, queue))
    if as_json:
        shown = [{**_public(s), "status": status, "queue": queue} for s, status, queue in entries]
        return json.dumps(shown, indent=1)
    return "\n".join(describe(*entry) for entry in entries)


def _public(submission):
    return {key: value for key, value in asdict(submission).items() if key != "secret"}
