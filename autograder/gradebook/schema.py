"""The kit's tables in the course's gradebook, beside nbgrader's.

    backprop_kit_schema       the schema version of the kit's tables
    backprop_kit_submission   per (assignment, student): intake notes, notebook outcomes, isolation of the
                              verification, content hash, course fingerprint, kit version, graded at, and
                              the hints the student opened (only in a course that records them; else NULL)
    backprop_kit_check        per exercise check: status, summary, details, hint (the verification's verdict),
                              the diagnosis's name, and the student's line a failed check points at (excerpt)
    backprop_kit_cell         per grade cell: nbgrader's raw in-kernel score and the final automatic score
    backprop_kit_attempt      per complete grading: when graded, when submitted (nbgrader's timestamp), the
                              submission's content hash, grade and maximum; kept across gradings (the history)

``autograder.gradebook.migration`` creates and upgrades them; reading never does.
"""

from pathlib import Path

import sqlalchemy as sa

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
    sa.Column("diagnosis", sa.String(128)),
    sa.Column("excerpt", sa.Text),
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
attempt_table = sa.Table(
    "backprop_kit_attempt",
    metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("graded_at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("max_score", sa.Float, nullable=False),
)
PER_STUDENT = (submission_table, check_table, cell_table)
"""The tables a grading replaces: the student's latest record (``attempt_table`` keeps every grading)."""
# {schema version: the columns it added to an existing table}
ADDED_COLUMNS = {2: [submission_table.c.hints], 3: [check_table.c.diagnosis, check_table.c.excerpt]}


def schema_version(connection):
    """The version of the kit's tables in the gradebook (0: none yet)."""
    if not sa.inspect(connection).has_table(schema_table.name):
        return 0
    return connection.execute(sa.select(schema_table.c.version)).scalar() or 0


def missing_sqlite_file(url):
    """A sqlite gradebook not created yet (connecting would create an empty file that nbgrader then misreads)."""
    url = sa.make_url(url)
    return url.get_backend_name() == "sqlite" and bool(url.database) and not Path(url.database).exists()
