"""Save and load grading records: the kit's tables and nbgrader's grade cells, written together.

nbgrader's tables hold what has a place there: each grade cell's score (the kit
writes the final automatic score, ``autograder.gradebook.final_grade``, into
``grade.auto_score``; a TA's ``manual_score`` is never written) and each
submitted notebook's ``flagged``. The kit's tables (``autograder.gradebook.schema``)
hold the rest. A save is one transaction with nbgrader's rows, so sqlite and
PostgreSQL gradebooks (and several graders sharing one) always hold a
consistent grade. Loading never writes: a gradebook whose kit tables are older
than this kit's is read as it is (a column it lacks reads as empty) until a
command that writes migrates it. ``reports/<student>.json`` is an export.
"""

import json
from dataclasses import asdict
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

import sqlalchemy as sa
from nbgrader.api import Gradebook, MissingEntry

from autograder.gradebook.final_grade import CellGrade, student_grade
from autograder.gradebook.record import (
    SCHEMA_VERSION,
    Attempt,
    GradingRecord,
    NotebookOutcome,
    Verification,
    hints_as_json,
)
from autograder.gradebook.schema import (
    PER_STUDENT,
    attempt_table,
    cell_table,
    check_table,
    missing_sqlite_file,
    schema_version,
    submission_table,
)
from backprop_lib.kit.hints import Opened
from backprop_lib.kit.results import CheckResult


def kit_version():
    try:
        return version("backprop-kit")
    except PackageNotFoundError:
        return "unknown"


def save(course, record, submission_hash=None):
    """Store ``record`` and write the final grade of each grade cell into nbgrader's tables (the kit's tables must
    exist: ``autograder.gradebook.migration.migrate``).

    ``submission_hash``: given for a complete grading of the submission with that content hash, the grading is
    also added to the student's attempts (``load_attempts``), with the grade it earned.
    """
    record.kit_version = record.kit_version or kit_version()
    record.graded_at = datetime.now(timezone.utc)
    with Gradebook(course.db_url, course.course_id) as gradebook:
        connection = gradebook.db.connection()
        key = {"assignment": course.assignment, "student": record.student}
        for table in PER_STUDENT:
            connection.execute(table.delete().filter_by(**key))
        connection.execute(submission_table.insert().values(**key, **_submission_row(record)))
        excerpts = record.verification.excerpts if record.verification else {}
        for position, result in enumerate(record.verification.results if record.verification else []):
            row = {**result.to_dict(), "position": position, "summary": result.summary or ""}
            connection.execute(check_table.insert().values(**key, **row, excerpt=excerpts.get(result.exercise)))
        graded = graded_cells(gradebook, course.assignment, record.student, record)
        for notebook, cells in graded:
            for grade, cell in cells:
                grade.auto_score = cell.automatic
                row = {"notebook": cell.notebook, "grade_id": cell.grade_id, "raw_score": cell.raw}
                connection.execute(cell_table.insert().values(**key, **row, automatic_score=cell.automatic))
            notebook.flagged = any(cell.lowered_by_verification for _, cell in cells)
        if submission_hash is not None:
            row = _attempt_row(gradebook, course.assignment, record, graded, submission_hash)
            connection.execute(attempt_table.insert().values(**key, **row))
        gradebook.db.commit()


def load(course, student):
    """The student's record, or None if the kit never graded the student."""
    return load_all(course, [student]).get(student)


def load_all(course, students=None):
    """{student: record} for every student the kit graded (or those of ``students``); never writes."""
    if missing_sqlite_file(course.db_url):
        return {}
    engine = sa.create_engine(course.db_url)
    try:
        with engine.connect() as connection:
            if course.db_url in _current:
                return _read(connection, course.assignment, students, None)
            found = schema_version(connection)
            if not found:
                return {}
            if found == SCHEMA_VERSION:
                _current.add(course.db_url)
            return _read(connection, course.assignment, students, None if found == SCHEMA_VERSION else found)
    finally:
        engine.dispose()


_current = set()  # gradebooks seen at this kit's schema version (a version never goes back)


def load_attempts(course):
    """{student: [Attempt]} of every student with a complete grading, oldest first; never writes."""
    if missing_sqlite_file(course.db_url):
        return {}
    engine = sa.create_engine(course.db_url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(attempt_table.name):
                return {}
            query = sa.select(attempt_table).where(attempt_table.c.assignment == course.assignment)
            rows = connection.execute(query.order_by(attempt_table.c.graded_at)).mappings()
            attempts = {}
            for row in rows:
                moments = {name: _utc(row[name]) for name in ("graded_at", "submitted_at")}
                fields = {name: row[name] for name in ("content_hash", "score", "max_score")}
                attempts.setdefault(row["student"], []).append(Attempt(**moments, **fields))
            return dict(sorted(attempts.items()))
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


def graded_cells(gradebook, assignment, student, record):
    """[(submitted notebook, [(grade, CellGrade)])] of ``student``'s submission as the gradebook holds it.

    The raw scores are the record's stored ones, or nbgrader's auto scores for a
    record that has none yet (just autograded) or no record at all.
    """
    try:
        submission = gradebook.find_submission(assignment, student)
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


def _attempt_row(gradebook, assignment, record, graded, submission_hash):
    """The attempt row of a complete grading: nbgrader's submission timestamp, the grade, the maximum."""
    submission = gradebook.find_submission(assignment, record.student)
    cells = [cell for _, found in graded for _, cell in found]
    return {
        "graded_at": record.graded_at,
        "submitted_at": _utc(submission.timestamp),
        "content_hash": submission_hash,
        "score": student_grade(cells, submission.late_submission_penalty),
        "max_score": sum(cell.points for cell in cells),
    }


def _utc(moment):
    """A time from the gradebook as UTC (nbgrader's, and sqlite's, come without a time zone: they are UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


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


def _read(connection, assignment, students, older):
    """The records in the kit's tables; ``older``: their schema version if it is not this kit's."""
    present = {table.name: _columns(connection, table) if older else set(table.c.keys()) for table in PER_STUDENT}

    def rows(table):
        query = sa.select(*(column for column in table.c if column.name in present[table.name]))
        query = query.where(table.c.assignment == assignment)
        if students is not None:
            query = query.where(table.c.student.in_(list(students)))
        found = connection.execute(query)
        keys, absent = list(found.keys()), dict.fromkeys(set(table.c.keys()) - present[table.name])
        return [dict(zip(keys, row, strict=True)) | absent for row in found]

    checks, excerpts, raw = {}, {}, {}
    for row in sorted(rows(check_table), key=lambda row: row["position"]):
        names = ("exercise", "path", "status", "summary", "details", "hint", "diagnosis")
        checks.setdefault(row["student"], []).append(CheckResult(**{name: row[name] for name in names}))
        if row["excerpt"] is not None:
            excerpts.setdefault(row["student"], {})[row["exercise"]] = row["excerpt"]
    for row in rows(cell_table):
        raw.setdefault(row["student"], {})[f"{row['notebook']}/{row['grade_id']}"] = row["raw_score"]
    records = {}
    for row in rows(submission_table):
        student = row["student"]
        verification = (
            Verification(
                checks.get(student, []), row["verification_seconds"], row["isolation"], excerpts.get(student, {})
            )
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


def _columns(connection, table):
    """The names of ``table``'s columns as the gradebook holds them (an older kit's tables lack newer ones)."""
    return {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
