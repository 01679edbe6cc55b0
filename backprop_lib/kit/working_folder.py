"""Which library you are working on: one rule for ``check``, ``hint``, the notebooks and ``lab``.

The folder you work in is the one you name (``--dir``), else the current folder
or the nearest folder above it that holds a ``backprop_lib/`` (a workspace, a
clone of the kit, an assignment folder), else the current folder itself. Its
``backprop_lib/`` is the one the checks import (they run in that folder), its
``.backprop-kit-hints.json`` the hint record, and a workspace found this way is
the one ``backprop-kit lab`` opens. A notebook's kernel runs in the notebook's
folder, so in a workspace the notebooks, a terminal anywhere in it and the
commands all mean the same library.
"""

import os
from pathlib import Path

LIBRARY = "backprop_lib"


def working_folder(directory=None):
    """The folder that holds the library you work on (see the module's docstring), as an absolute Path."""
    if directory is not None:
        return Path(directory).resolve()
    here = Path(os.getcwd()).resolve()
    return next((folder for folder in (here, *here.parents) if holds_library(folder)), here)


def holds_library(folder):
    """True when ``folder`` holds a ``backprop_lib/`` package."""
    return (Path(folder) / LIBRARY / "__init__.py").is_file()
