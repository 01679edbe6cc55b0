"""One grade everywhere: formgrader, `nbgrader export`, the kit's export and the feedback show the same number.

On a sqlite gradebook graded by one grader, and on a real PostgreSQL server
shared by two graders (two course folders, as two machines would have) grading
disjoint students at the same time. A TA's override is made through
formgrader's own JSON API on a running formgrader, and survives a re-grade.
Why a cell lost its points is the cell's comment, in formgrader's API and on its
grading page.
"""

import csv
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from postgres_server import free_port, postgres  # noqa: F401 (a fixture)

from autograder.course import open_course
from autograder.course.build import build
from autograder.course.samples import make
from autograder.gradebook.store import why_points_lost
from autograder.reports import exporters
from autograder.reports import scores as report

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
OVERRIDE = ("cheater", "05_jacobians_relu", "relu_backward", 1.5)  # verification took its 2 points; the TA gives 1.5


def kit_env(home):
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", JUPYTER_CONFIG_DIR=str(home / "jupyter"))
    return env


def backprop_kit(home, *args):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, env=kit_env(home), timeout=900)
    assert done.returncode == 0, done.stderr
    return done


@contextmanager
def formgrader(course, home):
    """A real formgrader (jupyter server with nbgrader's extension) in the course folder; yields its JSON API and
    a reader of its pages."""
    token, port = secrets.token_hex(16), free_port()
    command = [BIN / "jupyter", "server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1"]
    command += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    server = subprocess.Popen(
        command, cwd=course.root, env=kit_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def api(path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/formgrader/api/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method="GET" if body is None else "PUT",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def page(path):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/formgrader/{path}", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                api("status")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "formgrader did not start"
                time.sleep(0.5)
        yield api, page
    finally:
        server.terminate()
        server.wait(timeout=30)


def override(api, student, notebook, grade_id, score):
    """Set a manual score the way formgrader's grading page does: find the grade, PUT its manual_score."""
    (submission,) = [s for s in api(f"submitted_notebooks/backprop/{notebook}") if s["student"] == student]
    (grade,) = [g for g in api(f"grades?submission_id={submission['id']}") if g["name"] == grade_id]
    api(f"grade/{grade['id']}", {"manual_score": score})


def comments(api, student, notebook):
    """(submission id, {grade_id: the kit's comment}) of a student's notebook, from formgrader's API; (None, None)
    if formgrader does not list it (it lists the notebooks nbgrader autograded)."""
    listed = [s for s in api(f"submitted_notebooks/backprop/{notebook}") if s["student"] == student]
    if not listed:
        return None, None
    (submission,) = listed
    found = api(f"comments?submission_id={submission['id']}")
    return submission["id"], {c["name"]: c["auto_comment"] for c in found if c["auto_comment"]}


def check_reasons_in_formgrader(course, api, page):
    """Every cell that lost points carries the kit's reason as its comment; the grading page shows it."""
    for student, scores in {s.student: s for s in report.collect(course)}.items():
        findings = {name: result.summary for name, result in scores.verified.items()}
        for notebook in course.notebooks():
            submission, shown = comments(api, student, notebook)
            if submission is None:
                assert not scores.record.valid(notebook), (student, notebook)  # not valid JSON, or missing
                continue
            cells = [cell for cell in scores.cells.values() if cell.notebook == notebook]
            expected = {cell.grade_id: why_points_lost(cell, findings.get(cell.grade_id)) for cell in cells}
            expected = {grade_id: reason for grade_id, reason in expected.items() if reason}
            assert shown == expected, (student, notebook)
            if student == "cheater" and notebook == OVERRIDE[1]:
                assert "0/2" in shown[OVERRIDE[2]] and "new inputs failed" in shown[OVERRIDE[2]]
                assert f"Grader's note: {shown[OVERRIDE[2]]}<" in html.unescape(page(f"submissions/{submission}/"))
    assert not comments(api, "reference", OVERRIDE[1])[1]


def every_view(course, home, api, tmp_path):
    """{view: {student: grade}} from formgrader, nbgrader export, the kit's three exports, report and feedback."""
    views = {"formgrader": {s["student"]: s["score"] for s in api("submissions/backprop")}}
    subprocess.run(
        [BIN / "nbgrader", "export", "--to", tmp_path / "nbgrader.csv"],
        cwd=course.root, env=kit_env(home), check=True, capture_output=True,
    )  # fmt: skip
    with open(tmp_path / "nbgrader.csv") as file:
        views["nbgrader export"] = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}
    for kind, column, key in (("generic", "grade", "student_id"), ("moodle", "backprop", "ID number")):
        backprop_kit(home, "course", "export", "-C", course.root, "--format", kind, "--to", tmp_path / f"{kind}.csv")
        with open(tmp_path / f"{kind}.csv") as file:
            views[kind] = {row[key]: float(row[column]) for row in csv.DictReader(file)}
    backprop_kit(home, "course", "export", "-C", course.root, "--format", "canvas", "--to", tmp_path / "canvas.csv")
    with open(tmp_path / "canvas.csv") as file:
        views["canvas"] = {r["SIS User ID"]: float(r["backprop"]) for r in csv.DictReader(file) if r["SIS User ID"]}
    subprocess.run(
        [BIN / "nbgrader", "export", "--exporter=autograder.reports.exporters.CanvasExport",
         "--to", tmp_path / "plugin.csv"],
        cwd=course.root, env=kit_env(home), check=True, capture_output=True,
    )  # fmt: skip
    with open(tmp_path / "plugin.csv") as file:
        rows = csv.DictReader(file)
        views["nbgrader export --exporter"] = {r["SIS User ID"]: float(r["backprop"]) for r in rows if r["SIS User ID"]}
    views["report"] = {s.student: s.total for s in report.collect(course)}
    backprop_kit(home, "course", "feedback", "-C", course.root)
    views["feedback"] = {}
    for student in views["report"]:
        pages = sorted(course.folder("feedback", student).glob("*.html"))
        shown = {re.search(r"Your grade: ([\d.]+)/", page.read_text()).group(1) for page in pages}
        assert len(pages) == len(course.notebooks()) and len(shown) == 1, (student, shown)
        views["feedback"][student] = float(shown.pop())
    return views


def check_one_grade_everywhere(course, home, tmp_path):
    before = {s.student: s for s in report.collect(course)}
    cheater = before["cheater"]
    assert cheater.flagged and cheater.total < cheater.test_total
    student, notebook, grade_id, score = OVERRIDE
    assert cheater.score(f"{notebook}/{grade_id}") == 0 and cheater.cells[f"{notebook}/{grade_id}"].raw == 2
    with formgrader(course, home) as (api, page):
        flagged = {s["student"]: s["flagged"] for s in api(f"submitted_notebooks/backprop/{notebook}")}
        assert flagged["cheater"] and not flagged["reference"]
        check_reasons_in_formgrader(course, api, page)
        override(api, student, notebook, grade_id, score)
        override(api, "messy", "06_linear_layer", "linear_backward", 1.0)  # layers.py does not compile: the TA decides
        backprop_kit(
            home, "course", "grade", "-C", course.root, "--force", "--student", "cheater", "--student", "messy"
        )
        views = every_view(course, home, api, tmp_path)
        assert comments(api, student, notebook)[1][grade_id].startswith(f"{score:g}/2: set by your TA")
    after = {s.student: s for s in report.collect(course)}
    assert after["cheater"].score(f"{notebook}/{grade_id}") == score, "the override survives a re-grade"
    assert after["cheater"].total == cheater.total + score
    assert after["messy"].score("06_linear_layer/linear_backward") == 1.0
    assert not after["reference"].flagged
    expected = {name: s.total for name, s in after.items()}
    for view, grades in views.items():
        assert grades == expected, view
    notes = " ".join(after["cheater"].notes())
    assert "set by your TA" in notes and "relu_backward 1.5/2" in notes and "passed its nbgrader test" not in notes


def test_one_grade_everywhere_on_sqlite(tmp_path):
    home = tmp_path / "home"
    course = build(tmp_path / "course", cell_timeout=30)
    backprop_kit(home, "course", "release", "-C", course.root)
    make(course, ["cheater", "messy", "reference"])
    backprop_kit(home, "course", "grade", "-C", course.root, "--jobs", "2")
    check_one_grade_everywhere(course, home, tmp_path)


def test_one_grade_everywhere_with_two_graders_on_postgresql(postgres, tmp_path):  # noqa: F811
    home = tmp_path / "home"
    first, second = (tmp_path / name for name in ("first", "second"))
    for root in (first, second):
        backprop_kit(home, "course", "build", root, "--db", postgres, "--cell-timeout", "30")
        backprop_kit(home, "course", "release", "-C", root)
    make(open_course(first), ["cheater", "reference"])
    make(open_course(second), ["messy"])
    graders = [
        subprocess.Popen(
            [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", root, "--jobs", "1"],
            env=kit_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for root in (first, second)
    ]
    for grader in graders:
        out, err = grader.communicate(timeout=900)
        assert grader.returncode == 0, err
    seen_from_second = {s.student: s for s in report.collect(open_course(second))}
    assert set(seen_from_second) == {"cheater", "messy", "reference"}
    assert seen_from_second["cheater"].verified and seen_from_second["cheater"].flagged
    assert not (first / "gradebook.db").exists() and not (second / "gradebook.db").exists()
    course = open_course(first)
    # formgrader lists only notebooks autograded on its own machine's disk: the first grader takes messy over
    # (--force: the submission and the course are unchanged, so a plain re-grade would keep the last grading)
    shutil.copytree(second / "submitted" / "messy", course.root / "submitted" / "messy")
    backprop_kit(home, "course", "grade", "-C", first, "--force", "--student", "messy")
    check_one_grade_everywhere(course, home, tmp_path)
    assert exporters.FORMATS["generic"][1] != "grades.csv"
