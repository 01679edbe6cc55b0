"""A grader's install: the wheel, built from this checkout, in a fresh venv, runs the whole demo.

Nothing of the checkout is used once the wheel is built: the demo runs from
another folder, with the venv's own interpreter, and finds the notebooks and
hidden tests as the kit's package data. The wheel ships no reference solution.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHECKOUT = Path(__file__).resolve().parent.parent


def run(*command, **options):
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_KIT_SOLUTIONS", "PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env, timeout=900, **options)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture
def grader_home():
    """The grader's folder: readable by every box, whose own uid must run the venv's interpreter (pytest's
    tmp_path lies under a folder only root may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="backprop-wheel-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_wheel_in_a_fresh_venv_builds_grades_and_exports_a_course(grader_home):
    tmp_path = grader_home
    run(sys.executable, "-m", "pip", "wheel", CHECKOUT, "--no-deps", "-q", "-w", tmp_path / "dist")
    (wheel,) = (tmp_path / "dist").glob("backprop_kit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sum(name.startswith("autograder/course/notebooks/") and name.endswith(".ipynb") for name in names) >= 7
    assert any(name.startswith("autograder/course/hidden_tests/") for name in names)
    assert not any(name.startswith("solutions/") or "/solutions/" in name for name in names)
    run(sys.executable, "-m", "venv", tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel)
    where = run(python, "-c", "import autograder; print(autograder.__file__)", cwd=tmp_path).stdout
    assert str(tmp_path / "venv") in where and str(CHECKOUT) not in where
    done = run(tmp_path / "venv" / "bin" / "backprop-kit", "demo", tmp_path / "demo", cwd=tmp_path)
    assert "untouched" in done.stdout and "demo finished in" in done.stdout
    assert (tmp_path / "demo" / "backprop-grades.csv").is_file()
    assert len(list((tmp_path / "demo" / "feedback" / "untouched" / "backprop").glob("*.html"))) >= 7
