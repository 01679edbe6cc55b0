"""One grading on submission, in a worker process of the service: collect, grade, feedback, release.

1. collect the submission into ``submitted/<student>/`` holding the student's lock (another grading holding
   it: the job gives the entry back, to be tried again soon);
2. grade it as ``course grade`` does: ``autograder.grading.batch.grade`` (or ``distributed.grade`` on a Dask
   cluster), which takes the lock itself and keeps a grading of this very submission that is up to date;
3. holding the lock again: if the gradebook holds a grading of this submission, write the student's feedback
   pages (what they show before the due date is the course's choice) and release them with nbgrader's
   ``release_feedback``; the score goes back to the service.
"""

import time
from dataclasses import asdict, dataclass

from autograder.course import names
from autograder.gradebook import store
from autograder.gradebook.lock import WAIT_SECONDS, Busy, student_lock
from autograder.grading import batch
from autograder.grading.fingerprint import submission_hash
from autograder.reports import feedback
from autograder.reports import scores as report
from autograder.service.exchange import Exchange
from autograder.service.queue import utc

BY = "course serve"
GRADED, BUSY, FAILED = "graded", "busy", "failed"


@dataclass
class Outcome:
    """What a job reports to the service: ``kind`` (graded, busy, failed), the score, notes, whether the feedback
    was released and whether the grading was found done already (``kept``)."""

    kind: str
    note: str = ""
    score: float | None = None
    max_score: float | None = None
    released: bool = False
    kept: bool = False

    def to_dict(self):
        return asdict(self)


def run(course, submission, scheduler=None, notebook_seconds=batch.NOTEBOOK_SECONDS):
    """Collect, grade, write and release the feedback of ``submission`` (an ``exchange.Submission``); the Outcome."""
    exchange, student = Exchange(course), submission.student
    try:
        names.check_student_id(student)
    except names.BadName as error:
        return Outcome(FAILED, f"not graded: {error}")
    try:
        with student_lock(course, student, BY):
            owner = exchange.collect(submission)
    except Busy as busy:
        return Outcome(BUSY, str(busy))
    collected = time.time()
    if scheduler:
        from autograder.grading import distributed

        distributed.grade(course, scheduler, [student], notebook_seconds, by=BY)
    else:
        batch.grade(course, [student], jobs=1, notebook_seconds=notebook_seconds, by=BY)
    with student_lock(course, student, BY).acquire(WAIT_SECONDS):
        record = store.load(course, student)
        if not _of_this_submission(course, student, record, collected):
            return Outcome(FAILED, f"not graded: see reports/service/{student}.log and reports/logs/{student}/")
        feedback.write_student(course, student, feedback.hidden_results_shown(course))
        problem = exchange.release_feedback(student)
        scores = report.collect(course, [student])[0]
    notes = [note for note in (owner, problem and f"feedback not released: {problem}") if note]
    maximum = sum(cell.points for cell in scores.cells.values())
    kept = utc(record.graded_at).timestamp() < collected
    return Outcome(GRADED, "; ".join(notes), scores.total, maximum, released=not problem, kept=kept)


def _of_this_submission(course, student, record, collected):
    """Whether the gradebook holds a finished grading of what ``submitted/`` holds: a complete grading of this very
    submission, or one that ended after it was collected."""
    if record is None or record.notes == [batch.STARTED]:
        return False
    this = record.content_hash == submission_hash(course.folder("submitted", student))
    return this or utc(record.graded_at).timestamp() >= collected
