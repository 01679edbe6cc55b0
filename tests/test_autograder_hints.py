"""Recording the hints students opened: a course option, off by default, that never changes a score.

The student's hint record (``.backprop-kit-hints.json``, written by
``backprop_lib.hint``) travels with an nbgrader submission; a course with
``c.BackpropCourse.record_hints = True`` reads it as untrusted input at intake,
keeps it in the gradebook and shows it to the TA and in the student's feedback.
The fast tests take single submissions in; the slow ones grade real submissions
with the option off and on, and carry a record through nbgrader's own exchange.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pytest
import sqlalchemy
from conftest import student_env
from one_notebook import NOTEBOOK, one_notebook_course
from postgres_server import postgres  # noqa: F401 (a fixture)
from scratch_home import scratch_home

from autograder.course import TA_CONFIG, BuildError, samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import schema, store
from autograder.gradebook.migration import migrate
from autograder.gradebook.record import SCHEMA_VERSION, GradingRecord
from autograder.grading import batch as grading
from autograder.grading import intake
from autograder.grading.fingerprint import course_fingerprint
from autograder.reports import feedback, tables
from autograder.reports import scores as report
from autograder.reports.exporters import export
from backprop_lib.kit.hints import MAX_STATE_BYTES, STATE_NAME, Opened

OFF = "c.BackpropCourse.record_hints = False"
ON = "c.BackpropCourse.record_hints = True"
RECORD = {
    "about": "the student's own words are ignored",
    "opened": {
        "add_backward": {"rung": 3, "first_opened": "2026-01-12T10:30:00+01:00"},
        "multiply_backward": {"rung": 1, "first_opened": "2026-01-12T09:45:00Z"},
    },
}
RECORDED = {"add_backward": Opened(3, "2026-01-12T09:30:00Z"), "multiply_backward": Opened(1, "2026-01-12T09:45:00Z")}


def record_hints(course, on):
    config = course.root / TA_CONFIG
    config.write_text(config.read_text().replace(OFF if on else ON, ON if on else OFF))
    assert course.records_hints is on


def submit(course, student, record=None):
    """The released assignment as ``student``'s submission, with a hint record (text or JSON) if given."""
    folder = course.folder("submitted", student)
    shutil.rmtree(folder.parent, ignore_errors=True)
    shutil.copytree(course.folder("release"), folder)
    if record is not None:
        (folder / STATE_NAME).write_text(record if isinstance(record, str) else json.dumps(record))
    return folder


def taken_in(course, student):
    """take_in, which must return within seconds whatever the submission holds (a pipe must not block it)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(intake.take_in, course, student).result(timeout=60)


def hint_notes(found):
    return [note for note in found.notes if note.startswith("hint record unreadable")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    with scratch_home(tmp_path_factory.mktemp("home")):
        yield one_notebook_course(tmp_path_factory.mktemp("hints"))


def test_the_option_is_off_by_default_and_the_ta_s_file_says_what_it_does(course):
    text = (course.root / TA_CONFIG).read_text()
    assert OFF in text and "It never changes a score." in text and course.records_hints is False
    try:
        (course.root / TA_CONFIG).write_text(text.replace(OFF, 'c.BackpropCourse.record_hints = "yes"'))
        with pytest.raises(BuildError, match="record_hints must be True or False, not 'yes'"):
            assert course.records_hints
    finally:
        (course.root / TA_CONFIG).write_text(text)


def test_off_the_record_is_ignored_on_it_is_read(course):
    submit(course, "careful", RECORD)
    found = taken_in(course, "careful")
    assert found.hints is None and not hint_notes(found)
    record_hints(course, True)
    try:
        found = taken_in(course, "careful")
        assert found.hints == RECORDED and not hint_notes(found)
        submit(course, "no record")
        found = taken_in(course, "no record")
        assert found.hints == {} and not hint_notes(found)
        assert (course.folder("submitted", "careful") / STATE_NAME).read_text() == json.dumps(RECORD)  # untouched
    finally:
        record_hints(course, False)


def deeply_nested(folder):
    (folder / STATE_NAME).write_text("[" * 30_000 + "]" * 30_000)


def elsewhere(folder):
    outside = folder.parent.parent / "valid-record.json"
    outside.write_text(json.dumps(RECORD))
    (folder / STATE_NAME).symlink_to(outside)


def writes(text):
    return lambda folder: (folder / STATE_NAME).write_text(text)


HOSTILE = [
    ("symlink", "a symbolic link", elsewhere),
    ("fifo", "not a regular file", lambda folder: os.mkfifo(folder / STATE_NAME)),
    ("folder", "not a regular file", lambda folder: (folder / STATE_NAME).mkdir()),
    ("huge", "larger than 64 KB", writes(json.dumps(RECORD) + " " * MAX_STATE_BYTES)),
    ("bad json", "not valid JSON", writes('{"opened": {"add_backward": 3')),
    ("not utf-8", "not UTF-8 text", lambda folder: (folder / STATE_NAME).write_bytes(b'{"opened": {"\xff": 1}}')),
    ("deep", "nested too deeply", deeply_nested),
    ("list", 'no "opened" table', writes('["add_backward", 3]')),
    ("unknown name", "unknown exercise 'rm -rf /'", writes('{"opened": {"rm -rf /": 1}}')),
    ("rung 4", "the rung must be 1 to 3, got '4'", writes('{"opened": {"add_backward": 4}}')),
    ("rung text", "the rung must be 1 to 3, got '2'", writes('{"opened": {"add_backward": {"rung": "2"}}}')),
    ("rung bool", "the rung must be 1 to 3, got 'True'", writes('{"opened": {"add_backward": true}}')),
    (
        "time",
        "first_opened is not a time with a time zone",
        writes('{"opened": {"add_backward": {"rung": 1, "first_opened": "yesterday"}}}'),
    ),
    ("long number", "a number too long", writes('{"opened": {"add_backward": 1%s}}' % ("0" * 5000))),
    (
        "before year 1",
        "first_opened is out of range",
        writes('{"opened": {"add_backward": {"rung": 1, "first_opened": "0001-01-01T00:00:00+01:00"}}}'),
    ),
    (
        "after year 9999",
        "first_opened is out of range",
        writes('{"opened": {"add_backward": {"rung": 1, "first_opened": "9999-12-31T23:59:59-01:00"}}}'),
    ),
]


@pytest.mark.parametrize(("kind", "why", "make"), HOSTILE, ids=[kind for kind, _, _ in HOSTILE])
def test_a_record_that_is_not_a_small_valid_file_is_noted_never_a_failure(course, kind, why, make):
    student = f"hostile {kind}"
    make(submit(course, student))
    record_hints(course, True)
    try:
        found = taken_in(course, student)
    finally:
        record_hints(course, False)
    assert found.hints is None and found.notebooks == [NOTEBOOK]
    assert len(hint_notes(found)) == 1 and why in hint_notes(found)[0], found.notes
    assert hint_notes(found)[0].endswith(": no hints recorded")
    assert not (course.folder("intake", student) / STATE_NAME).is_symlink()


def test_a_pipe_in_a_submission_is_noted_not_copied(course):
    os.mkfifo(submit(course, "piped") / "answers.txt")
    found = taken_in(course, "piped")
    assert "answers.txt is not a regular file: not graded" in found.notes and found.notebooks == [NOTEBOOK]
    assert not (course.folder("intake", "piped") / "answers.txt").exists()


def test_switching_the_option_changes_the_course_fingerprint_and_switching_back_restores_it(course):
    off = course_fingerprint(course)
    record_hints(course, True)
    try:
        assert course_fingerprint(course) != off
    finally:
        record_hints(course, False)
    assert course_fingerprint(course) == off


def test_a_reader_that_fails_unforeseen_is_a_note_never_the_grader_s_failure(course, monkeypatch):
    def unforeseen(path):  # read_record with a bug nobody foresaw (every known case is a RecordError)
        raise OverflowError("a case nobody foresaw")

    submit(course, "unforeseen", RECORD)
    monkeypatch.setattr(intake, "read_record", unforeseen)
    record_hints(course, True)
    try:
        found = taken_in(course, "unforeseen")
    finally:
        record_hints(course, False)
    assert found.hints is None and found.notebooks == [NOTEBOOK]
    assert hint_notes(found) == [
        f"hint record unreadable ({STATE_NAME}: unexpected OverflowError: a case nobody foresaw): no hints recorded"
    ]


def first_use_migrates(course):
    migrate(course)


def first_use_checks_freshness(course):  # course grade: to_grade -> up_to_date -> last_graded
    assert store.last_graded(course, "graded before") is not None


def first_use_reports(course):  # course report, verify, feedback, export
    assert "graded before" in {scores.student for scores in report.collect(course)}


FIRST_USES = [first_use_migrates, first_use_checks_freshness, first_use_reports]


@pytest.mark.parametrize("first_use", FIRST_USES, ids=["migrate", "last_graded", "report"])
def test_a_schema_1_gradebook_is_read_as_it_is_and_gains_the_hints_column_when_migrated(course, first_use):
    upgrade_from_schema_1(course, first_use)


def test_a_migration_interrupted_after_adding_the_column_completes(course):
    """sqlite keeps an ADD COLUMN through a rollback: the next migration finds the column and goes on."""
    upgrade_from_schema_1(course, first_use_migrates, interrupted=True)


@pytest.mark.slow
def test_a_schema_1_postgresql_gradebook_gains_the_hints_column(postgres, tmp_path):  # noqa: F811
    with scratch_home(tmp_path / "home"):
        course = build(tmp_path / "course", db_url=postgres)
        release(course)
        upgrade_from_schema_1(course, first_use_checks_freshness)
        upgrade_from_schema_1(course, first_use_migrates, interrupted=True)


def upgrade_from_schema_1(course, first_use, interrupted=False):
    """A record saved, the gradebook taken back to schema 1 (``interrupted``: with the hints column already
    added, as a migration that stopped before its version row leaves it), then ``first_use`` by a kit process
    that has not seen the gradebook yet: a read finds the record and leaves the gradebook as it is; the
    migration (run by the commands that write) upgrades it, the record kept, and hints round-trip."""
    store.save(course, GradingRecord("graded before", ["a note kept across the upgrade"]))
    engine = sqlalchemy.create_engine(course.db_url)
    with engine.begin() as connection:  # the gradebook as kit schema 1 left it
        connection.execute(sqlalchemy.text("ALTER TABLE backprop_kit_submission DROP COLUMN hints"))
        for column in schema.ADDED_COLUMNS[3]:
            connection.execute(sqlalchemy.text(f"ALTER TABLE {column.table.name} DROP COLUMN {column.name}"))
        schema.attempt_table.drop(connection)
        if interrupted:
            connection.execute(sqlalchemy.text("ALTER TABLE backprop_kit_submission ADD COLUMN hints JSON"))
        connection.execute(schema.schema_table.update().values(version=1))
    store._current.discard(course.db_url)  # a new process: an upgraded kit's first command on this course

    def version():
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.select(schema.schema_table.c.version)).scalar()

    first_use(course)
    assert version() == (SCHEMA_VERSION if first_use is first_use_migrates else 1)
    assert store.load(course, "graded before").notes == ["a note kept across the upgrade"]
    assert migrate(course) == SCHEMA_VERSION == version()
    engine.dispose()
    kept = store.load(course, "graded before")
    assert kept.notes == ["a note kept across the upgrade"] and kept.hints is None
    store.save(course, GradingRecord("graded after", hints=RECORDED))
    assert store.load(course, "graded after").hints == RECORDED
    assert store.load(course, "graded after").to_dict()["hints"]["add_backward"] == {
        "rung": 3,
        "first_opened": "2026-01-12T09:30:00Z",
    }


def scores_of(course):
    return {s.student: (s.total, s.raw_total, {k: c.final for k, c in s.cells.items()}) for s in report.collect(course)}


def course_report(course):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "report", "-C", str(course.root), "--json"]
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return {entry["student"]: entry for entry in json.loads(done.stdout)}


def generic_csv(course):
    with open(export(course, "generic"), newline="", encoding="utf-8") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}


def feedback_pages(course):
    return {student: (folder / f"{NOTEBOOK}.html").read_text() for student, folder in feedback.generate(course).items()}


@pytest.mark.slow
def test_graded_with_the_option_off_and_on_the_scores_are_identical_and_only_on_shows_hints(tmp_path):
    with scratch_home(tmp_path / "home"):
        course = one_notebook_course(tmp_path)
        made = samples.make(course, ["reference", "untouched"])
        (made["reference"] / STATE_NAME).write_text(json.dumps(RECORD))
        shutil.copytree(made["reference"], course.folder("submitted", "piped"))
        (course.folder("submitted", "piped") / STATE_NAME).unlink()
        os.mkfifo(course.folder("submitted", "piped") / STATE_NAME)

        grading.grade(course, jobs=2)
        off = scores_of(course)
        assert all(record.hints is None for record in store.load_all(course).values())
        assert all("hints" not in entry for entry in course_report(course).values())
        assert "hints opened" not in tables.student_table(report.collect(course), report.grade_cells(course))
        assert all("hints_opened" not in row for row in generic_csv(course).values())
        assert all("Hints you opened" not in page for page in feedback_pages(course).values())

        record_hints(course, True)
        graded_at = {student: record.graded_at for student, record in store.load_all(course).items()}
        grading.grade(course, jobs=2)  # the option is part of the course: everyone is graded again
        assert all(record.graded_at != graded_at[s] for s, record in store.load_all(course).items())
        assert scores_of(course) == off
        assert off["reference"][0] > off["untouched"][0] and off["piped"] == off["reference"]

        shown = course_report(course)
        assert shown["reference"]["hints"] == {name: asdict(opened) for name, opened in RECORDED.items()}
        assert shown["untouched"]["hints"] == {} and shown["piped"]["hints"] is None
        assert any(note.startswith("hint record unreadable") for note in shown["piped"]["notes"])
        assert f"{STATE_NAME} is not a regular file: not graded" in shown["piped"]["notes"]
        table = tables.student_table(report.collect(course), report.grade_cells(course))
        assert "hints opened" in table and "add_backward:3;multiply_backward:1" in table
        rows = generic_csv(course)
        assert rows["reference"]["hints_opened"] == "add_backward:3;multiply_backward:1"
        assert (rows["untouched"]["hints_opened"], rows["piped"]["hints_opened"]) == ("none", "not recorded")
        assert [row["grade"] for row in rows.values()] == [f"{off[s][0]:g}" for s in rows]
        pages = feedback_pages(course)
        assert "Hints you opened" in pages["reference"] and "They do not change your score." in pages["reference"]
        assert "add_backward: up to hint 3, first opened 2026-01-12T09:30:00Z" in pages["reference"]
        assert "The grading recorded no hints." in pages["untouched"]
        assert "could not be read" in pages["piped"]


@pytest.mark.slow
def test_the_record_a_student_writes_travels_through_nbgrader_s_exchange(tmp_path):
    with scratch_home(tmp_path / "home") as patch:
        course = one_notebook_course(tmp_path)
        exchange, student = tmp_path / "exchange", tmp_path / "student"
        exchange.mkdir()
        exchange.chmod(0o777)
        student.mkdir()
        (course.root / TA_CONFIG).write_text(
            (course.root / TA_CONFIG).read_text().replace(OFF, ON) + f"c.Exchange.root = {str(exchange)!r}\n"
        )
        patch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))

        def nbgrader(*args, cwd):
            done = subprocess.run(
                ["nbgrader", *args], cwd=cwd, capture_output=True, text=True, env=student_env(), timeout=300
            )
            assert done.returncode == 0, done.stderr

        nbgrader("release_assignment", "backprop", cwd=course.root)
        exchange_args = [f"--Exchange.root={exchange}", "--course=backprop-kit"]
        nbgrader("fetch_assignment", "backprop", *exchange_args, cwd=student)
        opened = "import backprop_lib; backprop_lib.hint('add_backward'); print(backprop_lib.hint('add_backward'))"
        done = subprocess.run(
            [sys.executable, "-c", opened], cwd=student / "backprop", capture_output=True, text=True, env=student_env()
        )
        assert done.stdout.startswith("add_backward, hint 2 of 3: "), done.stderr
        nbgrader("submit", "backprop", *exchange_args, cwd=student)
        nbgrader("collect", "backprop", cwd=course.root)
        (who,) = grading.submitted_students(course)
        assert (course.folder("submitted", who) / STATE_NAME).is_file()
        assert taken_in(course, who).hints["add_backward"].rung == 2
