"""The grading service's queue and its view of nbgrader's exchange, without grading: first in first out across
students, one grading of a student at a time, a newer submission taking a waiting one's place, the rate limit
saying when, a restart losing nothing, the submission nbgrader's collect would take, a submission still being
written ignored, the gradebook upgraded to the queue's table."""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from exchange_users import open_exchange, submit_for
from one_notebook import one_notebook_course
from scratch_home import scratch_home

from autograder.course import TA_CONFIG, BuildError, open_course
from autograder.course.build import build
from autograder.gradebook import schema
from autograder.gradebook.migration import migrate
from autograder.gradebook.record import SCHEMA_VERSION
from autograder.service.exchange import Exchange, Submission
from autograder.service.queue import FAILED, GRADED, REPLACED, WAITING, Queue
from autograder.service.server import gradings_per_hour
from backprop_lib.kit.status import describe, status_file

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def arrival(student, minutes):
    moment = at(minutes)
    return Submission(student, f"{student}+backprop+{moment:%Y-%m-%d %H:%M:%S.%f} UTC", moment.replace(tzinfo=None))


def noticed(queue, *submissions, when=None):
    """The submissions entered as nbgrader's collect would choose: the newest of each student."""
    chosen = {}
    for submission in sorted(submissions, key=lambda s: s.timestamp):
        chosen[submission.student] = submission
    return queue.notice(submissions, chosen, when or max(s.timestamp for s in submissions).replace(tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A course whose gradebook holds the kit's tables (nbgrader's are made at release: not needed here)."""
    course = build(tmp_path_factory.mktemp("queue") / "course")
    migrate(course)
    return course


@pytest.fixture
def course(built):
    """The course with an empty queue; its TA configuration as built, again after the test."""
    config = (built.root / TA_CONFIG).read_text()
    engine = sqlalchemy.create_engine(built.db_url)
    with engine.begin() as connection:
        connection.execute(schema.queue_table.delete())
    engine.dispose()
    yield built
    (built.root / TA_CONFIG).write_text(config)


@pytest.fixture
def released(tmp_path):
    """A released course of its own, for nbgrader's exchange."""
    with scratch_home(tmp_path / "home"):
        yield one_notebook_course(tmp_path)


def test_first_in_first_out_across_students_one_grading_of_a_student_at_a_time(course):
    queue = Queue(course)
    noticed(queue, arrival("bob", 0), arrival("alice", 1), arrival("carol", 2))
    first, _ = queue.next(at(3), set(), None)
    assert first.student == "bob"
    queue.start(first, at(3))
    second, _ = queue.next(at(3), {"bob"}, None)
    assert second.student == "alice"
    noticed(queue, arrival("bob", 4))  # bob again while his first is being graded: waits behind the others
    queue.start(second, at(4))
    third, _ = queue.next(at(4), {"bob", "alice"}, None)
    assert third.student == "carol"
    assert queue.next(at(4), {"bob", "alice", "carol"}, None)[0] is None  # bob's second waits for his first
    queue.finish(first, GRADED, at(5), score=9, max_score=9)
    assert queue.next(at(5), {"alice", "carol"}, None)[0].student == "bob"


def test_a_newer_submission_takes_the_place_of_the_waiting_one(course):
    queue = Queue(course)
    noticed(queue, arrival("alice", 0), arrival("bob", 1))
    changed = noticed(queue, arrival("alice", 2))
    old, new = changed
    assert old.state == REPLACED and "replaced by the submission of 2026-01-12 09:02:00 UTC" in old.note
    assert new.state == WAITING and new.place == old.place
    assert [(e.student, e.submission) for e in queue.entries(WAITING)] == [
        ("alice", arrival("alice", 2).folder),
        ("bob", arrival("bob", 1).folder),
    ]
    both = noticed(queue, arrival("carol", 3), arrival("carol", 4))  # two at once: the older never waits
    assert [(e.submission, e.state) for e in both] == [
        (arrival("carol", 3).folder, REPLACED),
        (arrival("carol", 4).folder, WAITING),
    ]
    assert "a newer submission of the student was there already" in both[0].note
    assert noticed(queue, arrival("carol", 4), when=at(5)) == []  # seen before: nothing new


def test_the_rate_limit_holds_a_submission_and_says_when_it_may_be_graded(course):
    queue = Queue(course)
    for minute in (0, 10):
        (entry,) = noticed(queue, arrival("alice", minute))
        queue.finish(queue.start(entry, at(minute)), GRADED, at(minute + 1), score=9, max_score=9)
    (waiting,) = noticed(queue, arrival("alice", 20))
    entry, held = queue.next(at(20), set(), 2)
    assert entry is None and held == {waiting.id: at(60)}  # two gradings in the hour: the next at 10:00
    assert queue.next(at(59), set(), 2)[0] is None
    assert queue.next(at(60), set(), 2)[0].id == waiting.id
    assert queue.next(at(20), set(), 3)[0].id == waiting.id  # a course allowing three: now
    assert queue.next(at(20), set(), None)[0].id == waiting.id  # no limit


def test_a_restart_puts_interrupted_gradings_back_in_their_place(course):
    queue = Queue(course)
    noticed(queue, arrival("alice", 0), arrival("bob", 1))
    alice, _ = queue.next(at(2), set(), None)
    queue.start(alice, at(2))
    again = Queue(course)  # a new service process, after a crash
    (recovered,) = again.recover(at(5))
    assert recovered.id == alice.id and recovered.state == WAITING and recovered.attempts == 1
    assert again.next(at(5), set(), None)[0].id == alice.id  # still first
    for attempt in range(2, 4):
        again.start(again.entries(WAITING)[0], at(5 + attempt))
        (recovered,) = again.recover(at(6 + attempt))
    assert recovered.state == FAILED and "during each of its 3 gradings" in recovered.note
    assert again.known == {arrival("alice", 0).folder, arrival("bob", 1).folder}


def test_a_grading_that_could_not_start_is_not_counted(course):
    queue = Queue(course)
    (entry,) = noticed(queue, arrival("alice", 0))
    back = queue.back(queue.start(entry, at(1)), "alice is being graded by course grade")
    assert back.state == WAITING and back.attempts == 0 and back.started_at is None


def test_the_options_are_checked(course):
    assert gradings_per_hour(course) == 6
    for wrong in ("6", 0, 1.5, True):
        (course.root / TA_CONFIG).write_text(
            (course.root / TA_CONFIG).read_text() + f"\nc.BackpropCourse.gradings_per_hour = {wrong!r}\n"
        )
        with pytest.raises(BuildError, match="gradings_per_hour must be a whole number of at least 1"):
            gradings_per_hour(open_course(course.root))


@pytest.mark.slow
def test_the_exchange_gives_complete_submissions_and_what_nbgrader_would_collect(released):
    course, root = open_exchange(released)
    for student in ("alice", "alice", "bob"):
        submit_for(root, course.course_id, student, course.folder("release"))
    exchange = Exchange(course)
    found = sorted(exchange.submissions(), key=lambda s: s.timestamp)
    assert [s.student for s in found] == ["alice", "alice", "bob"]
    writing = exchange.inbound / found[2].folder
    writing.chmod(0o755)  # as nbgrader's submit leaves it until its last step
    assert sorted(s.student for s in exchange.submissions()) == ["alice", "alice"]
    assert sorted(s.student for s in exchange.submissions({found[2].folder})) == ["alice", "alice", "bob"]
    writing.chmod(0o777)
    due = found[1].timestamp - timedelta(microseconds=1)  # alice's second came after the due date
    assert exchange.chosen(found, due) == {"alice": found[1], "bob": found[2]}  # nbgrader's default: the newest
    with open(course.root / TA_CONFIG, "a") as config:
        config.write("\nc.ExchangeCollect.before_duedate = True\n")
    before = Exchange(open_course(course.root))
    assert before.chosen(found, due) == {"alice": found[0], "bob": found[2]}
    entries = Queue(course).notice(found, before.chosen(found, due), at(0))
    assert [e.state for e in entries] == [WAITING, REPLACED, WAITING]
    assert "after the due date: this course grades the last submission before it" in entries[1].note
    before.collect(found[0])
    collected = course.folder("submitted", "alice")
    assert (collected / "submission_secret.txt").read_text() == before.secret(found[0])
    assert (collected / "timestamp.txt").read_text() == f"{found[0].timestamp} UTC"


@pytest.mark.slow
def test_the_status_file_is_found_only_with_the_submission_s_secret_and_read_by_the_student(released):
    course, root = open_exchange(released)
    submit_for(root, course.course_id, "alice", course.folder("release"))
    exchange = Exchange(course)
    (submission,) = exchange.submissions()
    secret = exchange.secret(submission)
    exchange.write_status(secret, {"state": "waiting", "received_at": "2026-01-12T09:00:01+00:00", "ticket": 7})
    exchange.write_queue({"waiting": [3, 7, 9], "grading": [1, 2]})
    path = exchange.feedback / status_file(secret)
    assert oct(path.stat().st_mode & 0o777) == "0o644" and oct(exchange.feedback.stat().st_mode & 0o777) == "0o711"
    assert secret not in path.name and status_file(secret) != status_file(secret + "x")
    status = json.loads(path.read_text())
    queue = json.loads((exchange.feedback / "backprop-kit-queue.json").read_text())
    from backprop_lib.kit.status import Submission as Cached

    text = describe(Cached(course.course_id, "backprop", "2026-01-12 09:00:00.5 UTC", secret), status, queue)
    assert "submitted 2026-01-12 09:00:00 UTC" in text and "place 2 of 3 in the queue (2 being graded now)" in text


def test_before_a_first_submission_status_says_so_and_succeeds(tmp_path):
    with scratch_home(tmp_path / "home") as patch:
        patch.chdir(tmp_path)
        ask = [sys.executable, "-m", "backprop_lib.kit.cli", "status"]
        plain = subprocess.run(ask, capture_output=True, text=True, timeout=120)
        as_json = subprocess.run([*ask, "--json"], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and not plain.stderr, plain.stderr
    assert "nothing submitted yet" in plain.stdout and "submit with the Assignments tab" in plain.stdout
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []


def test_an_older_gradebook_gains_the_queue_table(course):
    engine = sqlalchemy.create_engine(course.db_url)
    with engine.begin() as connection:  # the gradebook as kit schema 2 left it
        connection.execute(sqlalchemy.text("DROP TABLE backprop_kit_queue"))
        connection.execute(schema.schema_table.update().values(version=2))
    assert migrate(course) == SCHEMA_VERSION
    with engine.connect() as connection:
        assert sqlalchemy.inspect(connection).has_table("backprop_kit_queue")
    engine.dispose()
    assert Queue(course).entries() == []


def serve(course, *options):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "serve", "-C", str(course.root), *options]
    env = {k: v for k, v in os.environ.items() if k != "BACKPROP_KIT_SOLUTIONS" and not k.startswith("JUPYTERHUB_")}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_a_course_without_an_exchange_or_a_cluster_on_sqlite_is_refused_in_one_line(course):
    done = serve(course)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "no exchange inbound folder at /usr/local/share/nbgrader/exchange/backprop-kit/inbound" in done.stderr
    assert "set c.Exchange.root in" in done.stderr
    done = serve(course, "--scheduler", "tcp://127.0.0.1:1")
    assert done.returncode == 2 and "--scheduler needs a gradebook every worker can reach" in done.stderr


def test_the_insights_page_is_served_only_as_a_jupyterhub_service(course):
    done = serve(course, "--pages-port", "9")
    assert done.returncode == 2 and "JupyterHub service" in done.stderr and "course insights" in done.stderr
