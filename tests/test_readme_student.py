"""The README's instructions for students, run as a student runs them in a clone: its `git status` stays clean.

The clone is a git copy of this checkout (tracked and new files, the ignore rules included), and the kit runs
from it. Every command of the README's student section is taken from the README itself and run: the ones
prefixed with ``.venv/bin/`` at the clone's root, the others in a terminal in the workspace, as the README
says. Each ``lab`` serves its folder (with test options: no browser, a free port, no token) while the test does
what JupyterLab's autosave does, a save of the open notebook through the server; in a reference view a save
of the reference library is refused, and a notebook runs on the reference solutions.
"""

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient
from postgres_server import free_port
from scratch_home import scratch_home

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
BIN = Path(sys.executable).parent
CHOSEN = "my-workspace"
"""What the test chooses where the README says DIR: a folder outside the clone."""


def student_commands():
    """The command lines of the README's student section, in order, without their comments."""
    text = (REPO / "README.md").read_text()
    section = text.split("## For students and self-learners", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.startswith("    ")]
    return [line.split("#", 1)[0].strip() for line in lines if re.match(r"(\.venv/bin/)?backprop-kit ", line)]


def git(*args, cwd):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def clone(tmp_path):
    """A git repository holding this checkout's files as they are now, committed, nothing else."""
    folder = tmp_path / "clone"
    names = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).split("\0")
    for name in filter(None, names):
        source, target = REPO / name, folder / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "clone", cwd=folder)
    return folder


class Lab:
    """A ``backprop-kit lab`` command line, served until the block ends; ``api(path)`` talks to it."""

    def __init__(self, argv, cwd, env):
        self.port = free_port()
        options = ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}"]
        options.append("--IdentityProvider.token=")
        self.log = Path(env["HOME"]) / f"lab-{self.port}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([*argv, *options], cwd=cwd, env=env, stdout=out, stderr=out)

    def __enter__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.opener.open(
                    f"http://127.0.0.1:{self.port}/lab", timeout=10
                ).read()  # as the page: the _xsrf cookie
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"lab did not start:\n{self.log.read_text()}")

    def api(self, path, method="GET", body=None):
        """The server's REST API as the JupyterLab page calls it (its cookie and XSRF header)."""
        data = None if body is None else json.dumps(body).encode()
        xsrf = next(cookie.value for cookie in self.cookies if cookie.name == "_xsrf")
        headers = {"Content-Type": "application/json", "X-XSRFToken": xsrf}
        url = f"http://127.0.0.1:{self.port}/api/{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def autosave(self, path):
        """What JupyterLab's autosave does with an open notebook that has run: write it back, outputs and all."""
        model = self.api(f"contents/{path}")
        assert model["writable"], f"{path} is served read-only"
        cell = nbformat.v4.new_code_cell("print('ran')", outputs=[nbformat.v4.new_output("stream", text="ran\n")])
        model["content"]["cells"].append(cell)
        self.api(f"contents/{path}", "PUT", {"type": "notebook", "format": "json", "content": model["content"]})

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def run_notebook(folder, name, env):
    """The notebook executed in ``folder`` by a kernel as JupyterLab starts one there (no PYTHONPATH of ours)."""
    notebook = nbformat.read(folder / name, as_version=4)
    kernel_env = {key: value for key, value in env.items() if key != "PYTHONPATH"}
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(folder)}}).execute(env=kernel_env)
    return notebook


def test_the_readme_names_a_workspace_and_a_reference_view():
    commands = student_commands()
    assert ".venv/bin/backprop-kit lab" in commands and "backprop-kit check" in commands
    assert any(re.fullmatch(r"\.venv/bin/backprop-kit workspace --reference [\w-]+", c) for c in commands), commands


def test_the_readmes_student_instructions_leave_git_status_clean(clone, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with scratch_home(tmp_path / "home") as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
        env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
        env |= {"PYTHONPATH": str(clone), "PATH": f"{BIN}{os.pathsep}{env['PATH']}"}
        Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
        workspace = clone / "backprop-workspace"
        for line in student_commands():
            argv = line.replace("DIR", str(elsewhere / CHOSEN)).split()
            at_root = argv[0].startswith(".venv/bin/")
            argv[0] = str(BIN / Path(argv[0]).name)
            cwd = clone if at_root else workspace
            if argv[1] == "lab":
                served = Path(argv[2]) if len(argv) > 2 else Path("backprop-workspace")
                served = served if served.is_absolute() else cwd / served
                with Lab(argv, cwd, env) as lab:
                    lab.autosave("01_chain_rule.ipynb")
                    if (served / ".backprop-kit-reference").exists():
                        reference_is_read_only(lab)
                        ran = run_notebook(served, "06_linear_layer.ipynb", env)
                        assert "runs the reference solutions" in ran.cells[1].outputs[0].text
                saved = nbformat.read(served / "01_chain_rule.ipynb", as_version=4).cells[-1]
                assert saved.outputs[0].text == "ran\n", "saved in the folder the lab serves"
            else:
                done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
                assert done.returncode in (0, 1) and not done.stderr.strip(), f"{line}:\n{done.stderr}"
        assert (elsewhere / CHOSEN / "backprop_lib").is_dir()
    assert git("status", "--porcelain", "--untracked-files=all", cwd=clone) == ""


def reference_is_read_only(lab):
    model = lab.api("contents/backprop_lib/activations.py?type=file&format=text")  # as the editor opens it
    assert not model["writable"] and "### BEGIN SOLUTION" in model["content"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        lab.api("contents/backprop_lib/activations.py", "PUT", {"type": "file", "format": "text", "content": "x"})
    assert refused.value.code == 403
    assert "read-only in a reference view" in refused.value.read().decode()
