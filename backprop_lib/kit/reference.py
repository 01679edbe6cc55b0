"""The reference view: the course's notebooks running on the reference solutions, in a folder of its own.

    backprop-kit workspace --reference DIR    make it (a clone of the kit holds the reference solutions)
    backprop-kit lab DIR                      open it

It is a workspace (``workspace.create``) whose exercise files are the reference
solutions of ``solutions/`` instead of stubs, with a note at its root saying
what it is. Nothing in it belongs to the repository, so running and saving its
notebooks leaves a clone's ``git status`` clean. Its JupyterLab serves
``backprop_lib/`` read-only (``reference_contents.ReferenceContents``): the
reference is there to read and run, never to be edited by mistake for one's
own files; the exercise files are mode 0444 as well.
"""

import json
from pathlib import Path

from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR

MARK = ".backprop-kit-reference"
"""The note at a reference view's root; its presence is what makes a folder one."""
NOTE = (
    "This folder is a reference view of backprop-kit: the course's notebooks on the reference solutions, made by "
    "`backprop-kit workspace --reference`. Its backprop_lib/ is read-only; your own work is in your workspace.\n"
)
CONTENTS_MANAGER = "backprop_lib.kit.reference_contents.ReferenceContents"


def create(directory):
    """Make the reference view ``directory`` (new or empty); returns its Path. WorkspaceError without solutions."""
    from backprop_lib.kit import workspace  # not loaded where a notebook only asks ``is_reference``

    if not all((SOLUTIONS_DIR / f"{module}.py").is_file() for module in EXERCISE_MODULES):
        raise workspace.WorkspaceError(
            f"no reference solutions at {SOLUTIONS_DIR}: they are in a clone of the backprop-kit repository "
            "(solutions/), never in an installed kit; run this command from a clone's virtual environment"
        )
    directory = workspace.create(directory)
    library = directory / "backprop_lib"
    for module in EXERCISE_MODULES:
        target = library / f"{module}.py"
        target.write_text((SOLUTIONS_DIR / f"{module}.py").read_text())
        target.chmod(0o444)
    (directory / MARK).write_text(NOTE)
    config = directory / ".jupyter" / "jupyter_server_config.json"
    settings = json.loads(config.read_text())
    settings["ServerApp"]["contents_manager_class"] = CONTENTS_MANAGER
    config.write_text(json.dumps(settings, indent=2) + "\n")
    return directory


def is_reference(directory):
    """True when ``directory`` is a reference view."""
    return (Path(directory) / MARK).is_file()
