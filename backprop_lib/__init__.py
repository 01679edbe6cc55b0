"""backprop-kit's library: the exercises you write, and the helpers you call.

Your files (each backward raises ``NotImplementedError`` until you write it):

    derivations.py     chain-rule factors of two toy networks     (notebook 1)
    gradient_check.py  numerical gradient, relative error         (notebook 1)
    gates.py           the gates' backward passes                 (notebooks 2, 3)
    activations.py     sigmoid, ReLU and softmax                  (notebooks 2, 5)
    graph.py           the engine: topological_sort and backward  (notebook 4)
    layers.py          the linear layer, a residual block         (notebook 6)
    losses.py          mean squared error, softmax cross-entropy  (notebook 7)
    network.py         a two-layer network's backward, by hand    (notebook 7)

Helpers you call: ``check()`` (below, or ``backprop-kit check`` in a terminal),
``hint(name)`` (the next rung of an exercise's hint ladder, or
``backprop-kit hint NAME``) and ``broadcast.sum_to_shape``. Everything in ``kit/`` is the course's
machinery (checks, notebook support, widgets, the command): you use it, you
never need to edit it.

Solution mode: with the environment variable ``BACKPROP_KIT_SOLUTIONS=1`` set
before the first import, the exercise modules are loaded from the repository's
``solutions/`` folder instead (reference implementations for tests and notebook
solution runs). That folder is not part of an installed package, a workspace or
a graded assignment, so there the switch reports an error that says how to get
a reference view (``backprop-kit workspace --reference DIR``), the way to run
the notebooks on the reference without touching the repository.
"""

import os
from pathlib import Path

EXERCISE_MODULES = ("gates", "activations", "layers", "losses", "graph", "derivations", "gradient_check", "network")
"""The files a student edits (``backprop_lib/<module>.py``), generated from ``solutions/``."""

SOLUTIONS_ENV = "BACKPROP_KIT_SOLUTIONS"
SOLUTIONS_DIR = Path(__file__).resolve().parent.parent / "solutions"


def solution_mode():
    """True when this process runs the reference solutions instead of the exercise files."""
    return os.environ.get(SOLUTIONS_ENV) == "1"


if solution_mode():
    if not (SOLUTIONS_DIR / "graph.py").is_file():
        raise ImportError(
            f"{SOLUTIONS_ENV}=1 but there are no reference solutions beside this backprop_lib ({SOLUTIONS_DIR}): "
            "solution mode runs in a clone of the backprop-kit repository, never in a workspace or an installed kit; "
            "to run the notebooks on the reference, make a reference view in the clone's environment: "
            "`backprop-kit workspace --reference DIR`, then `backprop-kit lab DIR`"
        )
    __path__.insert(0, str(SOLUTIONS_DIR))


def check(*exercises):
    """Check your exercises as saved on disk; a notebook shows one row per exercise (``backprop_lib.kit.selfcheck``)."""
    from backprop_lib.kit.selfcheck import check as run_check

    return run_check(*exercises)


def hint(exercise, level=None):
    """The next hint for ``exercise`` (1 a nudge, 2 the local derivative, 3 the formula), or rung ``level``.

    Each call climbs one rung; how far you climbed (and when you first opened a hint) is noted in
    ``.backprop-kit-hints.json`` beside your ``backprop_lib/``, a file for you to read. It is submitted with your
    folder; a course records it only if it says so, and hints never change a score (``backprop_lib.kit.hints``).
    """
    from backprop_lib.kit.hints import hint as open_hint

    return open_hint(exercise, level)
