"""The gradebook on a real PostgreSQL server, which the test starts on loopback and stops by its PID."""

import pytest
import sqlalchemy
from postgres_server import postgres  # noqa: F401 (a fixture)

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook.record import SCHEMA_VERSION
from autograder.grading import batch as grading
from autograder.reports import scores as report

pytestmark = pytest.mark.slow


def test_a_course_graded_on_a_postgresql_gradebook(postgres, tmp_path, monkeypatch):  # noqa: F811
    for name in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "home" / name.lower()))
    course = build(tmp_path / "course", db_url=postgres, cell_timeout=10)
    release(course)
    samples.make(course, ["messy"])
    grading.grade(course, ["messy"])
    scores = {s.student: s for s in report.collect(course)}
    cells = report.grade_cells(course)
    maximum = sum(cell.points for cell in cells)
    assert 0 < scores["messy"].total < maximum and scores["messy"].verified
    assert all(scores["messy"].score(cell.key) == 0 for cell in cells if cell.notebook.startswith("01"))
    assert not (course.root / "gradebook.db").exists()
    engine = sqlalchemy.create_engine(postgres)
    with engine.connect() as connection:
        students = connection.execute(sqlalchemy.text("SELECT id FROM student ORDER BY id")).scalars().all()
        total = connection.execute(sqlalchemy.text("SELECT sum(auto_score) FROM grade")).scalar()
        version = connection.execute(sqlalchemy.text("SELECT version FROM backprop_kit_schema")).scalar()
        checks = connection.execute(sqlalchemy.text("SELECT count(*) FROM backprop_kit_check")).scalar()
    engine.dispose()
    assert students == ["messy"] and version == SCHEMA_VERSION
    assert total == scores["messy"].total and checks == len(scores["messy"].verified)
