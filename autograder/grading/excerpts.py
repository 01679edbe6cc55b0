"""The student's statement a failed check points at, quoted anonymised for the lecturer's class insights.

For each failed exercise the grader parses the student's exercise file (the
intake's copy: parsed, never run) and quotes one statement of the exercise's
function:

- where the student's code raised, the statement holding the line the
  exception's report names;
- else, when the check names a wrong gradient (``db`` in "db is wrong") that the
  function returns by name, the statement that last assigned it; else the
  function's return, or its last statement when it returns nothing.

A quote is ``ast.unparse`` of that statement with every string replaced by
``'...'``: no comment, no docstring, no text the student wrote, only code.
"""

import ast
import copy
import re

from backprop_lib.kit.exercises import STUDENT_EXERCISES
from backprop_lib.kit.results import FAILED

MAX_FILE_BYTES = 1 << 20
MAX_LINES = 6
MAX_CHARACTERS = 400
RAISED_AT = re.compile(r"at (?P<file>.+), line (?P<line>\d+), in (?P<function>\w+): ")


def quote_failures(course, student, verification):
    """{exercise: quote} for the failed exercises of ``verification``, from ``student``'s intake folder."""
    folder, trees, quotes = course.folder("intake", student), {}, {}
    for result in verification.results:
        exercise = STUDENT_EXERCISES.get(result.exercise)
        if exercise is None or result.status != FAILED:
            continue
        if exercise.path not in trees:
            trees[exercise.path] = _parse(folder / exercise.path)
        function = _function(trees[exercise.path], exercise.name)
        statement = function and (_raising(function, result) or _computing(function, exercise, result))
        if statement and (quoted := quote(statement)):
            quotes[exercise.name] = quoted
    return quotes


def quote(statement):
    """``statement`` as code, strings replaced by ``'...'``, at most MAX_LINES lines and MAX_CHARACTERS; None for
    one nested too deeply to write back (``a + a + ...`` of a thousand terms)."""
    try:
        lines = ast.unparse(_Unworded().visit(copy.deepcopy(statement))).splitlines()
    except RecursionError:
        return None
    text = "\n".join(lines[:MAX_LINES] + ["..."] * (len(lines) > MAX_LINES))
    return text if len(text) <= MAX_CHARACTERS else text[: MAX_CHARACTERS - 3] + "..."


class _Unworded(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.Constant("...") if isinstance(node.value, str | bytes) else node

    def visit_JoinedStr(self, node):
        return ast.Constant("...")


def _parse(path):
    """The module's syntax tree, or None (missing, large, not Python)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _function(tree, name):
    """The module's (last) top-level definition of ``name``, the one Python uses."""
    found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name] if tree else []
    return found[-1] if found else None


def _raising(function, result):
    """The innermost statement of ``function`` holding the line where the student's code raised, or None."""
    lines = [
        int(match["line"])
        for detail in result.details
        if (match := RAISED_AT.match(detail)) and match["function"] == function.name
    ]
    if not lines:
        return None
    holding = [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.stmt) and node is not function and node.lineno <= lines[-1] <= node.end_lineno
    ]
    return min(holding, key=lambda node: node.end_lineno - node.lineno, default=None)


def _computing(function, exercise, result):
    """The function's last top-level statement that writes the returned value holding the wrong result; else the
    return, or the last statement when the function returns nothing."""
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    if not returns:
        return function.body[-1]
    last = max(returns, key=lambda node: node.lineno)
    named = _returned_name(last, exercise, result)
    writing = [node for node in function.body if node.lineno < last.lineno and named and _writes(node, named)]
    return writing[-1] if writing else last


def _returned_name(statement, exercise, result):
    """The variable returned (``return grad``), or the one holding the wrong gradient (``db`` of "db is wrong" in
    ``return dx, dW, db``); None otherwise."""
    if isinstance(statement.value, ast.Name):
        return statement.value.id
    names = getattr(exercise, "grad_names", [])
    wrong = (result.summary or "").split(" ", 1)[0]
    values = statement.value.elts if isinstance(statement.value, ast.Tuple | ast.List) else [statement.value]
    if wrong not in names or len(values) != len(names):
        return None
    value = values[names.index(wrong)]
    return value.id if isinstance(value, ast.Name) else None


def _writes(statement, name):
    """Whether ``statement`` assigns ``name``, an item or attribute of it, or calls a method of it (``append``)."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            return True
        target = node.func if isinstance(node, ast.Call) else node
        stored = isinstance(node, ast.Call) or isinstance(getattr(node, "ctx", None), ast.Store)
        if stored and isinstance(target, ast.Subscript | ast.Attribute) and _named(target.value, name):
            return True
    return False


def _named(node, name):
    return isinstance(node, ast.Name) and node.id == name
