"""A student's feedback pages in a real browser, offline: the grade, the reasons per exercise, rendered math.

One course, two students: ``cheater`` (flagged: the verification took points its
kernel faked) and ``reference`` with a TA's override (a manual score, set with
nbgrader's gradebook API as formgrader does). Headless Chromium opens the pages
with every network request refused.
"""

import pytest
from headless_chromium import launched
from nbgrader.api import Gradebook
from scratch_home import scratch_home

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.grading import batch as grading
from autograder.reports import feedback
from autograder.reports import scores as report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course", cell_timeout=30)
        release(course)
        samples.make(course, ["cheater", "reference"])
        grading.grade(course, ["cheater", "reference"], jobs=2)
        with Gradebook(course.db_url, course.course_id) as gradebook:
            grade = gradebook.find_grade("relu_backward", "05_jacobians_relu", "backprop", "reference")
            grade.manual_score = 0.5
            gradebook.db.commit()
        feedback.generate(course)
        yield course


@pytest.fixture(scope="module")
def browser():
    with launched() as browser:
        yield browser


def open_offline(browser, path):
    """The page at ``path``, every request but the page itself refused; returns (page, refused URLs)."""
    page = browser.new_page()
    refused = []

    def route(request_route):
        if request_route.request.url.startswith("file://"):
            request_route.continue_()
        else:
            refused.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return page, refused


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("cheater", "relu_backward (backprop_lib/activations.py): failed"),
        ("reference", "set by your TA (automatic score"),
    ],
)
def test_a_page_shows_the_grade_the_reasons_and_rendered_math(course, browser, student, reason):
    scores = {s.student: s for s in report.collect(course)}[student]
    maximum = sum(cell.points for cell in scores.cells.values())
    page, refused = open_offline(browser, course.folder("feedback", student) / "05_jacobians_relu.html")
    box = page.locator(".backprop-kit-grade")
    assert box.is_visible()
    text = box.inner_text()
    assert f"Your grade: {scores.total:g}/{maximum:g}" in text
    assert reason in text
    cell = scores.cells["05_jacobians_relu/relu_backward"]
    assert f"relu_backward\t{cell.final:g}/2\t{cell.reason().split(': ', 1)[1]}" in text
    assert refused == [] and page.locator("script").count() == 0
    formula = page.locator(".text_cell_render math").first
    size = formula.bounding_box()
    assert size and size["width"] > 10 and size["height"] > 5, "MathML rendered as math, offline"
    prose = " ".join(page.locator(".text_cell_render").all_inner_texts())
    assert "$" not in prose and "\\partial" not in prose
    page.close()


def test_the_flagged_student_sees_the_diagnostic_and_every_page_the_same_grade(course, browser):
    scores = {s.student: s for s in report.collect(course)}["cheater"]
    assert scores.flagged
    grades = set()
    for stem in course.notebooks():
        page, refused = open_offline(browser, course.folder("feedback", "cheater") / f"{stem}.html")
        grades.add(page.locator(".backprop-kit-grade h2").inner_text())
        assert refused == []
        page.close()
    assert grades == {f"Your grade: {scores.total:g}/{sum(c.points for c in scores.cells.values()):g}"}
    page, _ = open_offline(browser, course.folder("feedback", "cheater") / "05_jacobians_relu.html")
    assert "relu_backward (backprop_lib/activations.py): failed" in page.locator(".backprop-kit-grade").inner_text()
    html = page.content()  # the diagnostic quotes the stolen file's path: shortened like every other path
    assert str(course.root) not in html and "/tmp/" not in html and "site-packages" not in html
    page.close()
