"""No exercise's answer is given away: a catalogue of answer formulas, scanned over what a student sees first.

Scanned: the exercise stubs, every file of ``backprop_lib/`` (the kit ships in
every release; the hint ladder is stored encoded), each notebook's text before
an exercise's grade cell (and every earlier notebook), the code of every later
notebook (a notebook may teach an earlier exercise's pattern, never hold its
working code: all notebooks are released at once), and the whole gradient flow
explorer, which a self-learner may open first. Worked numeric examples are
allowed; formulas are not. A failure lists file, line, exercise and the text
that leaks.
"""

import re
from pathlib import Path

import jupytext
import pytest
from conftest import REPO

LEAKS = {
    "squared_error_factors": [r"-\s*2\s*\*?\s*\(\s*y\s*-\s*h", r"d\(y\s*-\s*h1?\)\^2\s*/\s*dh"],
    "logistic_factors": [r"-\s*1\s*/\s*h2\b", r"h2\s*\*?\s*\(\s*1(\.0)?\s*-\s*h2\s*\)"],
    "add_backward": [r"\(\s*dout\s*,\s*dout\s*\)", r"(upstream gradient|dE/dout)( unchanged)? to both inputs"],
    "subtract_backward": [r"\(\s*dout\s*,\s*-\s*dout\s*\)", r"d\(a\s*-\s*b\)\s*/\s*db\s*=\s*-\s*1"],
    "multiply_backward": [
        r"dout\s*\*\s*b\s*,[^\n]*dout\s*\*\s*a\b",
        r"d\(a\s*\*?\s*b\)\s*/\s*da\s*=\s*b",
        r"the \*?other\*? input\*? times the upstream",
    ],
    "reciprocal_backward": [r"-\s*1(\.0)?\s*/\s*x\s*\*\*\s*2", r"-\s*1\s*/\s*x\^2", r"-\s*\\frac\{1\}\{x\^2\}"],
    "add_constant_backward": [r"return\s*\(\s*dout\s*,\s*\)"],
    "scale_backward": [r"\(\s*c\s*\*\s*dout\s*,\s*\)"],
    "negate_backward": [r"\(\s*-\s*dout\s*,\s*\)"],
    "exp_backward": [r"dout\s*\*\s*out\s*,?\s*\)", r"d\s*\(?\s*exp\s*\(?x\)?\s*\)?\s*/\s*dx\s*=\s*exp"],
    "log_backward": [r"dout\s*/\s*x\b", r"d\s*\(?\s*ln\s*\(?x\)?\s*\)?\s*/\s*dx\s*=\s*1\s*/\s*x"],
    "power_backward": [r"p\s*\*\s*x\s*\*\*\s*\(\s*p\s*-\s*1\s*\)", r"p\s*x\^\{?\(?p\s*-\s*1"],
    "maximum_backward": [
        r"\[\s*a\s*>=?\s*b\s*\]",
        r"dout\s*\*\s*\(?\s*a\s*>=?\s*b",
        r"(whole|entire) upstream gradient to the larger",
    ],
    "sigmoid_backward": [
        r"out\s*\*\s*\(\s*1(\.0)?\s*-\s*out\s*\)",
        r"\\sigma\(x\)\s*\(\s*1\s*-\s*\\sigma\(x\)\s*\)",
        r"\bsigma\(x\)\s*\(\s*1\s*-\s*sigma\(x\)\s*\)",
        r"\bsigma\s*\(\s*1\s*-\s*sigma\s*\)",
    ],
    "relu_backward": [
        r"dout\s*\*\s*\(\s*x\s*>\s*0\s*\)",
        r"\(\s*x\s*>\s*0\s*\)\s*\*\s*dout",
        r"\[\s*x\s*>\s*0\s*\]",
        r"odot\s*\[\s*x",
    ],
    "linear_backward": [
        r"dz\s*@\s*W\.T",
        r"x\.T\s*@",
        r"\bW\^T\b",
        r"\bW\^\{?\\top",
        r"\bx\^T\b",
        r"\bx\^\{?\\top",
        r"xᵀ",
        r"Wᵀ",
    ],
    "mse_backward": [
        r"2\s*\*?\s*\(?\s*pred\s*-\s*target\s*\)?\s*/\s*N",
        r"\(\s*2\s*/\s*N\s*\)",
        r"2(\.0)?\s*\*\s*diff",
    ],
    "softmax_cross_entropy_backward": [
        r"\bp\s*-\s*onehot",
        r"probs\s*-\s*onehot",
        r"p_c\s*-\s*\[\s*c\s*==\s*y\s*\]",
        r"-=\s*1(\.0)?\b",
    ],
    "softmax_jacobian": [r"diag\(\s*p\s*\)\s*-\s*(np\.)?outer", r"p_i\s*\(\s*\[\s*i\s*==\s*j\s*\]\s*-\s*p_j"],
    "softmax_backward": [r"sum\(\s*dout\s*\*\s*p\s*,\s*axis", r"p\s*\*\s*\(\s*dout\s*-\s*(np\.)?sum"],
    "residual_backward": [r"return\s+dout\s*\+\s*dh\b"],
    "two_layer_net_backward": [r"dW[12]\s*\+\s*(dout\s*\*\s*)?reg\s*\*\s*W[12]"],
}
WORKING_CODE = {
    "numerical_gradient": [r"for\s+\w+\s+in\s+np\.ndindex\(", r"for\s+\w+\s+in\s+range\(\s*\w+\.size\s*\)"],
}
"""Code that implements an exercise whole (its element loop), looked for in the notebooks' code only: the kit's own
checker needs such loops, a notebook never does."""
COMPILED = {name: [re.compile(p) for p in patterns] for name, patterns in LEAKS.items()}
COMPILED_CODE = {
    name: COMPILED.get(name, []) + [re.compile(p) for p in WORKING_CODE.get(name, [])]
    for name in {*LEAKS, *WORKING_CODE}
}
LIBRARY = REPO / "backprop_lib"
NOTEBOOKS = sorted((REPO / "notebooks" / "src").glob("[0-9]*.py"))
EXPLORER = REPO / "notebooks" / "src" / "gradient_flow_explorer.py"


def leaks(lines, exercises=COMPILED):
    """(line number, exercise, text) for every line that holds an answer formula."""
    return [
        (number, name, line.strip())
        for number, line in enumerate(lines, 1)
        for name, patterns in exercises.items()
        if any(p.search(line) for p in patterns)
    ]


HIDDEN_TESTS = sorted((REPO / "autograder" / "course" / "hidden_tests").glob("*/*.py"))


@pytest.mark.parametrize("path", HIDDEN_TESTS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_hidden_test_states_an_answer_formula(path):
    """Hidden tests compare with the grader's reference values (autograder.course.reference): a hidden test that
    reaches a student's feedback or kernel gives no formula away."""
    lines = [re.sub(r"\bh_", "", line) for line in path.read_text().splitlines()]  # the hidden names' prefix
    found = leaks(lines)
    assert not found, "\n".join(f"{path.relative_to(REPO)}:{n}: {name}: {text}" for n, name, text in found)


def library_files():
    return sorted(p for p in LIBRARY.rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".md", ".txt"))


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_library_file_gives_an_answer_away(path):
    found = leaks(path.read_text().splitlines())
    assert not found, "\n".join(f"{path.relative_to(REPO)}:{n}: {name}: {text}" for n, name, text in found)


def grade_cells(exercises=LEAKS):
    """{exercise: (notebook index, line of its grade cell)} from the notebooks' sources."""
    cells = {}
    for index, notebook in enumerate(NOTEBOOKS):
        for number, line in enumerate(notebook.read_text().splitlines(), 1):
            match = re.search(r'"grade_id": "(\w+)"', line)
            if match and match.group(1) in exercises:
                cells.setdefault(match.group(1), (index, number))
    return cells


@pytest.mark.parametrize("exercise", sorted(LEAKS))
def test_no_notebook_gives_an_answer_away_before_its_exercise(exercise):
    where = grade_cells().get(exercise)
    if where is None:
        pytest.skip(f"{exercise} has no grade cell in the notebooks")
    index, grade_line = where
    found = []
    for notebook in NOTEBOOKS[: index + 1]:
        lines = notebook.read_text().splitlines()
        if notebook == NOTEBOOKS[index]:
            lines = lines[: grade_line - 1]
        found += [(notebook, n, text) for n, _, text in leaks(lines, {exercise: COMPILED[exercise]})]
    assert not found, "\n".join(f"{p.relative_to(REPO)}:{n}: {exercise}: {text}" for p, n, text in found)


def code_lines(notebook):
    """The lines of a notebook source's code cells."""
    return [
        line for cell in jupytext.read(notebook).cells if cell.cell_type == "code" for line in cell.source.splitlines()
    ]


@pytest.mark.parametrize("exercise", sorted(COMPILED_CODE))
def test_no_later_notebook_holds_an_exercises_working_code(exercise):
    where = grade_cells(COMPILED_CODE).get(exercise)
    if where is None:
        pytest.skip(f"{exercise} has no grade cell in the notebooks")
    found = [
        (notebook, name, text)
        for notebook in NOTEBOOKS[where[0] + 1 :]
        for _, name, text in leaks(code_lines(notebook), {exercise: COMPILED_CODE[exercise]})
    ]
    assert not found, "\n".join(f"{p.relative_to(REPO)}: {name}: {text}" for p, name, text in found)


def test_the_explorer_gives_no_answer_away():
    """The widgets' tour is outside the course's order: a self-learner may open it before any exercise."""
    text = EXPLORER.read_text().splitlines()
    found = leaks(text) + leaks(code_lines(EXPLORER), COMPILED_CODE)
    assert not found, "\n".join(f"{EXPLORER.relative_to(REPO)}:{n}: {name}: {line}" for n, name, line in found)


def test_the_scanner_finds_the_formulas_it_looks_for():
    sample = ["dx = dz @ W.T", "return (dout * (x > 0),)", "the mask $[x > 0]$", "dlogits = p - onehot", "z = x W + b"]
    assert [name for _, name, _ in leaks(sample)] == [
        "linear_backward",
        "relu_backward",
        "relu_backward",
        "softmax_cross_entropy_backward",
    ]
    words = [
        "**add** passes the upstream gradient to both inputs;",
        "**multiply** gives each input the *other* input times the upstream gradient;",
        "**max** sends the whole upstream gradient to the larger input",
        "    for index in np.ndindex(value.shape):",
        "    for m in range(x.size):",
    ]
    found = [name for _, name, _ in leaks(words, COMPILED_CODE)]
    assert found == [
        "add_backward",
        "multiply_backward",
        "maximum_backward",
        "numerical_gradient",
        "numerical_gradient",
    ]


def test_the_stubs_are_scanned():
    stubs = {LIBRARY / f"{m}.py" for m in ("gates", "activations", "layers", "losses", "graph", "derivations")}
    assert stubs <= set(library_files())
    assert Path(LIBRARY / "kit" / "hints.json") in library_files()
