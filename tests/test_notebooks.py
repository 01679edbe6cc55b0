"""The course notebooks, executed for real in Jupyter kernels, and their nbgrader metadata.

Every notebook runs once per mode (one module-scoped fixture, two kernels at a time),
with the hidden tests injected into its test cells exactly as the course build does:
- solution mode (BACKPROP_KIT_SOLUTIONS=1): no error and no stderr anywhere, the course's
  numbers in the notebooks' own variables, the capstone's stated accuracies;
- student mode (the untouched stubs): every cell runs; a cell that reaches a stub shows one
  line naming the function and its file; every test cell fails;
- the graded path (solution mode under NBGRADER_EXECUTION, illustration cells skipped as the
  autograder skips them): every test cell passes without matplotlib, scikit-learn or ipywidgets
  ever being imported, so a graded kernel does not pay for what only illustrations use.
Static checks: nbgrader metadata, no committed outputs, the jupytext pair in sync, and a real
``nbgrader generate_assignment`` on a course built from the notebooks.
"""

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest
from conftest import REPO, student_env
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.course.build import HIDDEN_TESTS_DIR, build, notebooks_with_hidden_tests
from autograder.grading.illustrations import ILLUSTRATION, SKIP
from backprop_lib.kit.exercises import EXERCISES, is_course_example

NOTEBOOKS = REPO / "notebooks"
SOURCES = NOTEBOOKS / "src"
STEMS = sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))  # the course, in order
STUB_LINE = re.compile(r"\w+ is not implemented yet: write it in backprop_lib/\w+\.py")
KERNELS_AT_ONCE = 2
CELL_TIMEOUT = 300
ILLUSTRATION_ONLY_MODULES = ("matplotlib", "sklearn", "ipywidgets")  # imported by illustration cells alone

# Expressions evaluated in each notebook's kernel after its last cell (solution mode only).
REPORTS = {
    "01_chain_rule": {
        "k1": "[float(v) for v in squared_error_factors(x1, w1, y1)[2]]",
        "k2": "[float(v) for v in logistic_factors(x1, w1)[3]]",
        "sgd_error": "float(mean_errors[-1])",
        "sgd_weights": "w.tolist()",
        "sweep": "sweep",
    },
    "02_computation_graphs": {
        "f": "float(f.value)",
        "d": "float(d.value)",
        "grads": "{node.label: float(node.grad) for node in graph}",
        "sigmoid_gate": "float(ds_sigmoid)",
    },
    "03_gate_patterns": {"grads": "[float(v.grad) for v in (x, y, z, w)]", "fork": "float(t.grad)"},
    "04_backprop_algorithm": {
        "neuron": "[float(v.grad) for v in (w0, w1, w2, x0, x1)]",
        "circuit": "[float(v.grad) for v in (x, y, z, w)]",
        "fork": "float(t.grad)",
        "order": "[node.label for node in order]",
        "first_block": "[plain[0], residual[0]]",
        "resnext": "[float(x_in.grad), float(numeric)]",
    },
    "05_jacobians_relu": {"relu": "dx.tolist()", "dead": "[float(v) for v in fractions]"},
    "06_linear_layer": {
        "dx": "dx.tolist()",
        "dW": "dW.tolist()",
        "db": "db.tolist()",
        "numeric": "[dx_numeric.tolist(), dW_numeric.tolist(), db_numeric.tolist()]",
    },
    "07_capstone": {
        "spiral": "spiral_accuracy",
        "fresh": "fresh_accuracy",
        "digits": "digits_accuracy",
        "seconds": "spiral_seconds + digits_seconds",
        "steps": "len(train_curve)",
        "spiral_steps": "len(spiral_losses)",
        "gradient_errors": "gradient_errors",
        "collapse": "relative_error(two_stages, (probs - onehot) / len(labels))",
        "staged_vs_engine": "[relative_error(g, n.grad) for g, n in zip(by_hand[1:], engine_params)]",
    },
}


def read_notebook(stem):
    return nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_cells(notebook):
    return [cell for cell in notebook.cells if nbgrader_meta(cell).get("grade")]


def with_hidden_tests(stem):
    """The notebook with its hidden tests in its test cells, as ``backprop-kit course build`` makes it."""
    return notebooks_with_hidden_tests()[stem]


def report_cell(expressions):
    items = ", ".join(f"{name!r}: {expression}" for name, expression in expressions.items())
    return nbformat.v4.new_code_cell(f"import json\nprint('REPORT ' + json.dumps({{{items}}}))")


def graded_path(stem):
    """The notebook as the autograder runs an unchanged copy: hidden tests in, illustration cells skipped, and a
    last cell reporting which of the illustration-only modules the kernel has imported."""
    notebook = with_hidden_tests(stem)
    for cell in notebook.cells:
        if ILLUSTRATION in cell.metadata.get("tags", []):
            cell.metadata["tags"] = [*cell.metadata["tags"], SKIP]
    imported = f"sorted(set({ILLUSTRATION_ONLY_MODULES!r}) & set(__import__('sys').modules))"
    notebook.cells.append(report_cell({"imported": imported}))
    return notebook


def report(notebook):
    """The values the report cell printed (one print, which ipykernel may send in more than one stream message)."""
    outputs = notebook.cells[-1].outputs
    assert all(output.output_type == "stream" and output.name == "stdout" for output in outputs), outputs
    text = "".join(output.text for output in outputs)
    assert text.startswith("REPORT "), text
    return json.loads(text.removeprefix("REPORT "))


def execute_all(jobs):
    """Execute {key: (notebook, env)} in real kernels, a few at a time; the notebooks get their outputs."""

    async def execute(notebook, env, slots):
        async with slots:
            client = NotebookClient(
                notebook,
                timeout=CELL_TIMEOUT,
                allow_errors=True,
                kernel_name="python3",
                resources={"metadata": {"path": str(NOTEBOOKS)}},
            )
            await client.async_execute(env=env)

    async def run():
        slots = asyncio.Semaphore(KERNELS_AT_ONCE)
        await asyncio.gather(*(execute(notebook, env, slots) for notebook, env in jobs.values()))

    asyncio.run(run())
    return {key: notebook for key, (notebook, _) in jobs.items()}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """Scratch HOME, IPython, Jupyter and matplotlib folders, with matplotlib's font cache built once."""
    root = tmp_path_factory.mktemp("notebook-home")
    env = {
        "HOME": str(root),
        "IPYTHONDIR": str(root / "ipython"),
        "MPLCONFIGDIR": str(root / "matplotlib"),
        "JUPYTER_CONFIG_DIR": str(root / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(root / "jupyter-runtime"),
    }
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=student_env(**env), check=True)
    return env


@pytest.fixture(scope="module")
def executed(scratch):
    """{(stem, mode): executed notebook} for every notebook in 'solution', 'student' and 'graded' mode (its
    graded path), plus the capstone in solution mode under nbgrader's NBGRADER_EXECUTION (key ('07_capstone',
    'grading'))."""
    solution_env = student_env(**scratch, BACKPROP_KIT_SOLUTIONS="1")
    grading_env = solution_env | {"NBGRADER_EXECUTION": "autograde"}
    jobs = {}
    for stem in STEMS:
        solution = with_hidden_tests(stem)
        solution.cells.append(report_cell(REPORTS[stem]))
        jobs[stem, "solution"] = (solution, solution_env)
        jobs[stem, "student"] = (with_hidden_tests(stem), student_env(**scratch))
        jobs[stem, "graded"] = (graded_path(stem), grading_env)
    capstone = with_hidden_tests("07_capstone")
    capstone.cells.append(report_cell(REPORTS["07_capstone"]))
    jobs["07_capstone", "grading"] = (capstone, grading_env)
    return execute_all(jobs)


def errors(cell):
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def stderr(cell):
    return [output.text for output in cell.get("outputs", []) if output.get("name") == "stderr"]


def is_stub_line(error):
    """The one-line output of backprop_lib.kit.notebook for an untouched exercise stub."""
    one_line = error.traceback == [error.evalue]
    return error.ename == "NotImplementedError" and one_line and STUB_LINE.fullmatch(error.evalue) is not None


# --- solution mode -----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_solution_mode_runs_without_errors_or_stderr(executed, stem):
    notebook = executed[stem, "solution"]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, f"{stem}: a cell did not run:\n{cell.source}"
            assert not errors(cell), f"{stem}: error in\n{cell.source}\n{errors(cell)[0].evalue}"
            assert not stderr(cell), f"{stem}: stderr in\n{cell.source}\n{stderr(cell)}"


@pytest.mark.slow
def test_chain_rule_derivations_and_sgd(executed):
    values = report(executed["01_chain_rule", "solution"])
    assert values["k1"] == pytest.approx([-2.6, -5.2, 2.6])
    h2 = 1 / (1 + np.exp(0.3))  # h1 = -0.3 at the worked example
    assert values["k2"] == pytest.approx(list(-(1 - h2) * np.array([1.0, 2.0, -1.0])))
    assert values["sgd_weights"] == pytest.approx([2.0, -1.0, 0.5], abs=0.1)
    assert values["sgd_error"] < 0.02


@pytest.mark.slow
def test_step_size_sweep_shows_what_the_text_says(executed):
    sweep = report(executed["01_chain_rule", "solution"])["sweep"]
    (best64, h64, default64), (best32, h32, default32) = sweep["float64"], sweep["float32"]
    assert best64 < 1e-9 and best32 > 1000 * best64 and h32 > 100 * h64  # float32: a larger best step, never as close
    assert default64 < 1e-8 and default32 > 1e-3  # h = 1e-5: excellent in float64, "a bug" in float32


@pytest.mark.slow
def test_sigmoid_neuron_gives_the_course_numbers(executed):
    values = report(executed["02_computation_graphs", "solution"])
    grads = {label: round(value, 2) for label, value in values["grads"].items()}
    assert (round(values["f"], 2), round(values["d"], 2)) == (0.73, 1.37)
    assert (grads["d"], grads["e"], grads["n"], grads["s"]) == (-0.53, -0.53, -0.20, 0.20)
    assert [grads[k] for k in ("w0", "w1", "w2", "x0", "x1")] == [-0.20, -0.39, 0.20, 0.39, -0.59]
    assert round(values["sigmoid_gate"], 2) == 0.20


@pytest.mark.slow
def test_circuit_gives_the_course_numbers_and_forks_add(executed):
    values = report(executed["03_gate_patterns", "solution"])
    assert values["grads"] == [-8.0, 6.0, 2.0, 0.0]
    assert values["fork"] == 6.0


@pytest.mark.slow
def test_engine_reproduces_both_examples_and_skip_connections_keep_gradients(executed):
    values = report(executed["04_backprop_algorithm", "solution"])
    assert np.round(values["neuron"], 2).tolist() == [-0.20, -0.39, 0.20, 0.39, -0.59]
    assert values["circuit"] == [-8.0, 6.0, 2.0, 0.0]
    assert values["fork"] == 7.0
    assert values["order"][-1] == "f" and len(values["order"]) == 13
    plain, residual = values["first_block"]
    assert plain < 1e-8 < 0.1 < residual
    assert values["resnext"][0] == pytest.approx(values["resnext"][1], abs=1e-6)


@pytest.mark.slow
def test_relu_mask_and_dead_units_on_the_digits_layer(executed):
    values = report(executed["05_jacobians_relu", "solution"])
    relu = values["relu"]
    assert relu[:2] + relu[3:] == [0.0, 0.0, 4.0, 5.0] and 0.0 <= relu[2] <= 3.0, "any subgradient at the kink"
    dead = values["dead"]
    assert dead[0] < 0.1 and dead[-1] == 1.0
    assert all(a <= b for a, b in zip(dead, dead[1:], strict=False)), dead


@pytest.mark.slow
def test_linear_backward_matches_centered_differences(executed):
    values = report(executed["06_linear_layer", "solution"])
    for mine, numeric in zip([values["dx"], values["dW"], values["db"]], values["numeric"], strict=True):
        assert np.allclose(mine, numeric, atol=1e-6)


@pytest.mark.slow
def test_capstone_reaches_the_stated_accuracies_within_the_time(executed):
    values = report(executed["07_capstone", "solution"])
    assert values["spiral"] >= 0.95 and values["fresh"] >= 0.9
    assert values["digits"] >= 0.95
    assert values["seconds"] < 30
    assert values["steps"] == 1500
    assert max(values["gradient_errors"].values()) < 1e-6
    assert values["collapse"] < 1e-12  # softmax_backward after the loss's dE/dp gives (p - onehot) / N
    assert max(values["staged_vs_engine"]) < 1e-10  # the staged backward agrees with the engine, weight decay too


@pytest.mark.slow
def test_capstone_under_nbgrader_shortens_only_ungraded_training(executed):
    notebook = executed["07_capstone", "grading"]
    assert not any(errors(cell) or stderr(cell) for cell in notebook.cells)
    assert report(notebook)["steps"] == 100 and report(notebook)["spiral_steps"] == 300


# --- the graded path ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_the_graded_path_passes_without_importing_what_only_illustrations_use(executed, stem):
    notebook = executed[stem, "graded"]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        skipped = SKIP in cell.metadata.get("tags", [])
        ran = cell.execution_count is not None
        assert ran != skipped, f"{stem}: skip-tagged {skipped} but ran {ran}:\n{cell.source}"
        assert not errors(cell) and not stderr(cell), f"{stem}: error or stderr in\n{cell.source}"
    assert any(SKIP in cell.metadata.get("tags", []) for cell in notebook.cells), f"{stem}: no illustration cell"
    assert report(notebook)["imported"] == [], f"{stem}: the graded path imports what only illustrations use"


# --- student mode -------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_student_mode_runs_to_the_end_with_one_line_per_missing_exercise(executed, stem):
    notebook = executed[stem, "student"]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"{stem}: a cell did not run:\n{cell.source}"
        if nbgrader_meta(cell).get("grade"):
            continue
        for error in errors(cell):
            assert is_stub_line(error), f"{stem}: not a one-line stub message in\n{cell.source}\n{error.traceback}"
        assert not stderr(cell), f"{stem}: stderr in\n{cell.source}\n{stderr(cell)}"


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_student_mode_fails_every_test_cell_cleanly(executed, stem):
    for cell in grade_cells(executed[stem, "student"]):
        (error,) = errors(cell)
        name = nbgrader_meta(cell)["grade_id"]
        assert is_stub_line(error), f"{stem}/{name}: {error.traceback}"


@pytest.mark.slow
def test_a_stub_error_lets_the_run_go_on_and_other_errors_stop_it(scratch):
    setup = "from backprop_lib.kit.notebook import setup\nsetup()\nfrom backprop_lib.activations import relu_backward"
    cells = [setup, "relu_backward(1.0, 1.0)", "print('next cell ran')", "1 / 0", "print('never')"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(REPO)}})
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        client.execute(env=student_env(**scratch))
    (stub_error,) = errors(notebook.cells[1])
    assert stub_error.traceback == ["relu_backward is not implemented yet: write it in backprop_lib/activations.py"]
    assert notebook.cells[2].outputs[0].text == "next cell ran\n"
    assert errors(notebook.cells[3])[0].ename == "ZeroDivisionError"
    assert len(errors(notebook.cells[3])[0].traceback) > 1
    assert notebook.cells[4].execution_count is None


@pytest.mark.parametrize(("grading", "reloads", "tracebacks"), [("", True, "Context"), ("autograde", None, "Plain")])
def test_setup_lightens_the_kernel_only_while_nbgrader_grades(monkeypatch, capsys, grading, reloads, tracebacks):
    """No file changes during a grading run: autoreload's start (it records every loaded module) and its check of
    every module before each cell were the kernels' largest CPU cost; verbose tracebacks were the next. A
    student's notebook reloads saved exercise files and keeps IPython's tracebacks with context; a graded error
    still names its line and its message."""
    from IPython.core.interactiveshell import InteractiveShell

    from backprop_lib.kit.notebook import setup

    def reloading():
        magics = shell.magics_manager.registry.get("AutoreloadMagics")
        return magics._reloader.enabled if magics else None

    monkeypatch.setenv("NBGRADER_EXECUTION", grading)
    shell = InteractiveShell.instance()
    try:
        setup()
        assert reloading() is reloads
        assert shell.InteractiveTB.mode == tracebacks
        capsys.readouterr()
        shell.run_cell("x = 1\nassert x == 2, 'relu_backward: the diagnosis'")
        shown = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
        assert "line 2" in shown and "AssertionError: relu_backward: the diagnosis" in shown
        if reloads is None:  # a notebook that loads autoreload itself, as the course's did before
            shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")
        setup()  # again, as a notebook's first cell run twice
        assert reloading() is bool(reloads)
    finally:
        InteractiveShell.clear_instance()


def test_a_file_saved_after_the_first_cell_is_used_by_the_next_one(tmp_path, monkeypatch):
    """setup() turns autoreload on after the first cell's imports: an exercise module imported there is reloaded
    when its file is saved, from the first save on, also where the cell imported a function by name."""
    from IPython.core.interactiveshell import InteractiveShell

    (tmp_path / "exercise.py").write_text("def answer():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("from exercise import answer\nfrom backprop_lib.kit.notebook import setup\nsetup()")
        (tmp_path / "exercise.py").write_text("def answer():\n    return 2\n")
        later = os.stat(tmp_path / "exercise.py").st_mtime + 5  # a save the file system's clock tells apart
        os.utime(tmp_path / "exercise.py", (later, later))
        assert shell.run_cell("answer()").result == 2
    finally:
        InteractiveShell.clear_instance()
        sys.modules.pop("exercise", None)


# --- metadata, pairing, nbgrader ---------------------------------------------------------------------------


def test_every_notebook_reloads_saved_exercise_files_the_same_way():
    """Every notebook (the course's and the explorer) calls setup() in its first cell, which turns on autoreload
    and the one-line messages, so 'save and run the cell again' holds everywhere."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        first_code = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        assert any(line.startswith("setup()") for line in first_code.source.splitlines()), path.name
        text = " ".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        assert "restart the kernel" not in text, f"{path.name} tells the student to restart the kernel"


def test_notebooks_are_committed_without_outputs():
    for stem in STEMS:
        for cell in read_notebook(stem).cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{stem}: outputs in\n{cell.source}"


def test_every_notebook_is_in_sync_with_its_jupytext_source():
    stems = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
    assert sorted(path.stem for path in SOURCES.glob("*.py")) == stems
    for stem in stems:
        source, committed = jupytext.read(SOURCES / f"{stem}.py"), read_notebook(stem)
        assert committed.metadata.get("kernelspec") == source.metadata.get("kernelspec")
        pairs = zip(source.cells, committed.cells, strict=True)
        for from_source, cell in pairs:
            assert (from_source.cell_type, from_source.source) == (cell.cell_type, cell.source), (
                f"{stem}: out of sync with notebooks/src/{stem}.py: regenerate it (docs/notebooks.md, Authoring)"
            )
            assert nbgrader_meta(from_source) == nbgrader_meta(cell)


def test_test_cells_have_valid_nbgrader_metadata_and_assert():
    seen = set()
    for stem in STEMS:
        for cell in read_notebook(stem).cells:
            meta = nbgrader_meta(cell)
            if not meta:
                continue
            assert meta["grade"] and meta["locked"] and not meta["solution"] and not meta["task"], (stem, meta)
            assert meta["schema_version"] == 3 and meta["points"] > 0 and cell.cell_type == "code"
            assert meta["grade_id"] not in seen, f"grade_id {meta['grade_id']} used twice"
            seen.add(meta["grade_id"])
            tree = ast.parse(cell.source)
            assert any(isinstance(node, ast.Assert) for node in ast.walk(tree)), f"{meta['grade_id']}: no assert"
            assert not isinstance(tree.body[-1], ast.Expr), f"{meta['grade_id']}: a bare last expression scores"


def test_every_exercise_has_a_self_check_then_a_test_cell():
    test_cells = {}
    for stem in STEMS:
        cells = read_notebook(stem).cells
        for index, cell in enumerate(cells):
            if nbgrader_meta(cell).get("grade"):
                test_cells[nbgrader_meta(cell)["grade_id"]] = (cells, index)
    for name, exercise in EXERCISES.items():
        assert name in test_cells, f"no test cell for {name}"
        if is_course_example(exercise):  # a worked example's cell: re-checked outside the kernel by its name
            continue
        cells, index = test_cells[name]
        assert f'checked("{name}")' in cells[index].source
        self_checks = [
            cell for cell in cells[:index] if "backprop_lib.check(" in cell.source and f'"{name}"' in cell.source
        ]
        assert self_checks, f"no self-check cell for {name} before its test cell"


def test_every_test_cell_has_hidden_tests_and_every_hidden_test_a_test_cell():
    expected = {(stem, nbgrader_meta(cell)["grade_id"]) for stem in STEMS for cell in grade_cells(read_notebook(stem))}
    present = {(path.parent.name, path.stem) for path in HIDDEN_TESTS_DIR.glob("*/*.py")}
    assert present == expected


@pytest.mark.slow
def test_nbgrader_generate_assignment_accepts_the_notebooks(tmp_path, scratch):
    course = build(tmp_path / "course")
    env = student_env(**scratch, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "generate_assignment", "backprop", "--force"],
        cwd=course.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for stem in STEMS:
        released = nbformat.read(course.folder("release") / f"{stem}.ipynb", as_version=4)
        source = nbformat.read(course.source / f"{stem}.ipynb", as_version=4)
        assert "### BEGIN HIDDEN TESTS" in "".join(cell.source for cell in source.cells)
        assert "HIDDEN TESTS" not in "".join(cell.source for cell in released.cells)
        for cell in grade_cells(released):
            assert nbgrader_meta(cell)["locked"] and nbgrader_meta(cell).get("checksum")
