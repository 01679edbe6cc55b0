"""One rule for which library a student works on: ``check``, ``hint``, a notebook and ``lab`` all mean the same folder.

The commands run as a student runs them: the installed ``backprop-kit`` script (whose own library is the
repository's) in a terminal inside a workspace, and a Python started in the workspace as a notebook's kernel is.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, student_env

from backprop_lib import SOLUTIONS_DIR
from backprop_lib.kit import workspace
from backprop_lib.kit.hints import STATE_NAME
from backprop_lib.kit.working_folder import working_folder

BACKPROP_KIT = str(Path(sys.executable).parent / "backprop-kit")


@pytest.fixture
def ws(tmp_path):
    """A fresh workspace whose relu_backward is written (the reference), the other exercises stubs."""
    made = workspace.create(tmp_path / "ws")
    shutil.copyfile(SOLUTIONS_DIR / "activations.py", made / "backprop_lib" / "activations.py")
    return made


@pytest.fixture
def repository_record():
    """The repository's own hint record (git-ignored), left exactly as it was, and what it was."""
    path = REPO / STATE_NAME
    before = path.read_bytes() if path.exists() else None
    yield path, before
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(before)


def run(*args, cwd):
    return subprocess.run([*args], cwd=cwd, env=student_env(), capture_output=True, text=True, timeout=120)


def rungs(folder):
    return {name: entry["rung"] for name, entry in json.loads((folder / STATE_NAME).read_text())["opened"].items()}


@pytest.mark.parametrize("where", [".", "backprop_lib", "backprop_lib/kit"])
def test_hint_in_a_workspace_terminal_is_recorded_in_the_workspace(ws, repository_record, where):
    path, before = repository_record
    for _ in range(2):
        done = run(BACKPROP_KIT, "hint", "relu_backward", cwd=ws / where)
        assert done.returncode == 0, done.stderr
    assert rungs(ws) == {"relu_backward": 2}, "the second call climbs on the workspace's record"
    assert (path.read_bytes() if path.exists() else None) == before, "the repository's record is untouched"


@pytest.mark.parametrize("where", [".", "backprop_lib"])
def test_check_in_a_workspace_terminal_checks_the_workspace(ws, where):
    done = run(BACKPROP_KIT, "check", "relu_backward", "linear_backward", cwd=ws / where)
    rows = done.stdout.splitlines()
    assert rows[0].startswith("✔ relu_backward") and "not implemented" in rows[1], done.stdout + done.stderr
    assert rows[-1] == "1 passed, 0 failed, 1 not implemented yet"


def test_a_kernel_in_the_workspace_checks_and_records_where_the_terminal_does(ws, repository_record):
    path, before = repository_record
    code = (
        "import backprop_lib\n"
        "from backprop_lib.kit.notebook import library_summary\n"
        "print(library_summary())\n"
        "backprop_lib.hint('relu_backward')\n"
        "print(backprop_lib.check('relu_backward'))\n"
    )
    done = run(sys.executable, "-c", code, cwd=ws)
    assert done.stdout.splitlines()[0] == f"backprop_lib runs your exercise files in {ws / 'backprop_lib'}"
    assert "✔ relu_backward" in done.stdout, done.stdout + done.stderr
    assert run(BACKPROP_KIT, "hint", "relu_backward", cwd=ws).stdout.startswith("relu_backward, hint 2 of 3")
    assert rungs(ws) == {"relu_backward": 2}
    assert (path.read_bytes() if path.exists() else None) == before


def test_a_notebook_away_from_its_library_says_which_folder_the_checks_use(ws):
    (ws / "mine").mkdir()
    code = "from backprop_lib.kit.notebook import library_summary; print(library_summary())"
    done = run(sys.executable, "-c", code, cwd=ws / "mine")
    imported, warning = done.stdout.splitlines()
    assert imported == f"backprop_lib runs your exercise files in {REPO / 'backprop_lib'}"
    assert warning.startswith(f"but the folder you work in is {ws}, whose backprop_lib/ the checks and hints use")


def test_lab_without_a_folder_opens_the_workspace_you_are_in(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(ws / "backprop_lib" / "kit")
    assert workspace.lab_folder() == ws == working_folder()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert workspace.lab_folder() == Path("backprop-workspace"), "outside a workspace: ./backprop-workspace"
    assert workspace.lab_folder("named") == Path("named")
