"""The hub's two Python environments, each a venv of Debian's own interpreter (readable by every account).

- the students' (``student-env``, readable by all): the student's distribution (``student-kit/``:
  ``backprop_lib`` with its exercise files as stubs, the notebooks, ``backprop-kit check / hint /
  status``) with nbgrader's student tools, and JupyterHub's single-user server: never the
  autograder, whose package data holds the hidden tests;
- the grader's (``grader-env``, the grader account's group and root only): the whole
  kit with its PostgreSQL and Dask extras, and JupyterHub for the formgrader service.

Both take JupyterHub at the hub's own version. The interpreter the kit runs in
may live where other accounts cannot read it (a pyenv under ``/root``), so both
are new venvs of ``/usr/bin/python3``.
"""

import os
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

from autograder.hub import HubError

BASE_PYTHON = "/usr/bin/python3"
KIT_ROOT = Path(__file__).resolve().parents[2]
STUDENT_PROJECT = KIT_ROOT / "student-kit"


def kit_source():
    """The kit's project folder (a checkout), which pip installs into the grader's environment."""
    if not (KIT_ROOT / "pyproject.toml").is_file():
        raise HubError(f"the kit at {KIT_ROOT} is no checkout: give the kit to install with --kit (a wheel, a folder)")
    return str(KIT_ROOT)


def student_kit_source():
    """The student's distribution's project folder in a checkout, which pip builds into the students' environment."""
    if not (STUDENT_PROJECT / "pyproject.toml").is_file():
        raise HubError(
            f"the kit at {KIT_ROOT} is no checkout: give the student's kit with --student-kit (a wheel or folder of it)"
        )
    return str(STUDENT_PROJECT)


def build_student_env(path, log_file, student_kit=None):
    """The students' environment at ``path`` (made once; delete it to make it again)."""
    if not _usable(path):
        _make_venv(path, [f"{student_kit or student_kit_source()}[nbgrader]", _jupyterhub()], log_file)


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
