"""A scratch home for a test module: nothing a course, a kernel or JupyterLab writes lands in the real ~."""

from contextlib import contextmanager

import pytest

FOLDERS = ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR")


@contextmanager
def scratch_home(folder):
    """HOME and the IPython, matplotlib and Jupyter folders under ``folder``; yields the MonkeyPatch."""
    with pytest.MonkeyPatch.context() as patch:
        for name in FOLDERS:
            patch.setenv(name, str(folder / name.lower()))
        yield patch
