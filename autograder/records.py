"""One JSON grading record per student: the intake's notes, each notebook's outcome, the verification.

nbgrader's gradebook holds the scores of the grade cells; the record holds what
the gradebook cannot: why a notebook scored 0 without being run, and the
verified result of every exercise. ``COURSE/reports/<student>.json``.
"""

import json
from dataclasses import asdict, dataclass, field

from autograder.autograde import MISSING, NotebookOutcome
from autograder.verify import Verification


@dataclass
class GradingRecord:
    """Everything the kit found out about one submission beyond nbgrader's grade cells."""

    student: str
    notes: list = field(default_factory=list)
    notebooks: list = field(default_factory=list)
    verification: Verification | None = None
    graded_from: dict = field(default_factory=dict)  # see last_grading

    def reasons(self):
        """The notes, then why notebooks were stopped or failed (a missing one is in the notes already)."""
        failed = [o for o in self.notebooks if o.reason and o.status != MISSING]
        return self.notes + [f"{o.notebook}.ipynb {o.reason}" for o in failed]

    def to_dict(self):
        return {
            "student": self.student,
            "notes": self.notes,
            "notebooks": [asdict(o) for o in self.notebooks],
            "verification": self.verification.to_dict() if self.verification else None,
            "graded_from": self.graded_from,
        }

    @classmethod
    def from_dict(cls, data):
        verification = data.get("verification")
        return cls(
            data["student"],
            data.get("notes", []),
            [NotebookOutcome(**o) for o in data.get("notebooks", [])],
            Verification.from_dict(verification) if verification else None,
            data.get("graded_from", {}),
        )

    def save(self, course):
        course.reports.mkdir(parents=True, exist_ok=True)
        path = course.reports / f"{self.student}.json"
        path.write_text(json.dumps(self.to_dict(), indent=1))


def load(course, student):
    """The student's record, or None if the student was never graded."""
    path = course.reports / f"{student}.json"
    return GradingRecord.from_dict(json.loads(path.read_text())) if path.is_file() else None


def load_all(course):
    """{student: record} for every graded student."""
    if not course.reports.is_dir():
        return {}
    return {path.stem: load(course, path.stem) for path in sorted(course.reports.glob("*.json"))}


def last_grading(course, student):
    """(submission hash, course fingerprint) of the student's last complete grading, or None."""
    record = load(course, student)
    graded_from = record.graded_from if record else {}
    return (graded_from["submission"], graded_from["course"]) if graded_from else None


def remember_grading(course, record, submission, fingerprint):
    """Save ``record`` as a complete grading of the submission with hash ``submission`` against ``fingerprint``."""
    record.graded_from = {"submission": submission, "course": fingerprint}
    record.save(course)
