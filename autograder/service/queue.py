"""The grading service's queue, kept in the gradebook (``backprop_kit_queue``), so a restart or a crash loses nothing.

One entry per submission the service noticed in the exchange, in one of these states:

    waiting   to be graded; ``place`` orders the queue: first in, first out across students
    grading   given to a worker (``attempts`` counts how often); back to waiting if the service stopped meanwhile
    graded    graded (or found graded already) and its feedback released; ``score`` of ``max_score``
    replaced  a newer submission of the student took its place before it was graded (or was there first)
    failed    not graded: ``note`` says why (the TA grades it with ``course grade``)

Only one grading of a student is in flight at a time, the newest submission of a student replaces one still
waiting (in its place), and a student gets at most ``per_hour`` gradings started in any hour
(``c.BackpropCourse.gradings_per_hour``): a submission beyond it waits, in its place, until it is allowed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from autograder.gradebook.schema import queue_table

WAITING, GRADING, GRADED, REPLACED, FAILED = "waiting", "grading", "graded", "replaced", "failed"
MAX_ATTEMPTS = 3
HOUR = timedelta(hours=1)


@dataclass
class Entry:
    """One row of the queue."""

    id: int
    student: str
    submission: str
    submitted_at: datetime
    noticed_at: datetime
    place: int
    state: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    score: float | None
    max_score: float | None
    note: str


class Queue:
    """The queue of a course's assignment; the service is its only writer (one service per course)."""

    def __init__(self, course):
        self.assignment = course.assignment
        self.engine = sa.create_engine(course.db_url, poolclass=NullPool)  # no connection left open across a fork
        self.known = {entry.submission for entry in self.entries()}

    def entries(self, *states, student=None):
        """The entries in ``states`` (all if none), of ``student`` (all if None), in queue order."""
        query = sa.select(queue_table).where(queue_table.c.assignment == self.assignment)
        if states:
            query = query.where(queue_table.c.state.in_(states))
        if student is not None:
            query = query.where(queue_table.c.student == student)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(queue_table.c.place, queue_table.c.id)).mappings().all()
        return [_entry(row) for row in rows]

    def notice(self, submissions, chosen, now):
        """Enter the ``submissions`` not seen before; ``chosen``: {student: the one to grade}. Returns the entries
        that are new or changed (a replaced one included), oldest submission first."""
        changed = []
        for submission in sorted(submissions, key=lambda s: s.timestamp):
            if submission.folder in self.known:
                continue
            with self.engine.begin() as connection:
                if chosen.get(submission.student) == submission:
                    changed += self._enqueue(connection, submission, now)
                else:
                    why = _not_chosen(submission, chosen.get(submission.student))
                    changed.append(self._insert(connection, submission, now, REPLACED, why))
            self.known.add(submission.folder)
        return changed

    def _enqueue(self, connection, submission, now):
        """A new waiting entry, in the place of the student's waiting one if there is one (which is replaced)."""
        waiting = self._student_entries(connection, submission.student, WAITING)
        entry = self._insert(connection, submission, now, WAITING, "")
        if not waiting:
            return [entry]
        note = f"replaced by the submission of {submission.timestamp:%Y-%m-%d %H:%M:%S} UTC before it was graded"
        old = self._update(connection, waiting[0], state=REPLACED, note=note, finished_at=now)
        return [old, self._update(connection, entry, place=old.place)]

    def _insert(self, connection, submission, now, state, note):
        values = {
            "assignment": self.assignment, "student": submission.student, "submission": submission.folder,
            "submitted_at": submission.timestamp.replace(tzinfo=timezone.utc), "noticed_at": now, "place": 0,
            "state": state, "attempts": 0, "note": note,
        }  # fmt: skip
        if state == REPLACED:
            values["finished_at"] = now
        key = connection.execute(queue_table.insert().values(**values)).inserted_primary_key[0]
        connection.execute(queue_table.update().where(queue_table.c.id == key).values(place=key))
        return self._get(connection, key)

    def recover(self, now):
        """At the service's start: entries left grading by a service that stopped go back to waiting (in their
        place), or fail after MAX_ATTEMPTS; returns them."""
        recovered = []
        with self.engine.begin() as connection:
            for entry in self._all(connection, GRADING):
                if entry.attempts >= MAX_ATTEMPTS:
                    note = f"not graded: the service stopped during each of its {entry.attempts} gradings"
                    recovered.append(self._update(connection, entry, state=FAILED, note=note, finished_at=now))
                else:
                    note = "the service stopped during its grading: graded again"
                    recovered.append(self._update(connection, entry, state=WAITING, note=note))
        return recovered

    def next(self, now, in_flight, per_hour, later=()):
        """(the first waiting entry that may be graded now, {entry id: when the others held by the rate limit
        may}); none of a student in ``in_flight``, none whose id is in ``later``."""
        entries, held = self.entries(), {}
        ready = (e for e in entries if e.state == WAITING and e.student not in in_flight and e.id not in later)
        for entry in ready:
            allowed = allowed_from(entries, entry.student, now, per_hour)
            if allowed <= now:
                return entry, held
            held[entry.id] = allowed
        return None, held

    def start(self, entry, now):
        with self.engine.begin() as connection:
            return self._update(connection, entry, state=GRADING, attempts=entry.attempts + 1, started_at=now)

    def back(self, entry, note):
        """A grading that could not start (another grading holds the student): waiting again, in its place, its
        start not counted."""
        with self.engine.begin() as connection:
            values = {"state": WAITING, "attempts": entry.attempts - 1, "started_at": None, "note": note}
            return self._update(connection, entry, **values)

    def finish(self, entry, state, now, note="", score=None, max_score=None):
        with self.engine.begin() as connection:
            values = {"state": state, "finished_at": now, "note": note, "score": score, "max_score": max_score}
            return self._update(connection, entry, **values)

    def _student_entries(self, connection, student, state):
        query = sa.select(queue_table).where(
            queue_table.c.assignment == self.assignment, queue_table.c.student == student, queue_table.c.state == state
        )
        return [_entry(row) for row in connection.execute(query).mappings()]

    def _all(self, connection, state):
        query = sa.select(queue_table).where(queue_table.c.assignment == self.assignment, queue_table.c.state == state)
        return [_entry(row) for row in connection.execute(query).mappings()]

    def _update(self, connection, entry, **values):
        connection.execute(queue_table.update().where(queue_table.c.id == entry.id).values(**values))
        return self._get(connection, entry.id)

    def _get(self, connection, key):
        return _entry(connection.execute(sa.select(queue_table).where(queue_table.c.id == key)).mappings().one())


def allowed_from(entries, student, now, per_hour):
    """When ``student`` may have a grading started: now, or when the oldest of their last ``per_hour`` starts within
    the hour is an hour old."""
    if not per_hour:
        return now
    mine = [e.started_at for e in entries if e.student == student and e.started_at]
    starts = sorted(start for start in mine if start > now - HOUR)
    return now if len(starts) < per_hour else starts[-per_hour] + HOUR


def _not_chosen(submission, chosen):
    if chosen is not None and chosen.timestamp < submission.timestamp:
        return "after the due date: this course grades the last submission before it (c.ExchangeCollect.before_duedate)"
    return "a newer submission of the student was there already"


def _entry(row):
    values = {name: row[name] for name in Entry.__dataclass_fields__}
    for name in ("submitted_at", "noticed_at", "started_at", "finished_at"):
        values[name] = utc(values[name])
    return Entry(**values)


def utc(moment):
    """A time from the gradebook, with its time zone (sqlite keeps none: the service writes UTC)."""
    if moment is None or moment.tzinfo:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def now():
    return datetime.now(timezone.utc)
