"""The student's self-check: one row per exercise, and never a crash on broken student code."""

import subprocess
import sys

from conftest import REPO, student_env

from backprop_lib.kit.exercises import EXERCISES
from backprop_lib.kit.selfcheck import check, run_in_subprocess

BACKPROP_KIT = [sys.executable, "-m", "backprop_lib.kit.cli"]


def cli(*args, cwd, env):
    return subprocess.run([*BACKPROP_KIT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_terminal_check_on_untouched_stubs_prints_not_implemented_rows():
    done = cli("check", "relu_backward", "linear_backward", cwd=REPO, env=student_env())
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "·",
        "relu_backward",
        "not",
        "implemented",
        "write",
        "it",
        "in",
        "backprop_lib/activations.py",
    ]
    assert "linear_backward" in lines[1] and "backprop_lib/layers.py" in lines[1]
    assert lines[-1] == "0 passed, 0 failed, 2 not implemented yet"


def test_the_students_commands_start_without_loading_the_graders():
    code = "import sys; from backprop_lib.kit import cli; cli.main(['exercises']); print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=student_env(), capture_output=True, text=True)
    assert done.returncode == 0 and "relu_backward" in done.stdout, done.stderr
    loaded = done.stdout.splitlines()[-1]
    assert "'nbgrader'" not in loaded and "'autograder'" not in loaded


def test_terminal_check_on_the_reference_passes_everything(library):
    done = cli("check", "--dir", str(library()), cwd=REPO, env=student_env())
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1] == f"{len(EXERCISES)} passed, 0 failed, 0 not implemented yet"


def test_a_failed_row_shows_the_diagnostic_and_the_hint(library):
    from solutions.mistakes import MISTAKES

    mistake = next(m for m in MISTAKES if m.key == "linear_dW_transposed")
    report = check("linear_backward", directory=library(mistake))
    [result] = report
    out = str(report)
    assert result.status == "failed"
    assert "✘ linear_backward  failed" in out
    assert "dW has shape (3, 5), expected (5, 3)" in out
    assert f"Hint: {mistake.diagnosis}" in out


def test_a_syntax_error_is_reported_with_its_file_and_line(library):
    folder = library()
    gates = folder / "backprop_lib" / "gates.py"
    lines = gates.read_text().splitlines()
    line = next(i for i, text in enumerate(lines) if "def add_backward" in text)
    lines[line] = "def add_backward(dout, cache)"  # the colon is missing
    gates.write_text("\n".join(lines) + "\n")
    results = run_in_subprocess(["add_backward", "relu_backward"], folder)
    assert results[0].status == "failed"
    assert results[0].summary.startswith(f"syntax error in {gates}, line {line + 1}")
    assert results[1].passed  # another file is unaffected


def test_an_endless_loop_is_stopped_and_reported(library):
    folder = library()
    layers = folder / "backprop_lib" / "layers.py"
    layers.write_text(
        layers.read_text().replace(
            "    x, W, b = cache\n    return", "    x, W, b = cache\n    while True:\n        pass\n    return"
        )
    )
    [result] = run_in_subprocess(["linear_backward"], folder)
    assert result.status == "failed"
    assert "endless loop" in result.summary


def test_a_crashing_student_process_is_reported_not_raised(library):
    folder = library()
    activations = folder / "backprop_lib" / "activations.py"
    activations.write_text(activations.read_text() + "\nimport os\nos._exit(3)\n")
    results = run_in_subprocess(["relu_backward"], folder)
    assert len(results) == 1 and results[0].status == "error"
    assert "exit code 3" in results[0].summary


def test_an_exception_points_at_the_students_line(library):
    folder = library()
    losses = folder / "backprop_lib" / "losses.py"
    losses.write_text(
        losses.read_text().replace("    diff, n = cache\n", "    diff, n = cache\n    n = n / undefined_name\n")
    )
    [result] = run_in_subprocess(["mse_backward"], folder)
    assert result.summary == "raised NameError: name 'undefined_name' is not defined"
    assert any("losses.py" in line and "undefined_name" in line for line in result.details)


def test_under_nbgrader_the_self_check_is_skipped_with_a_note(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    report = check("relu_backward", directory=REPO)
    assert list(report) == []
    assert str(report) == "self-check skipped while nbgrader grades: the test cells check every exercise"
