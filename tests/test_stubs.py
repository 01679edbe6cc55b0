"""Stubs are generated from the solutions and raise a named NotImplementedError."""

import ast
import inspect
import json
import re
import shutil
import subprocess
import sys

from conftest import REPO, student_env

from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.exercises import EXERCISES, STUDENT_EXERCISES, is_course_example
from backprop_lib.kit.stubgen import expected_stubs


def test_committed_stubs_equal_the_generated_ones():
    for path, text in expected_stubs().items():
        assert path.read_text() == text, f"{path} is out of date: run python -m backprop_lib.kit.stubgen"


def test_stubs_keep_every_signature_and_docstring_of_the_solutions():
    for module in EXERCISE_MODULES:
        solution = ast.parse((REPO / "solutions" / f"{module}.py").read_text())
        stub = ast.parse((REPO / "backprop_lib" / f"{module}.py").read_text())
        wanted = {
            f.name: (ast.dump(f.args), ast.get_docstring(f))
            for f in ast.walk(solution)
            if isinstance(f, ast.FunctionDef)
        }
        found = {
            f.name: (ast.dump(f.args), ast.get_docstring(f)) for f in ast.walk(stub) if isinstance(f, ast.FunctionDef)
        }
        assert found == wanted, module


def test_every_exercise_is_a_stub_with_a_full_docstring():
    for exercise in STUDENT_EXERCISES.values():
        source = (REPO / exercise.path).read_text()
        tree = ast.parse(source)
        function = next(f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == exercise.name)
        assert len(ast.get_docstring(function) or "") > 80, f"{exercise.name} needs a docstring with math and shapes"
        body = [node for node in function.body if not isinstance(node, ast.Expr)]
        assert len(body) == 1 and isinstance(body[0], ast.Raise), f"{exercise.name} stub must only raise"


def test_untouched_stubs_report_not_implemented_for_every_exercise(tmp_path):
    """In student mode every exercise says which function to write in which file."""
    command = [sys.executable, "-m", "backprop_lib.kit.checking", "--json"]
    done = subprocess.run(command, cwd=REPO, env=student_env(), capture_output=True, text=True, check=True)
    results = json.loads(done.stdout)
    assert len(results) == len(EXERCISES)
    for result in results:
        assert result["status"] == "not implemented", result
        if is_course_example(EXERCISES[result["exercise"]]):  # names the first exercise it needs
            assert re.fullmatch(r"\w+ is not implemented yet: write it in backprop_lib/\w+\.py", result["summary"])
        else:
            assert result["summary"] == f"{result['exercise']} is not implemented yet: write it in {result['path']}"


def test_stub_raises_the_named_error_when_called(tmp_path):
    code = "from backprop_lib.layers import linear_backward\nlinear_backward(None, None)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=student_env(), capture_output=True, text=True)
    assert done.returncode == 1
    assert (
        "NotImplementedError: linear_backward is not implemented yet: write it in backprop_lib/layers.py" in done.stderr
    )


def test_solution_mode_loads_the_reference_and_says_so():
    import backprop_lib.layers

    assert inspect.getfile(backprop_lib.layers) == str(REPO / "solutions" / "layers.py")


def test_solution_mode_without_solutions_is_a_clear_error(tmp_path):
    shutil.copytree(REPO / "backprop_lib", tmp_path / "backprop_lib")
    done = subprocess.run(
        [sys.executable, "-c", "import backprop_lib"],
        cwd=tmp_path,
        env=student_env(BACKPROP_KIT_SOLUTIONS="1"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "no reference solutions" in done.stderr
