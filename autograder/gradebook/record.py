"""What the kit learns about one submission beyond nbgrader's grade cells: the grading record and its parts."""

from dataclasses import asdict, dataclass, field
from datetime import datetime

from backprop_lib.kit.hints import as_json
from backprop_lib.kit.results import CheckResult

SCHEMA_VERSION = 3
GRADED, STOPPED, FAILED, MISSING = "graded", "stopped", "failed", "missing"


@dataclass
class NotebookOutcome:
    """How one notebook's autograde went: status 'graded', 'stopped', 'failed' or 'missing', and why."""

    notebook: str
    status: str
    reason: str = ""
    seconds: float = 0.0


@dataclass
class Verification:
    """One student's integrity verification: one CheckResult per exercise, how long, in what isolation.

    ``excerpts`` ({exercise: text}) quotes, for a failed exercise, the student's line its check points at,
    anonymised (``autograder.grading.excerpts``).
    """

    results: list
    seconds: float
    isolation: str
    excerpts: dict = field(default_factory=dict)

    def to_dict(self):
        return {
            "results": [r.to_dict() for r in self.results],
            "seconds": self.seconds,
            "isolation": self.isolation,
            "excerpts": self.excerpts,
        }

    @classmethod
    def from_dict(cls, data):
        results = [CheckResult.from_dict(r) for r in data["results"]]
        return cls(results, data["seconds"], data["isolation"], data.get("excerpts", {}))


@dataclass(frozen=True)
class Attempt:
    """One complete grading of a student's submission, as the history of attempts keeps it.

    ``submitted_at`` is nbgrader's timestamp of the submission (None when it had none), ``content_hash``
    the submission's (``autograder.grading.fingerprint.submission_hash``), ``score`` the grade it earned
    then, out of ``max_score``.
    """

    graded_at: datetime
    submitted_at: datetime | None
    content_hash: str
    score: float
    max_score: float


@dataclass
class GradingRecord:
    """Everything the kit found out about one submission beyond nbgrader's grade cells.

    ``raw_scores`` ({notebook/grade_id: score}) is None for a submission nbgrader
    has just autograded (its auto scores are then the raw ones) and holds the
    stored raw scores for a record loaded from the gradebook. ``hints``
    ({exercise: backprop_lib.kit.hints.Opened}) is the student's hint record
    when the course records hints and could read it, None otherwise; it never
    enters a score.
    """

    student: str
    notes: list = field(default_factory=list)
    notebooks: list = field(default_factory=list)
    verification: Verification | None = None
    content_hash: str | None = None
    course_fingerprint: str | None = None
    kit_version: str | None = None
    graded_at: datetime | None = None
    raw_scores: dict | None = None
    hints: dict | None = None

    def reasons(self):
        """The notes, then why notebooks were stopped or failed (a missing one is in the notes already)."""
        failed = [o for o in self.notebooks if o.reason and o.status != MISSING]
        return self.notes + [f"{o.notebook}.ipynb {o.reason}" for o in failed]

    def valid(self, notebook):
        """Whether nbgrader could grade ``notebook`` (not missing, not invalid, not failed)."""
        return all(o.status not in (MISSING, FAILED) for o in self.notebooks if o.notebook == notebook)

    def checks(self):
        """{check name: passed} of the verification (empty if the library was not verified)."""
        return {r.exercise: r.passed for r in self.verification.results} if self.verification else {}

    def to_dict(self):
        return {
            "schema": SCHEMA_VERSION,
            "student": self.student,
            "notes": self.notes,
            "notebooks": [asdict(o) for o in self.notebooks],
            "verification": self.verification.to_dict() if self.verification else None,
            "content_hash": self.content_hash,
            "course_fingerprint": self.course_fingerprint,
            "kit_version": self.kit_version,
            "graded_at": self.graded_at.isoformat() if self.graded_at else None,
            "raw_scores": self.raw_scores,
            "hints": hints_as_json(self.hints),
        }

    @classmethod
    def from_dict(cls, data):
        verification = data.get("verification")
        return cls(
            data["student"],
            data.get("notes", []),
            [NotebookOutcome(**o) for o in data.get("notebooks", [])],
            Verification.from_dict(verification) if verification else None,
        )


def hints_as_json(hints):
    """A hint record as JSON, ``{exercise: {"rung": r, "first_opened": time}}``; None stays None."""
    return None if hints is None else as_json(hints)
