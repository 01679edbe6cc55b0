"""Generate the exercise files in ``backprop_lib/`` and the hint ladder from the reference solutions.

``solutions/<module>.py`` is the one source of truth. Each exercise body sits
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the stub keeps
everything else (given forwards, docstrings, signatures) and replaces the body
with a ``raise NotImplementedError`` that names the exercise and the file.
``solutions/hints.py`` becomes ``backprop_lib/kit/hints.json`` (each rung
compressed and encoded, see ``backprop_lib.kit.hints``).

    python -m backprop_lib.kit.stubgen          # rewrite the stubs
    python -m backprop_lib.kit.stubgen --check  # exit 1 if a stub or the hints are out of date

``tests/test_stubs.py`` fails whenever a committed file differs from this output.
"""

import importlib.util
import re
import sys
from pathlib import Path

from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.hints import HINTS_FILE, compile_hints

LIBRARY_DIR = Path(__file__).resolve().parent.parent

_DEF = re.compile(r"^\s*def (\w+)\(")
_BEGIN, _END = "### BEGIN SOLUTION", "### END SOLUTION"


def not_implemented_message(function, module):
    """The one-line message every stub raises."""
    return f"{function} is not implemented yet: write it in backprop_lib/{module}.py"


def make_stub(solution_source, module):
    """The stub text for one solution file's text."""
    lines, function, inside = [], None, False
    for line in solution_source.splitlines():
        match = _DEF.match(line)
        if match:
            function = match.group(1)
        stripped = line.strip()
        if stripped == _BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f'{indent}raise NotImplementedError("{not_implemented_message(function, module)}")')
            inside = True
        elif stripped == _END:
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise ValueError(f"solutions/{module}.py: {_BEGIN} in {function} has no {_END}")
    return "\n".join(lines) + "\n"


def expected_stubs():
    """{stub path: text} for every exercise module, and the compiled hint ladder."""
    stubs = {
        LIBRARY_DIR / f"{module}.py": make_stub((SOLUTIONS_DIR / f"{module}.py").read_text(), module)
        for module in EXERCISE_MODULES
    }
    return stubs | {HINTS_FILE: compile_hints(_solution_hints())}


def _solution_hints():
    """HINTS from solutions/hints.py, loaded as a file (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("backprop_kit_hints_source", SOLUTIONS_DIR / "hints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HINTS


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    stale = [path for path, text in expected_stubs().items() if not path.is_file() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"out of date: {path} (run: python -m backprop_lib.kit.stubgen)")
        return 1 if stale else 0
    for path, text in expected_stubs().items():
        path.write_text(text)
    print(f"wrote {len(EXERCISE_MODULES)} stubs and the hints, {len(stale)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
