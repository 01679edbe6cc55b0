"""``migrate``: create the kit's tables in a course's gradebook, or bring older ones up to this kit's version.

Run by the commands that write the gradebook (release, grade, verify), never by a read.
"""

import json

import sqlalchemy as sa

from autograder.gradebook import schema, store
from autograder.gradebook.record import SCHEMA_VERSION, GradingRecord


def migrate(course):
    """Create or upgrade the kit's tables in the course's gradebook to SCHEMA_VERSION; returns the version.

    Version 0 is a course graded by kit 0.1, whose records were ``reports/*.json``
    files: they are imported. Safe to run from several graders at once (on
    PostgreSQL an advisory lock serialises it; sqlite locks the whole file).
    """
    engine = sa.create_engine(course.db_url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
            found = schema.schema_version(connection)
            if found == SCHEMA_VERSION:
                return found
            if found > SCHEMA_VERSION:
                raise RuntimeError(f"the gradebook's kit tables are version {found}, newer than this kit's")
            schema.metadata.create_all(connection)
            for added_in, columns in schema.ADDED_COLUMNS.items():
                if 0 < found < added_in:
                    for column in columns:
                        _add_column(connection, column)
            connection.execute(schema.schema_table.delete())
            connection.execute(schema.schema_table.insert().values(version=SCHEMA_VERSION))
    finally:
        engine.dispose()
    if found == 0:
        for record in _legacy_records(course):
            store.save(course, record)
    return SCHEMA_VERSION


def _add_column(connection, column):
    """ALTER TABLE ... ADD COLUMN, in the gradebook's own SQL dialect (sqlite and PostgreSQL alike).

    A column already there is left alone: sqlite keeps an ADD COLUMN through a rollback,
    so a migration interrupted before its version row was written has added it already.
    """
    if column.name in {present["name"] for present in sa.inspect(connection).get_columns(column.table.name)}:
        return
    kind = column.type.compile(dialect=connection.dialect)
    connection.execute(sa.text(f"ALTER TABLE {column.table.name} ADD COLUMN {column.name} {kind}"))


def _legacy_records(course):
    """Kit 0.1's ``reports/<student>.json`` records (an export of a newer kit carries a "schema" key)."""
    for path in sorted(course.reports.glob("*.json")) if course.reports.is_dir() else []:
        data = json.loads(path.read_text())
        if "schema" not in data:
            yield GradingRecord.from_dict(data)
