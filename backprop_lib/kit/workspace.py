"""The student's workspace: a folder of their own holding what a course release gives a student.

    backprop-kit workspace DIR      copy the course into DIR
    backprop-kit lab [DIR]          start JupyterLab at DIR's root with notebook 01 open (default: the
                                    workspace you are in, else ./backprop-workspace)

A workspace holds the numbered notebooks (01-07) and the gradient flow explorer,
``backprop_lib/`` with its exercise files as untouched stubs (generated from the
reference solutions when they are at hand, so a clone whose exercise files a
self-learner has filled in still gives clean stubs) and the kit's machinery, and
a Jupyter configuration of its own (``.jupyter/``). No reference solution and no
hidden test is copied. The notebooks sit at the root next to ``backprop_lib/``,
as in a course release: the exercise files are one click away in JupyterLab's
file browser, and the notebooks' outputs are saved there, never into the
repository's tracked notebooks.

The Jupyter configuration hides nbgrader's instructor tools (the Create
Assignment panel, the Nbgrader menu with Formgrader, the course list, and the
formgrader server extension) and keeps the student's (assignment list, validate).
"""

import json
import os
import shutil
import sys
from pathlib import Path

import backprop_lib
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.stubgen import make_stub
from backprop_lib.kit.working_folder import working_folder

LIBRARY_DIR = Path(backprop_lib.__file__).resolve().parent
NOTEBOOKS_DIR = LIBRARY_DIR.parent / "notebooks"
NOTEBOOK_PATTERNS = ("[0-9][0-9]_*.ipynb", "gradient_flow_explorer.ipynb")
FIRST_NOTEBOOK = "01_chain_rule.ipynb"
DEFAULT_DIR = "backprop-workspace"
SOLUTION_MARK = "### BEGIN SOLUTION"

INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:course-list",
)
"""nbgrader's JupyterLab plugins for instructors; assignment-list and validate-assignment stay."""
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


class WorkspaceError(Exception):
    """A workspace cannot be made or opened; the message says why and what to do."""


def copy_library(destination):
    """Copy backprop_lib to ``destination`` with its exercise files as stubs.

    With the reference solutions at hand (a clone of the kit), every exercise file
    is generated from its solution by ``make_stub``, whatever the working tree's
    exercise files hold. Without them (an installed kit), the installed exercise
    files are copied and must be stubs.
    """
    destination = Path(destination)
    shutil.copytree(LIBRARY_DIR, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for module in EXERCISE_MODULES:
        solution = SOLUTIONS_DIR / f"{module}.py"
        target = destination / f"{module}.py"
        if solution.is_file():
            target.write_text(make_stub(solution.read_text(), module))
        elif SOLUTION_MARK in target.read_text():
            shutil.rmtree(destination)
            raise WorkspaceError(f"backprop_lib/{module}.py holds a solution: a course ships stubs only")


def course_notebooks(notebooks_dir=NOTEBOOKS_DIR):
    """The notebooks a student gets, in order: 01-07, then the explorer."""
    paths = [path for pattern in NOTEBOOK_PATTERNS for path in sorted(Path(notebooks_dir).glob(pattern))]
    if not any(path.name == FIRST_NOTEBOOK for path in paths):
        raise WorkspaceError(
            f"no course notebooks in {notebooks_dir}: the workspace commands need a clone of the backprop-kit "
            "repository (git clone ... && pip install -e .)"
        )
    return paths


def create(directory, notebooks_dir=NOTEBOOKS_DIR):
    """Make the workspace ``directory`` (new or empty); returns its Path. Never overwrites a file."""
    directory = Path(directory).resolve()
    notebooks = course_notebooks(notebooks_dir)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise WorkspaceError(
            f"{directory} already exists and is not empty: nothing was copied. Open it with `backprop-kit lab "
            f"{directory}` if it is your workspace, or choose a new folder"
        )
    directory.mkdir(parents=True, exist_ok=True)
    try:
        copy_library(directory / "backprop_lib")
        for notebook in notebooks:
            shutil.copyfile(notebook, directory / notebook.name)
        write_jupyter_config(directory / ".jupyter")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return directory


def write_jupyter_config(config_dir):
    """The workspace's Jupyter configuration: nbgrader's instructor UI off, the student's tools on."""
    labconfig = Path(config_dir) / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(INSTRUCTOR_LAB_PLUGINS, True)}
    (labconfig / "page_config.json").write_text(json.dumps(page_config, indent=2) + "\n")
    server_config = {"ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)}}
    (Path(config_dir) / "jupyter_server_config.json").write_text(json.dumps(server_config, indent=2) + "\n")


def is_workspace(directory):
    directory = Path(directory)
    return (directory / FIRST_NOTEBOOK).is_file() and (directory / "backprop_lib" / "__init__.py").is_file()


def lab_command(directory, jupyter_args=()):
    """(argv, env, cwd) that start JupyterLab at the workspace's root with notebook 01 open.

    As root (a container, many course images) JupyterLab refuses to start unless told ``--allow-root``: the
    workspace is the student's own, so it is told.
    """
    directory = Path(directory).resolve()
    if not is_workspace(directory):
        raise WorkspaceError(
            f"{directory} is not a backprop-kit workspace (no {FIRST_NOTEBOOK} next to a backprop_lib/): "
            f"make one with `backprop-kit workspace {directory}`"
        )
    env = dict(os.environ)
    config_path = [str(directory / ".jupyter"), *filter(None, env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(config_path)
    env.pop("BACKPROP_KIT_SOLUTIONS", None)  # the workspace runs the student's own files
    as_root = ["--allow-root"] if os.geteuid() == 0 and "--allow-root" not in jupyter_args else []
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={directory}", *as_root, *jupyter_args]
    argv.append(FIRST_NOTEBOOK)
    return argv, env, directory


def lab_folder(directory=None):
    """The workspace ``backprop-kit lab`` opens: ``directory``, else the workspace you work in (the current
    folder or one above it, ``backprop_lib.kit.working_folder``), else ``./backprop-workspace``."""
    if directory is not None:
        return Path(directory)
    here = working_folder()
    return here if is_workspace(here) else Path(DEFAULT_DIR)


def lab(directory=None, jupyter_args=()):
    """Become JupyterLab on the workspace ``lab_folder(directory)`` (made first if it does not exist).

    The process replaces itself with ``jupyter lab`` (same process id), so stopping
    it stops the server.
    """
    directory = lab_folder(directory)
    if not directory.exists():
        print(f"making your workspace in {Path(directory).resolve()}", flush=True)
        create(directory)
    argv, env, cwd = lab_command(directory, jupyter_args)
    os.chdir(cwd)
    os.execve(argv[0], argv, env)
