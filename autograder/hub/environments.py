"""The hub's two Python environments, each a venv of Debian's own interpreter (readable by every account).

- the students' (``student-env``, readable by all): JupyterLab, nbgrader, JupyterHub's
  single-user server, the kit's dependencies and the student's kit, a package holding
  ``backprop_lib`` alone (the exercise files as stubs, ``backprop-kit check / hint /
  exercises``): never the autograder, whose package data holds the hidden tests;
- the grader's (``grader-env``, the grader account's group and root only): the whole
  kit with its PostgreSQL and Dask extras, and JupyterHub for the formgrader service.

Both take JupyterHub at the hub's own version. The interpreter the kit runs in
may live where other accounts cannot read it (a pyenv under ``/root``), so both
are new venvs of ``/usr/bin/python3``.
"""

import os
import shutil
import subprocess
import tempfile
from importlib.metadata import requires, version
from pathlib import Path

from autograder.hub import HubError

BASE_PYTHON = "/usr/bin/python3"
KIT_ROOT = Path(__file__).resolve().parents[2]
STUDENT_DISTRIBUTION = "backprop-kit-student"


def kit_source():
    """The kit's project folder (a checkout), which pip installs into the grader's environment."""
    if not (KIT_ROOT / "pyproject.toml").is_file():
        raise HubError(f"the kit at {KIT_ROOT} is no checkout: give the kit to install with --kit (a wheel, a folder)")
    return str(KIT_ROOT)


def build_student_env(path, log_file):
    """The students' environment at ``path`` (made once; delete it to make it again)."""
    if _usable(path):
        return
    with tempfile.TemporaryDirectory(prefix="backprop-kit-student-") as project:
        _write_student_project(Path(project))
        _make_venv(path, [project, _jupyterhub()], log_file)


def build_grader_env(path, group, log_file, kit=None):
    """The grader's environment at ``path``, owned by root and readable by ``group`` alone (made once)."""
    if not _usable(path):
        _make_venv(path, [f"{kit or kit_source()}[postgres,dask]", _jupyterhub()], log_file)
    shutil.chown(path, "root", group)
    path.chmod(0o750)


def _usable(path):
    return (Path(path) / "bin" / "jupyterhub-singleuser").is_file()


def _jupyterhub():
    return f"jupyterhub=={version('jupyterhub')}"


def _make_venv(path, requirements, log_file):
    """A venv of Debian's interpreter with ``requirements``, every file readable by all (umask 022)."""
    if not Path(BASE_PYTHON).is_file():
        raise HubError(f"{BASE_PYTHON} is missing: apt-get install python3-venv")
    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    steps = [
        [BASE_PYTHON, "-m", "venv", str(path)],
        [str(path / "bin" / "python"), "-m", "pip", "install", "--upgrade", "pip"],
        [str(path / "bin" / "python"), "-m", "pip", "install", *requirements],
    ]
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with open(log_file, "a") as log:
        for argv in steps:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            done = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env, umask=0o022)
            if done.returncode:
                shutil.rmtree(path, ignore_errors=True)
                raise HubError(f"making {path} failed at `{' '.join(argv[-2:])}`: see {log_file}")


def _write_student_project(folder):
    """A project folder pip builds into the student's kit: ``backprop_lib`` as a course ships it, the
    ``backprop-kit`` command, the kit's own dependencies."""
    from backprop_lib.kit.workspace import copy_library

    copy_library(folder / "backprop_lib")
    dependencies = [line for line in requires("backprop-kit") if "extra ==" not in line]
    (folder / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{STUDENT_DISTRIBUTION}"
version = "{version("backprop-kit")}"
description = "The backprop-kit student's library: exercise stubs, checks and hints (no autograder)."
dependencies = {dependencies!r}

[project.scripts]
backprop-kit = "backprop_lib.kit.cli:main"

[tool.setuptools.packages.find]
include = ["backprop_lib*"]

[tool.setuptools.package-data]
"backprop_lib.kit" = ["hints.json"]
"""
    )
