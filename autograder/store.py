"""The grading record of every submission, in the course's gradebook database beside nbgrader's tables.

nbgrader's tables hold what has a place there: each grade cell's score (the kit
writes the final automatic score, ``autograder.final_grade``, into
``grade.auto_score``; a TA's ``manual_score`` is never written) and each
submitted notebook's ``flagged``. The kit's own tables hold the rest:

    backprop_kit_schema       the schema version of the kit's tables
    backprop_kit_submission   per (assignment, student): intake notes, notebook outcomes, isolation of the
                              verification, content hash, course fingerprint, kit version, graded at, and
                              the hints the student opened (only in a course that records them; else NULL)
    backprop_kit_check        per exercise check: status, summary, details, hint (the verification's verdict)
    backprop_kit_cell         per grade cell: nbgrader's raw in-kernel score and the final automatic score

Everything is written in one transaction with nbgrader's rows, so sqlite and
PostgreSQL gradebooks (and several graders sharing one) always hold a
consistent grade. ``reports/<student>.json`` is an export (``export_json``).
``migrate`` brings an older gradebook's kit tables to SCHEMA_VERSION: version 0
(kit 0.1's JSON files) is imported, later versions get the columns added since
(``ADDED_COLUMNS``).
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import sqlalchemy as sa
from nbgrader.api import Gradebook, MissingEntry

from autograder.autograde import FAILED, MISSING, NotebookOutcome
from autograder.course import ASSIGNMENT, course_id, db_url
from autograder.final_grade import CellGrade
from autograder.verify import Verification
from backprop_lib.kit.hints import Opened, as_json
from backprop_lib.kit.results import CheckResult

SCHEMA_VERSION = 2
metadata = sa.MetaData()
schema_table = sa.Table("backprop_kit_schema", metadata, sa.Column("version", sa.Integer, nullable=False))
submission_table = sa.Table(
    "backprop_kit_submission",
    metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("notes", sa.JSON, nullable=False),
    sa.Column("notebooks", sa.JSON, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("isolation", sa.Text),
    sa.Column("verification_seconds", sa.Float),
    sa.Column("content_hash", sa.String(128)),
    sa.Column("course_fingerprint", sa.String(128)),
    sa.Column("kit_version", sa.String(64)),
    sa.Column("graded_at", sa.DateTime(timezone=True)),
    sa.Column("hints", sa.JSON),
)
check_table = sa.Table(
    "backprop_kit_check",
    metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("exercise", sa.String(128), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("hint", sa.Text),
)
cell_table = sa.Table(
    "backprop_kit_cell",
    metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("notebook", sa.String(128), primary_key=True),
    sa.Column("grade_id", sa.String(128), primary_key=True),
    sa.Column("raw_score", sa.Float),
    sa.Column("automatic_score", sa.Float),
)
PER_STUDENT = (submission_table, check_table, cell_table)
# {schema version: the columns it added to an existing table}
ADDED_COLUMNS = {2: [submission_table.c.hints]}


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


def kit_version():
    try:
        return version("backprop-kit")
    except PackageNotFoundError:
        return "unknown"


def migrate(course):
    """Create or upgrade the kit's tables in the course's gradebook to SCHEMA_VERSION; returns the version.

    Version 0 is a course graded by kit 0.1, whose records were ``reports/*.json``
    files: they are imported. Safe to run from several graders at once (on
    PostgreSQL an advisory lock serialises it; sqlite locks the whole file).
    """
    engine = sa.create_engine(db_url(course))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
            found = _schema_version(connection)
            if found == SCHEMA_VERSION:
                return found
            if found > SCHEMA_VERSION:
                raise RuntimeError(f"the gradebook's kit tables are version {found}, newer than this kit's")
            metadata.create_all(connection)
            for added_in, columns in ADDED_COLUMNS.items():
                if 0 < found < added_in:
                    for column in columns:
                        _add_column(connection, column)
            connection.execute(schema_table.delete())
            connection.execute(schema_table.insert().values(version=SCHEMA_VERSION))
    finally:
        engine.dispose()
    if found == 0:
        for record in _legacy_records(course):
            save(course, record)
    return SCHEMA_VERSION


def save(course, record):
    """Store ``record`` and write the final grade of each grade cell into nbgrader's tables."""
    _ensure_schema(course)
    record.kit_version = record.kit_version or kit_version()
    record.graded_at = datetime.now(timezone.utc)
    with Gradebook(db_url(course), course_id(course)) as gradebook:
        connection = gradebook.db.connection()
        key = {"assignment": ASSIGNMENT, "student": record.student}
        for table in PER_STUDENT:
            connection.execute(table.delete().filter_by(**key))
        connection.execute(submission_table.insert().values(**key, **_submission_row(record)))
        results = record.verification.results if record.verification else []
        for position, result in enumerate(results):
            row = {**result.to_dict(), "position": position, "summary": result.summary or ""}
            connection.execute(check_table.insert().values(**key, **row))
        for notebook, cells in graded_cells(gradebook, record.student, record):
            for grade, cell in cells:
                grade.auto_score = cell.automatic
                row = {"notebook": cell.notebook, "grade_id": cell.grade_id, "raw_score": cell.raw}
                connection.execute(cell_table.insert().values(**key, **row, automatic_score=cell.automatic))
            notebook.flagged = any(cell.lowered_by_verification for _, cell in cells)
        gradebook.db.commit()


def load(course, student):
    """The student's record, or None if the kit never graded the student."""
    return load_all(course, [student]).get(student)


def load_all(course, students=None):
    """{student: record} for every student the kit graded (or those of ``students``)."""
    if _ensure_schema(course, create=False) == 0:
        return {}
    engine = sa.create_engine(db_url(course))
    try:
        with engine.connect() as connection:
            return _read(connection, students)
    finally:
        engine.dispose()


def last_graded(course, student):
    """(content hash, course fingerprint, kit version, graded at) of the student's last grading, or None."""
    record = load(course, student)
    if record is None:
        return None
    return record.content_hash, record.course_fingerprint, record.kit_version, record.graded_at


def export_json(course, students=None):
    """Write ``reports/<student>.json`` from the gradebook (an export: the database is the record)."""
    course.reports.mkdir(parents=True, exist_ok=True)
    records = load_all(course, students)
    for student, record in records.items():
        (course.reports / f"{student}.json").write_text(json.dumps(record.to_dict(), indent=1))
    return records


def graded_cells(gradebook, student, record):
    """[(submitted notebook, [(grade, CellGrade)])] of ``student``'s submission as the gradebook holds it.

    The raw scores are the record's stored ones, or nbgrader's auto scores for a
    record that has none yet (just autograded) or no record at all.
    """
    try:
        submission = gradebook.find_submission(ASSIGNMENT, student)
    except MissingEntry:
        return []
    checks = record.checks() if record else {}
    raw = record.raw_scores if record and record.raw_scores is not None else {}
    found = []
    for notebook in submission.notebooks:
        cells = []
        for grade in notebook.grades:
            cell = CellGrade(
                notebook.name,
                grade.name,
                float(grade.max_score),
                raw.get(f"{notebook.name}/{grade.name}", grade.auto_score),
                checks.get(grade.name),
                record.valid(notebook.name) if record else True,
                grade.manual_score,
            )
            cells.append((grade, cell))
        found.append((notebook, cells))
    return found


def _submission_row(record):
    verification = record.verification
    return {
        "notes": list(record.notes),
        "notebooks": [asdict(o) for o in record.notebooks],
        "verified": verification is not None,
        "isolation": verification.isolation if verification else None,
        "verification_seconds": verification.seconds if verification else None,
        "content_hash": record.content_hash,
        "course_fingerprint": record.course_fingerprint,
        "kit_version": record.kit_version,
        "graded_at": record.graded_at,
        "hints": hints_as_json(record.hints),
    }


def hints_as_json(hints):
    """A hint record as JSON, ``{exercise: {"rung": r, "first_opened": time}}``; None stays None."""
    return None if hints is None else as_json(hints)


def _read(connection, students):
    def rows(table):
        query = sa.select(table).where(table.c.assignment == ASSIGNMENT)
        if students is not None:
            query = query.where(table.c.student.in_(list(students)))
        return connection.execute(query).mappings().all()

    checks, raw = {}, {}
    for row in sorted(rows(check_table), key=lambda row: row["position"]):
        fields = {name: row[name] for name in ("exercise", "path", "status", "summary", "details", "hint")}
        checks.setdefault(row["student"], []).append(CheckResult(**fields))
    for row in rows(cell_table):
        raw.setdefault(row["student"], {})[f"{row['notebook']}/{row['grade_id']}"] = row["raw_score"]
    records = {}
    for row in rows(submission_table):
        student = row["student"]
        verification = (
            Verification(checks.get(student, []), row["verification_seconds"], row["isolation"])
            if row["verified"]
            else None
        )
        records[student] = GradingRecord(
            student,
            list(row["notes"]),
            [NotebookOutcome(**o) for o in row["notebooks"]],
            verification,
            row["content_hash"],
            row["course_fingerprint"],
            row["kit_version"],
            row["graded_at"],
            raw.get(student, {}),
            None if row["hints"] is None else {name: Opened(**opened) for name, opened in row["hints"].items()},
        )
    return dict(sorted(records.items()))


_checked = set()


def _ensure_schema(course, create=True):
    """The kit's schema version in the gradebook (checked once per process).

    Migrates first if ``create``, and always when the tables are an older version (a course
    graded by an earlier kit): reading them as they are would miss the newer columns.
    """
    url = db_url(course)
    if url in _checked:
        return SCHEMA_VERSION
    if create:
        found = migrate(course)
    elif _missing_sqlite_file(url):
        return 0
    else:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                found = _schema_version(connection)
        finally:
            engine.dispose()
        if 0 < found < SCHEMA_VERSION:  # an upgraded kit reading an older course: its tables need new columns first
            found = migrate(course)
    if found == SCHEMA_VERSION:
        _checked.add(url)
    return found


def _missing_sqlite_file(url):
    """A sqlite gradebook not created yet (connecting would create an empty file that nbgrader then misreads)."""
    url = sa.make_url(url)
    return url.get_backend_name() == "sqlite" and bool(url.database) and not Path(url.database).exists()


def _add_column(connection, column):
    """ALTER TABLE ... ADD COLUMN, in the gradebook's own SQL dialect (sqlite and PostgreSQL alike).

    A column already there is left alone: sqlite keeps an ADD COLUMN through a rollback,
    so a migration interrupted before its version row was written has added it already.
    """
    if column.name in {present["name"] for present in sa.inspect(connection).get_columns(column.table.name)}:
        return
    kind = column.type.compile(dialect=connection.dialect)
    connection.execute(sa.text(f"ALTER TABLE {column.table.name} ADD COLUMN {column.name} {kind}"))


def _schema_version(connection):
    if not sa.inspect(connection).has_table(schema_table.name):
        return 0
    return connection.execute(sa.select(schema_table.c.version)).scalar() or 0


def _legacy_records(course):
    """Kit 0.1's ``reports/<student>.json`` records (an export of a newer kit carries a "schema" key)."""
    for path in sorted(course.reports.glob("*.json")) if course.reports.is_dir() else []:
        data = json.loads(path.read_text())
        if "schema" not in data:
            yield GradingRecord.from_dict(data)
