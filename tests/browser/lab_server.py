"""A real JupyterLab for browser tests: started on a free loopback port in scratch folders, stopped by its PID.

Nothing is written to the user's home or to the repository: HOME, the Jupyter,
IPython and matplotlib folders and the served notebooks all live in a scratch
folder. The user settings there switch off JupyterLab's news and update toasts,
which would otherwise cover part of the page, and have notebooks render every
cell (not only those in view), so every widget output is in the page.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

USER_SETTINGS = {
    # No "Jupyter news?" toast over the page, no update check.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Render every cell of a notebook, not only those scrolled into view, so every widget output exists.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def widget_notebooks(folder):
    """The notebooks in ``folder`` whose code imports ``backprop_lib.kit.widgets``, by name."""
    found = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(c["cell_type"] == "code" and "backprop_lib.kit.widgets" in "".join(c["source"]) for c in cells):
            found.append(path)
    return found


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving copies of some notebooks, with its own scratch HOME.

    Use as a context manager; ``url`` is the server's base URL once started.
    """

    def __init__(self, notebooks, scratch, env=None, start_timeout=90):
        self.scratch = Path(scratch)
        self.root = self.scratch / "notebooks"
        self.root.mkdir(parents=True)
        for notebook in notebooks:
            shutil.copy(notebook, self.root / Path(notebook).name)
        self._prepare(env, start_timeout)

    def _prepare(self, env, start_timeout):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = self._environment(env or os.environ)
        self.start_timeout = start_timeout
        self.process = None
        self.log = self.scratch / "jupyterlab.log"

    def _environment(self, base):
        home = self.scratch / "home"
        folders = {
            "HOME": home,
            "JUPYTER_CONFIG_DIR": home / ".jupyter",
            "JUPYTER_DATA_DIR": home / ".local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": home / ".local/share/jupyter/runtime",
            "JUPYTERLAB_SETTINGS_DIR": home / ".jupyter/lab/user-settings",
            "JUPYTERLAB_WORKSPACES_DIR": home / ".jupyter/lab/workspaces",
            "IPYTHONDIR": home / ".ipython",
            "MPLCONFIGDIR": home / ".matplotlib",
        }
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        for plugin, settings in USER_SETTINGS.items():
            path = folders["JUPYTERLAB_SETTINGS_DIR"] / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        bin_dir = str(Path(sys.executable).parent)
        return {**base, **{k: str(v) for k, v in folders.items()}, "PATH": bin_dir + os.pathsep + base.get("PATH", "")}

    def server_options(self):
        """Options for a headless test server on our port, without a token, its app exposed to the page."""
        return [
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--LabApp.expose_app_in_browser=True",
        ]

    def command(self):
        return [sys.executable, "-m", "jupyterlab", *self.server_options(), f"--ServerApp.root_dir={self.root}"]

    def __enter__(self):
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {self.start_timeout} s:\n{self.log.read_text()}")

    def stop(self):
        """Stop the server by its PID (it shuts its kernels down), killing it if it does not exit in 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __exit__(self, *exc):
        self.stop()


class WorkspaceLab(JupyterLab):
    """``backprop-kit lab WORKSPACE`` as a student starts it, with the test server's options and a scratch HOME."""

    def __init__(self, workspace, scratch, env=None, start_timeout=90):
        self.scratch = Path(scratch)
        self.root = Path(workspace)
        self._prepare(env, start_timeout)

    def command(self):
        # Let the server "open a browser" with `true`: it writes the page the student's browser would open.
        # No --allow-root: `backprop-kit lab` adds it itself when it runs as root, as in a container.
        options = [option for option in self.server_options() if option not in ("--no-browser", "--allow-root")]
        return [str(Path(sys.executable).parent / "backprop-kit"), "lab", str(self.root), *options, "--browser=true %s"]

    def opened_url(self, timeout=30):
        """The URL ``backprop-kit lab`` sends the student's browser to (from the server's browser-open page)."""
        runtime = Path(self.env["JUPYTER_RUNTIME_DIR"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for page in runtime.glob("jpserver-file-to-run-*-open.html"):  # the page for the file it was given
                found = re.search(r'url=([^"]+)"', page.read_text())
                if found:
                    return found[1]
            time.sleep(0.3)
        raise RuntimeError(f"no browser-open page in {runtime} after {timeout} s:\n{self.log.read_text()}")
