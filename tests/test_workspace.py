"""The student's workspace: what `backprop-kit workspace` copies, and how `backprop-kit lab` starts JupyterLab.

The JupyterLab it starts is exercised in a real browser by tests/browser/test_jupyterlab_workspace.py.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, student_env
from postgres_server import free_port
from scratch_home import scratch_home

from autograder.course.build import build
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit import reference, workspace
from backprop_lib.kit.stubgen import make_stub

CLI = [sys.executable, "-m", "backprop_lib.kit.cli"]


def files_under(folder):
    """{relative path: bytes} of every file under ``folder``, caches left out."""
    folder = Path(folder)
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return workspace.create(tmp_path_factory.mktemp("student") / "ws")


def test_the_workspace_holds_the_course_release_and_nothing_else(made, tmp_path):
    course = build(tmp_path / "course")
    top = sorted(path.name for path in made.iterdir())
    numbered = sorted(path.name for path in course.source.glob("*.ipynb"))
    assert top == sorted([".jupyter", "backprop_lib", "gradient_flow_explorer.ipynb", *numbered])
    assert files_under(made / "backprop_lib") == files_under(course.source / "backprop_lib"), "the release's library"
    for name in numbered:
        ours = nbformat.read(made / name, as_version=4)
        assert ours == nbformat.read(REPO / "notebooks" / name, as_version=4)
        assert not any("### BEGIN HIDDEN TESTS" in cell.source for cell in ours.cells)
    for module in EXERCISE_MODULES:
        stub = make_stub((SOLUTIONS_DIR / f"{module}.py").read_text(), module)
        assert (made / "backprop_lib" / f"{module}.py").read_text() == stub
    assert not any("solutions" in path or "hidden_tests" in path for path in files_under(made))


def test_a_self_learners_answers_never_reach_a_workspace_or_a_course(tmp_path, monkeypatch):
    library = tmp_path / "clone" / "backprop_lib"
    shutil.copytree(workspace.LIBRARY_DIR, library, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(SOLUTIONS_DIR / "gates.py", library / "gates.py")  # gates.py written, as a self-learner does
    monkeypatch.setattr(workspace, "LIBRARY_DIR", library)
    workspace.copy_library(tmp_path / "copy")
    assert (tmp_path / "copy" / "gates.py").read_text() == make_stub((SOLUTIONS_DIR / "gates.py").read_text(), "gates")
    course = build(tmp_path / "course")
    assert "NotImplementedError" in (course.source / "backprop_lib" / "gates.py").read_text()


def test_the_workspace_hides_nbgraders_instructor_tools_and_keeps_the_students(made):
    page = json.loads((made / ".jupyter" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {
        "@jupyter/nbgrader:create-assignment": True,
        "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:menu": True,
        "@jupyter/nbgrader:course-list": True,
    }
    server = json.loads((made / ".jupyter" / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
    }


def test_a_kernel_in_the_workspace_imports_the_workspaces_library(made):
    code = "import backprop_lib.gates as g; print(g.__file__)"
    done = subprocess.run([sys.executable, "-c", code], cwd=made, env=student_env(), capture_output=True, text=True)
    assert Path(done.stdout.strip()) == made / "backprop_lib" / "gates.py", done.stderr


def test_lab_starts_at_the_workspace_root_with_notebook_01_and_its_own_config(made, monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_SOLUTIONS", "1")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    argv, env, cwd = workspace.lab_command(made, ["--no-browser"])
    as_root = ["--allow-root"] if os.geteuid() == 0 else []
    assert cwd == made and argv[1:3] == ["-m", "jupyterlab"]
    assert argv[3:] == [f"--ServerApp.root_dir={made}", *as_root, "--no-browser", "01_chain_rule.ipynb"]
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(made / ".jupyter"), "/elsewhere"]
    assert "BACKPROP_KIT_SOLUTIONS" not in env, "a workspace runs the student's own files"


def test_a_folder_in_use_is_refused_and_nothing_is_lost(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    done = subprocess.run([*CLI, "workspace", str(folder)], env=student_env(), capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith(f"backprop-kit workspace: {folder} already exists and is not empty: nothing was")
    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "my notes"


def test_lab_on_a_folder_that_is_not_a_workspace_says_how_to_make_one(tmp_path):
    done = subprocess.run([*CLI, "lab", str(tmp_path)], env=student_env(), capture_output=True, text=True)
    assert done.returncode == 1
    assert f"{tmp_path} is not a backprop-kit workspace" in done.stderr
    assert f"make one with `backprop-kit workspace {tmp_path}`" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="JupyterLab's refusal to run as root needs root")
def test_lab_starts_as_root_as_in_a_container(made, tmp_path):
    port = free_port()
    options = ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--IdentityProvider.token="]
    with scratch_home(tmp_path) as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
        log = tmp_path / "lab.log"
        with open(log, "wb") as out:
            server = subprocess.Popen([*CLI, "lab", str(made), *options], env=student_env(), stdout=out, stderr=out)
    try:
        assert wait_for_status(server, f"http://127.0.0.1:{port}/api/status"), log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_status(server, url, timeout=120):
    """True once ``url`` answers 200; False if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.3)
    return False


def test_other_commands_still_refuse_unknown_options():
    done = subprocess.run([*CLI, "check", "--bogus"], env=student_env(), capture_output=True, text=True)
    assert done.returncode == 2 and "unrecognized arguments: --bogus" in done.stderr


def test_a_reference_view_runs_the_reference_solutions_and_serves_them_read_only(tmp_path):
    done = subprocess.run([*CLI, "workspace", "--reference", str(tmp_path / "ref")], env=student_env(), text=True)
    view = tmp_path / "ref"
    assert done.returncode == 0 and reference.is_reference(view) and workspace.is_workspace(view)
    for module in EXERCISE_MODULES:
        path = view / "backprop_lib" / f"{module}.py"
        assert path.read_text() == (SOLUTIONS_DIR / f"{module}.py").read_text()
        assert path.stat().st_mode & 0o777 == 0o444
    server = json.loads((view / ".jupyter" / "jupyter_server_config.json").read_text())["ServerApp"]
    assert server["contents_manager_class"] == "backprop_lib.kit.reference_contents.ReferenceContents"
    code = "from backprop_lib.kit.notebook import library_summary; print(library_summary())"
    summary = subprocess.run([sys.executable, "-c", code], cwd=view, env=student_env(), capture_output=True, text=True)
    assert summary.stdout.strip().endswith(
        f"reference solutions in {view / 'backprop_lib'} (a reference view: read-only)"
    )
    check = subprocess.run([*CLI, "check"], cwd=view, env=student_env(), capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_solution_mode_in_a_workspace_says_how_to_get_the_reference(made):
    env = student_env(BACKPROP_KIT_SOLUTIONS="1")
    done = subprocess.run(
        [sys.executable, "-c", "import backprop_lib"], cwd=made, env=env, capture_output=True, text=True
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: BACKPROP_KIT_SOLUTIONS=1 but there are no reference solutions beside this")
    assert "make a reference view in the clone's environment: `backprop-kit workspace --reference DIR`" in last
