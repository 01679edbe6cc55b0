"""Grading on submission (``backprop-kit course serve``) through nbgrader's real exchange, with real students:
Unix users made for the test, submitting and fetching feedback as themselves, who cannot read the course folder.

A burst of submissions, resubmissions included, with the service killed in the middle and started again: every
student's newest submission is graded exactly once, with the score ``course grade`` gives the same submission;
none is lost or graded twice; the student fetches its feedback and reads its status without a TA.
"""

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import nbformat
import pytest
from exchange_users import Students, open_exchange, submit_for, why_not
from one_notebook import NOTEBOOK, one_notebook_course

from autograder.course import BEGIN_HIDDEN, TA_CONFIG, BuildError, open_course, samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.grading import batch as grading
from autograder.reports import feedback
from autograder.service.queue import GRADED, GRADING, REPLACED, WAITING, Queue

pytestmark = pytest.mark.slow
real_students = pytest.mark.skipif(bool(why_not()), reason=why_not() or "")
SAMPLES = ["reference", "mistakes-3", "cheater", "untouched"]


def kit_env(home):
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    return env | {"HOME": str(home), "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"}


class Served:
    """``backprop-kit course serve`` in a process of its own; its lines collected as they come."""

    def __init__(self, env, course, *options):
        command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "serve", "-C", str(course.root), *options]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def wait_for(self, pattern, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in self.lines):
                return
            assert self.process.poll() is None, "".join(self.lines)
            time.sleep(0.2)
        raise AssertionError(f"no line like {pattern!r} in:\n{''.join(self.lines)}")

    def stop(self, signum=signal.SIGTERM):
        self.process.send_signal(signum)
        code = self.process.wait(timeout=120)
        self.reader.join(timeout=10)
        return code


def settled(course, count, timeout=600):
    """The queue's entries once ``count`` submissions were noticed and none waits or is being graded."""
    queue, deadline = Queue(course), time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = queue.entries()
        if len(entries) == count and not any(entry.state in (WAITING, GRADING) for entry in entries):
            return entries
        time.sleep(0.5)
    raise AssertionError(f"not settled: {queue.entries()}")


def report(env, course):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "report", "-C", str(course.root), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return {s["student"]: s for s in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def pool(home, tmp_path_factory):
    """The sample submissions, made once."""
    course = one_notebook_course(tmp_path_factory.mktemp("pool"))
    samples.make(course, SAMPLES)
    return {name: course.folder("submitted", name) for name in SAMPLES}


@real_students
def test_a_burst_through_the_exchange_with_the_service_killed_midway(pool, home, tmp_path):
    env = kit_env(home)
    course, root = open_exchange(one_notebook_course(tmp_path))
    with Students(["alice", "bob", "carol", "dave"], root, course.course_id) as students:
        submitted = {}

        def submit(name, sample):
            students.hand_in(name, pool[sample])
            submitted.setdefault(name, []).append(students.submit(name))

        first = Served(env, course, "--jobs", "1")
        first.wait_for("serving")
        submit("bob", "mistakes-3")
        submit("alice", "reference")
        submit("alice", "mistakes-3")  # resubmitted while the first still waits: it replaces it
        submit("carol", "cheater")
        first.wait_for(rf"grading\s+#\d+ {students.id('alice')} ")
        time.sleep(1.0)
        first.stop(signal.SIGKILL)  # in the middle of alice's grading; its workers die with it
        submit("dave", "reference")  # while no service runs
        submit("carol", "reference")
        second = Served(env, course, "--jobs", "2")
        entries = settled(course, 6)
        again = subprocess.run(
            [sys.executable, "-m", "backprop_lib.kit.cli", "course", "serve", "-C", str(course.root)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert again.returncode == 2 and "the grading service of this course runs already: course serve" in again.stderr
        assert second.stop() == 0
        lines = first.lines + second.lines
        interrupted = next(e for e in entries if e.student == students.id("alice") and e.state == GRADED)
        assert any(re.search(rf"again\s+#{interrupted.id} ", line) for line in second.lines), lines

        newest = {students.id(name): times[-1] for name, times in submitted.items()}
        by_student = {}
        for entry in entries:
            by_student.setdefault(entry.student, []).append(entry)
        assert set(by_student) == set(newest)
        for student, own in by_student.items():
            graded = [entry for entry in own if entry.state == GRADED]
            assert len(graded) == 1, own
            assert f"{graded[0].submitted_at:%Y-%m-%d %H:%M:%S.%f}" == newest[student].removesuffix(" UTC")
            assert all(entry.state == REPLACED for entry in own if entry is not graded[0]), own
            finished = [line for line in lines if re.search(rf"(graded|kept)\s+#{graded[0].id} ", line)]
            assert len(finished) == 1, lines  # graded exactly once, in either run
            assert not any(
                re.search(rf"(grading|graded|kept)\s+#{e.id} ", line)
                for e in own
                if e.state == REPLACED
                for line in lines
            )

        scores = report(env, course)
        twin = build(
            tmp_path / "twin",
            cell_timeout=10,
            notebooks_dir=tmp_path / "notebooks",
            hidden_tests_dir=tmp_path / "hidden",
        )
        release(twin)
        shutil.copytree(course.root / "submitted", twin.root / "submitted", dirs_exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", str(twin.root)],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        alone = report(env, open_course(twin.root))
        assert {s: c["cells"] for s, c in scores.items()} == {s: c["cells"] for s, c in alone.items()}

        for name in submitted:
            student, entry = students.id(name), next(e for e in by_student[students.id(name)] if e.state == GRADED)
            assert entry.score == scores[student]["grade"]
            when = datetime.fromisoformat(submitted[name][-1].replace(" UTC", "+00:00"))
            assert datetime.fromisoformat(scores[student]["submitted_at"]) == when  # course report: which submission
            assert datetime.fromisoformat(scores[student]["graded_at"]) > when
            assert not students.can_list(name, course.root)
            status = students.status(name)
            assert status.returncode == 0, status.stderr
            assert "graded " in status.stdout and f": {entry.score:g}/{entry.max_score:g} points" in status.stdout
            assert "feedback released" in status.stdout
            page = students.fetch_feedback(name) / submitted[name][-1] / "02_computation_graphs.html"
            assert f"Your grade: {entry.score:g}/{entry.max_score:g}" in page.read_text()


def test_before_the_due_date_feedback_shows_the_points_and_checks_and_what_hidden_tests_printed_after(
    pool, home, tmp_path
):
    course = one_notebook_course(tmp_path)
    shutil.copytree(pool["mistakes-3"], course.folder("submitted", "mistaken"))
    grading.grade(course, ["mistaken"])
    autograded = nbformat.read(course.folder("autograded", "mistaken") / f"{NOTEBOOK}.ipynb", as_version=4)
    printed = [
        output.evalue
        for cell in autograded.cells
        if BEGIN_HIDDEN in cell.source
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert printed, "the mistakes fail cells with hidden tests"

    def page(**settings):
        with open(course.root / TA_CONFIG, "a") as config:
            config.writelines(f"\nc.BackpropCourse.{name} = {value!r}\n" for name, value in settings.items())
        release(open_course(course.root))  # writes the due date into the gradebook
        folder = feedback.generate(open_course(course.root), ["mistaken"])["mistaken"]
        return html.unescape((folder / f"{NOTEBOOK}.html").read_text())

    before = page(due_date="2099-01-31 23:59:00 UTC")  # the default: "checks"
    assert feedback.HIDDEN_NOTE in before and "Until the due date (2099-01-31 23:59 UTC)" in before
    assert not any(message in before for message in printed)
    assert "Your grade: " in before and "grader's own check" in before
    full = page(feedback_before_due_date="full")
    assert feedback.HIDDEN_NOTE not in full and all(message in full for message in printed)
    after = page(feedback_before_due_date="checks", due_date="2020-01-31 23:59:00 UTC")
    assert feedback.HIDDEN_NOTE not in after and all(message in after for message in printed)
    with open(course.root / TA_CONFIG, "a") as config:
        config.write('\nc.BackpropCourse.feedback_before_due_date = "some"\n')
    with pytest.raises(BuildError, match="feedback_before_due_date must be 'checks' or 'full', not 'some'"):
        feedback.hidden_results_shown(open_course(course.root))


def test_on_a_dask_cluster_the_service_grades_as_course_grade_does(pool, home, tmp_path):
    pytest.importorskip("distributed")
    from dask_cluster import running_cluster
    from postgres_server import available, running_postgres

    if not available():
        pytest.skip("no PostgreSQL server binaries: install Debian's postgresql package")
    env = kit_env(home)
    parent = tmp_path / "pool"
    parent.mkdir()
    one_notebook_course(parent)  # its notebooks and hidden tests, for a course on PostgreSQL
    with running_postgres() as url, running_cluster(1, env) as (address, _):
        course = build(
            tmp_path / "course", db_url=url, cell_timeout=10, notebooks_dir=parent / "notebooks",
            hidden_tests_dir=parent / "hidden",
        )  # fmt: skip
        release(course)
        course, root = open_exchange(course)
        served = Served(env, course, "--scheduler", address)
        served.wait_for("serving")
        for student, sample in (("alice", "reference"), ("bob", "mistakes-3")):
            submit_for(root, course.course_id, student, pool[sample])
        entries = settled(course, 2)
        assert served.stop() == 0
        assert all(entry.state == GRADED for entry in entries), served.lines
        assert (course.root / "autograded" / "alice").is_dir()  # the worker's folders, written back
        assert all((course.folder("feedback", s) / f"{NOTEBOOK}.html").is_file() for s in ("alice", "bob"))
        on_the_cluster = report(env, course)
        done = subprocess.run(
            [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", str(course.root), "--force"],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        locally = report(env, course)
        assert {s: c["cells"] for s, c in on_the_cluster.items()} == {s: c["cells"] for s, c in locally.items()}
        assert {e.student: e.score for e in entries} == {s: c["grade"] for s, c in locally.items()}


def test_a_late_submission_gets_nbgrader_s_late_penalty_on_submission(pool, home, tmp_path):
    course = one_notebook_course(tmp_path)
    with open(course.root / TA_CONFIG, "a") as config:
        config.write('\nc.BackpropCourse.due_date = "2020-01-31 23:59:00 UTC"\n')
        config.write('c.LateSubmissionPlugin.penalty_method = "zero"\n')
    release(open_course(course.root))  # the due date, into the gradebook
    course, root = open_exchange(open_course(course.root))
    served = Served(kit_env(home), course)
    served.wait_for("serving")
    submit_for(root, course.course_id, "late", pool["reference"])
    (entry,) = settled(course, 1)
    assert served.stop() == 0
    scores = report(kit_env(home), course)["late"]
    assert entry.state == GRADED and entry.score == 0 == scores["grade"]
    assert any(note.startswith("late submission: 9 points deducted") for note in scores["notes"]), scores["notes"]
