"""The grader's numbers for the hidden tests: each test run once on the reference solutions, at course build.

A hidden test compares a student's values with ``backprop_lib.kit.notebook.agrees(h_reference,
name, value)``, never with a formula: the build runs every hidden test in a Python
of its own on the reference solutions (solution mode), where ``h_reference`` is None
and ``agrees`` notes each value, and writes the values into the test as
``h_reference = {...}``. The answers' formulas are in no notebook, test or page.
"""

import functools
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import backprop_lib
from autograder.course import BuildError

REFERENCE_NAME = "h_reference"
RECORD = """
import json, sys
from backprop_lib.kit import notebook
values = {}
for path in sys.argv[1:]:
    notebook.recorded.clear()
    exec(compile(open(path).read(), path, "exec"), {"__name__": "hidden_test", "h_reference": None})
    values[path] = dict(notebook.recorded)
print(json.dumps(values))
"""


def with_reference(test):
    """The hidden test at ``test`` (a path) with its reference values written in, if it uses them."""
    code = test.read_text()
    if REFERENCE_NAME not in code:
        return code
    values = recorded(test.parent.parent)[str(test)]
    return f"{REFERENCE_NAME} = {values!r}\n{code.strip()}"


def recorded(hidden_tests_dir):
    """{test path: {name: value}} of every hidden test under ``hidden_tests_dir`` that compares with reference
    values, run on the reference solutions."""
    paths = sorted(Path(hidden_tests_dir).glob("*/*.py"))
    tests = [str(path) for path in paths if REFERENCE_NAME in path.read_text()]
    return _record(tuple(tests), _fingerprint(tests))


@functools.cache
def _record(tests, fingerprint):
    if not (backprop_lib.SOLUTIONS_DIR / "graph.py").is_file():
        raise BuildError(
            f"building a course needs the reference solutions ({backprop_lib.SOLUTIONS_DIR}), to compute the hidden "
            "tests' reference values: install the grader's package or work in a checkout"
        )
    env = {**os.environ, backprop_lib.SOLUTIONS_ENV: "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NBGRADER_EXECUTION", None)
    done = subprocess.run([sys.executable, "-c", RECORD, *tests], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BuildError(f"a hidden test fails on the reference solutions:\n{done.stderr.strip()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fingerprint(tests):
    """What the recorded values depend on: the tests, the reference solutions and the kit's code."""
    digest = hashlib.sha256()
    roots = [backprop_lib.SOLUTIONS_DIR, Path(backprop_lib.__file__).parent]
    for path in [*map(Path, tests), *(p for root in roots for p in sorted(root.rglob("*.py")))]:
        digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()
