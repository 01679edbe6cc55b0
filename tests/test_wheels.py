"""The two distributions, each built from this checkout and installed alone in a fresh venv.

- The student's, ``backprop-kit`` (student-kit/): the library, its checks, hints and
  widgets, the workspace and JupyterLab, the notebooks; no autograder, no hidden test,
  no reference solution, no catalogued answer formula (tests/test_no_answer_leaks.py)
  anywhere in the wheel. Installed alone, it gives ``check``, ``hint``, ``workspace``
  and ``lab``, which work in a workspace made from it.
- The grader's, ``backprop-kit-grader`` (the repository's pyproject.toml): everything,
  with the hidden tests, the reference solutions and the mistake catalog. Installed
  alone, it builds a course, grades every sample submission and runs the demo.

Nothing of the checkout is used once the wheels are built: the commands run from
other folders, with each venv's own interpreter.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from test_no_answer_leaks import leaks, notebook_leaks

pytestmark = pytest.mark.slow
CHECKOUT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path.name for path in (CHECKOUT / "notebooks").glob("*.ipynb"))


def run(*command, check=True, **options):
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_KIT_SOLUTIONS", "PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env, timeout=1800, **options)
    assert done.returncode == 0 or not check, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def folder():
    """A folder readable by every box, whose own uid must run the venvs' interpreters (pytest's tmp_path lies under
    a folder only root may enter)."""
    path = Path(tempfile.mkdtemp(prefix="backprop-wheels-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def wheels(folder):
    """{"student": wheel, "grader": wheel}, built from the checkout with pip as a user would."""
    run(sys.executable, "-m", "pip", "wheel", CHECKOUT / "student-kit", "--no-deps", "-q", "-w", folder / "dist")
    run(sys.executable, "-m", "pip", "wheel", CHECKOUT, "--no-deps", "-q", "-w", folder / "dist")
    (student,) = (folder / "dist").glob("backprop_kit-*.whl")
    (grader,) = (folder / "dist").glob("backprop_kit_grader-*.whl")
    return {"student": student, "grader": grader}


def venv(path, wheel):
    """A fresh venv at ``path`` with ``wheel`` alone installed (its dependencies from the package index)."""
    run(sys.executable, "-m", "venv", path)
    run(path / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    return path / "bin"


def texts(wheel):
    """{name: text} of every file in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()}


def as_percent_script(notebook_json):
    """A notebook's cells in jupytext's percent format, the form the leak catalogue scans notebooks in."""
    lines = []
    for cell in json.loads(notebook_json)["cells"]:
        lines.append(f"# %% {json.dumps(cell.get('metadata', {}))}")
        lines += "".join(cell["source"]).splitlines()
    return lines


def test_the_student_s_wheel_holds_no_answer_and_gives_the_student_s_commands(wheels, folder):
    files = texts(wheels["student"])
    assert not [name for name in files if name.startswith(("autograder/", "solutions/")) or "hidden_tests" in name]
    shipped = sorted(name.rsplit("/", 1)[1] for name in files if name.startswith("backprop_lib/kit/notebooks/"))
    assert shipped == NOTEBOOKS
    lines = {
        name: as_percent_script(text) if name.endswith(".ipynb") else text.splitlines() for name, text in files.items()
    }
    regions = [
        name
        for name, text in lines.items()
        if {"### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"} & set(map(str.strip, text))
    ]
    assert not regions, f"solution or hidden-test regions in {regions}"
    notebooks = [(name, text) for name, text in sorted(lines.items()) if name.endswith(".ipynb")]
    found = notebook_leaks(notebooks) + [
        (name, n, exercise, line)
        for name, text in lines.items()
        if not name.endswith(".ipynb")
        for n, exercise, line in leaks(text)
    ]
    assert not found, "\n".join(f"{name}:{n}: {exercise}: {line}" for name, n, exercise, line in found)

    bin_dir = venv(folder / "student-venv", wheels["student"])
    kit = bin_dir / "backprop-kit"
    usage = run(kit, "--help", cwd=folder).stdout
    assert set(re.search(r"\{([\w,]+)\}", usage).group(1).split(",")) == {
        "check",
        "exercises",
        "hint",
        "workspace",
        "lab",
        "status",
    }
    for command in ("check", "hint", "workspace", "lab", "status"):
        assert command in run(kit, command, "--help", cwd=folder).stdout
    assert run(bin_dir / "python", "-c", "import autograder", check=False, cwd=folder).returncode != 0

    workspace = folder / "my-workspace"
    run(kit, "workspace", workspace, cwd=folder)
    assert sorted(path.name for path in workspace.glob("*.ipynb")) == NOTEBOOKS
    checked = run(kit, "check", check=False, cwd=workspace)
    assert checked.returncode == 1 and "relu_backward" in checked.stdout and "not implemented" in checked.stdout
    assert run(kit, "hint", "relu_backward", cwd=workspace).stdout.strip()
    lab = run(kit, "lab", workspace, "--version", cwd=folder)  # `jupyter lab --version`, started as `lab` does
    assert lab.stdout.strip()[0].isdigit()


def test_the_grader_s_wheel_alone_builds_a_course_and_grades_every_sample(wheels, folder):
    files = texts(wheels["grader"])
    hidden = {path.relative_to(CHECKOUT / "autograder" / "course").as_posix() for path in
              (CHECKOUT / "autograder" / "course" / "hidden_tests").glob("*/*.py")}  # fmt: skip
    assert {f"autograder/course/{name}" for name in hidden} <= set(files)
    solutions = {path.name for path in (CHECKOUT / "solutions").glob("*.py")}
    assert {f"autograder/course/solutions/{name}" for name in solutions} <= set(files)
    assert sorted(n.rsplit("/", 1)[1] for n in files if n.endswith(".ipynb")) == NOTEBOOKS, "each notebook once"

    bin_dir = venv(folder / "grader-venv", wheels["grader"])
    where = run(bin_dir / "python", "-c", "import autograder; print(autograder.__file__)", cwd=folder).stdout
    assert str(folder / "grader-venv") in where and str(CHECKOUT) not in where
    code = "from autograder.course.samples import sample_names; print(' '.join(sample_names()))"
    every = run(bin_dir / "python", "-c", code, cwd=folder).stdout.split()
    assert {"reference", "untouched", "cheater", "hostile", "mistakes-1"} <= set(every)

    demo = run(bin_dir / "backprop-kit", "demo", folder / "demo", "--samples", *every, cwd=folder)
    rows = {line.split()[0]: line.split() for line in demo.stdout.split("student", 1)[1].splitlines() if line.strip()}
    assert set(every) <= set(rows), demo.stdout
    best, maximum = rows["reference"][1].split("/")
    assert best == maximum and rows["untouched"][1] == f"0/{maximum}" and "FLAGGED" in rows["cheater"]
    assert (folder / "demo" / "backprop-grades.csv").is_file() and "demo finished in" in demo.stdout
    assert {path.name for path in (folder / "demo" / "feedback").iterdir()} == set(every)


def test_the_student_s_wheel_ships_stubs_even_from_a_checkout_whose_exercises_are_solved(folder):
    copy = folder / "solved-checkout"
    tracked = run("git", "ls-files", "-z", cwd=CHECKOUT).stdout.split("\0")
    for name in filter(None, tracked):
        source, target = CHECKOUT / name, copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    shutil.copy2(CHECKOUT / "solutions" / "layers.py", copy / "backprop_lib" / "layers.py")  # a TA solved it here
    run(sys.executable, "-m", "pip", "wheel", copy / "student-kit", "--no-deps", "-q", "-w", copy / "dist")
    (wheel,) = (copy / "dist").glob("backprop_kit-*.whl")
    assert texts(wheel)["backprop_lib/layers.py"] == (CHECKOUT / "backprop_lib" / "layers.py").read_text()
