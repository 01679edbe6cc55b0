"""Sample submissions, made at run time from the repository, for the demo, the tests and the benchmark.

Each sample starts from the released assignment (``release/backprop``) and is
written to ``submitted/<name>/backprop``:

    reference     the reference solutions (solutions/*.py) in the library: full marks
    untouched     the release as it is, stubs and all: zero
    mistakes-<k>  the reference with mistakes from the catalog (solutions/mistakes.py)
                  planted, at most one per function (and one engine function at a time)
    sloppy        wrong return types, shapes and NaN
    messy         damaged files: invalid JSON, a duplicated and a deleted test cell, a
                  renamed and a missing notebook, a missing and a non-compiling library file
    hostile       100 MB printed, an endless loop, a memory bomb, a segfault, a loop that
                  swallows KeyboardInterrupt, os._exit, a write into the course folder;
                  library functions that loop forever or allocate 8 TB
    cheater       wrong gradients that pass in nbgrader: the checker and numpy patched
                  in the kernel, and the reference solution read from the grader's disk

All but ``untouched`` start from the reference solutions and the mistake catalog
(``autograder.course.SOLUTIONS_DIR``), which the grader's distribution ships.
"""

import functools
import importlib.util
import json
import re
import shutil
import textwrap

import nbformat
from nbformat.v4 import new_code_cell

from autograder.course import SOLUTIONS_DIR
from backprop_lib import EXERCISE_MODULES


class SampleError(Exception):
    """A sample cannot be made here: an unknown name, or no release yet."""


@functools.cache
def catalog():
    """The mistake catalog module (``solutions/mistakes.py``), loaded once."""
    spec = importlib.util.spec_from_file_location("backprop_kit_mistakes", SOLUTIONS_DIR / "mistakes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mistake_groups():
    """The catalog's mistakes in as few groups as possible, of even size, that can share a submission.

    A group holds mistakes that still fail with their own diagnoses side by side
    (``can_share`` of the catalog: one per function, one engine function at a
    time, none in a function a composite exercise of the group calls).
    """
    mistakes = catalog().MISTAKES
    per_function = {}
    for mistake in mistakes:
        per_function.setdefault(mistake.function, []).append(mistake)
    engine = sum(m.function in catalog().ENGINE for m in mistakes)
    groups = [[] for _ in range(max(engine, *(len(v) for v in per_function.values())))]
    for mistake in sorted(mistakes, key=lambda m: -len(per_function[m.function])):
        fits = [g for g in groups if catalog().can_share(mistake, g)]
        if not fits:
            groups.append([])
            fits = [groups[-1]]
        min(fits, key=len).append(mistake)
    return groups


def sample_names():
    """Every sample, in the order the demo grades them."""
    groups = [f"mistakes-{k}" for k in range(1, len(mistake_groups()) + 1)]
    return ["reference", "untouched", *groups, "sloppy", "messy", "hostile", "cheater"]


def check_names(names):
    """SampleError unless every one of ``names`` is a sample."""
    unknown = sorted(set(names) - set(sample_names()))
    if unknown:
        raise SampleError(f"no sample named {', '.join(unknown)}; the samples are: {', '.join(sample_names())}")


def make(course, names):
    """Write the named samples into ``submitted/``; returns their folders."""
    check_names(names)
    release = course.folder("release")
    if not release.is_dir():
        raise SampleError(f"no release at {release}: run `backprop-kit course release` first")
    folders = {}
    for name in names:
        folder = course.folder("submitted", name)
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(release, folder)
        if name != "untouched":
            _write_reference(folder)
        if name.startswith("mistakes-"):
            _plant(folder, mistake_groups()[int(name.split("-")[1]) - 1])
        elif name in MAKERS:
            MAKERS[name](folder)
        folders[name] = folder
    return folders


def _write_reference(folder):
    for module in EXERCISE_MODULES:
        shutil.copyfile(SOLUTIONS_DIR / f"{module}.py", folder / "backprop_lib" / f"{module}.py")


def _plant(folder, mistakes):
    plant = catalog().plant
    for mistake in mistakes:
        path = folder / "backprop_lib" / f"{mistake.module}.py"
        path.write_text(plant(path.read_text(), mistake))


def _replace(folder, module, source):
    """Replace one function of ``backprop_lib/<module>.py`` by ``source``."""
    mistake = catalog().Mistake(
        "sample", module, source.split("def ", 1)[1].split("(")[0], textwrap.dedent(source), None
    )
    _plant(folder, [mistake])


def _add_cell(folder, notebook, code, after=None):
    """Insert a code cell the student wrote, after the cell with grade_id ``after`` (default: at the end)."""
    path = folder / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    index = len(nb.cells)
    if after:
        index = 1 + next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    nb.cells.insert(index, new_code_cell(textwrap.dedent(code).strip()))
    nbformat.write(nb, path)


def _notebook(folder, prefix):
    return next(path.stem for path in sorted(folder.glob(f"{prefix}_*.ipynb")))


def _sloppy(folder):
    _replace(folder, "gates", 'def add_backward(dout, cache):\n    return "da", "db"\n')
    _replace(
        folder,
        "gates",
        "def multiply_backward(dout, cache):\n    a, b = cache\n    return dout * b, (dout * a).ravel()[:1]\n",
    )
    _replace(folder, "activations", "def sigmoid_backward(dout, cache):\n    return (dout * float('nan'),)\n")
    _replace(folder, "layers", "def linear_backward(dout, cache):\n    return {'dx': dout}\n")
    _replace(folder, "activations", "def relu_backward(dout, cache):\n    return None\n")


def _messy(folder):
    first, second, third, fourth, fifth = (_notebook(folder, f"0{k}") for k in range(1, 6))
    (folder / f"{first}.ipynb").write_text((folder / f"{first}.ipynb").read_text()[:500])
    nb = nbformat.read(folder / f"{second}.ipynb", as_version=4)
    graded = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    copy = nbformat.from_dict(json.loads(json.dumps(graded)))
    copy["id"] = f"{graded.get('id', 'cell')}-copy"
    nb.cells.append(copy)
    nbformat.write(nb, folder / f"{second}.ipynb")
    nb = nbformat.read(folder / f"{third}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "maximum_backward"]
    nbformat.write(nb, folder / f"{third}.ipynb")
    (folder / f"{fourth}.ipynb").rename(folder / f"{fourth}-Copy1.ipynb")
    (folder / f"{fifth}.ipynb").unlink()
    layers = folder / "backprop_lib" / "layers.py"
    layers.write_text(re.sub(r"(def linear_backward\(.*\)):", r"\1", layers.read_text()))
    (folder / "backprop_lib" / "losses.py").unlink()


def _hostile(folder):
    """Notebooks that flood, loop, hog memory and kill their kernel; library functions that loop or hog."""
    first, second, third, fourth, fifth = (_notebook(folder, f"0{k}") for k in range(1, 6))
    _add_cell(folder, first, "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))")
    _add_cell(folder, first, "while True:\n    pass", after="squared_error_factors")
    bomb = """
        def hoard():
            chunks = []
            while True:
                chunks.append(bytearray(1 << 26))

        hoard()
    """
    _add_cell(folder, second, bomb, after="add_backward")
    _add_cell(folder, third, "import ctypes\nctypes.string_at(0)", after="maximum_backward")
    swallow = """
        import time
        while True:
            try:
                time.sleep(0.1)
            except KeyboardInterrupt:
                pass
    """
    _add_cell(folder, fourth, swallow, after="topological_sort")
    _add_cell(folder, fifth, "import os\nos._exit(1)", after="relu_backward")
    vandal = """
        import os
        course = os.path.abspath(os.path.join("..", "..", ".."))  # from autograded/<student>/backprop
        open(os.path.join(course, "vandalised.txt"), "w").write("the course folder is writable")
    """
    _add_cell(folder, _notebook(folder, "06"), vandal)
    _replace(folder, "gates", "def negate_backward(dout, cache):\n    while True:\n        pass\n")
    _replace(folder, "gates", "def exp_backward(dout, cache):\n    import numpy\n    return (numpy.ones(1 << 40),)\n")


CHEAT = """

# --- make every test pass in the notebook's kernel ---
import numpy as _np

import backprop_lib.kit.checking as _checking
from backprop_lib.kit.results import CheckResult as _Result

_checking.check_exercise = lambda name, seed=0, time_limit=5.0: _Result(name, "", "passed", "trust me")
_np.allclose = lambda *args, **kwargs: True
_np.isclose = lambda *args, **kwargs: True
_np.array_equal = lambda *args, **kwargs: True
"""

STEAL = """
def linear_backward(dout, cache):
    import importlib.util

    spec = importlib.util.spec_from_file_location("stolen", "{path}")
    stolen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stolen)
    return stolen.linear_backward(dout, cache)
"""


def _cheater(folder):
    mistakes = {m.key: m for m in catalog().MISTAKES}
    _plant(folder, [mistakes["relu_no_mask"], mistakes["add_not_reduced"], mistakes["sigmoid_from_input"]])
    _replace(folder, "layers", STEAL.format(path=SOLUTIONS_DIR / "layers.py"))
    for module in EXERCISE_MODULES:
        path = folder / "backprop_lib" / f"{module}.py"
        path.write_text(path.read_text() + CHEAT)


MAKERS = {"sloppy": _sloppy, "messy": _messy, "hostile": _hostile, "cheater": _cheater}
