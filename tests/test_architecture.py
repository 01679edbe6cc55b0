"""The import graph: no circles, and every arrow points down the autograder's layers.

Every ``import`` and ``from ... import`` in the source counts, those inside
functions (lazy imports) included. The autograder's packages are layered, from
the bottom: the gradebook (records and their tables), the course, the sandbox,
grading, reports, the services, the demo and the commands on top (``cli``).
A module may import its own layer and the layers below, never one above.
``backprop_lib`` (what students get) never imports the autograder.
"""

import ast

import pytest
from conftest import REPO

LAYERS = ["gradebook", "course", "sandbox", "grading", "reports", "service", "hub", "demo", "cli"]


def module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path, name):
    """The absolute names of the modules ``path`` (module ``name``) imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def graph(package):
    modules = {module_name(p): p for p in sorted((REPO / package).rglob("*.py")) if "hidden_tests" not in p.parts}
    return {name: {m for m in imported(path, name) if m in modules and m != name} for name, path in modules.items()}


def layer(module):
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


def cycle(edges):
    """A list of modules forming a circle, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt, [*stack, nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_every_autograder_module_is_in_a_layer():
    unplaced = [m for m in graph("autograder") if m != "autograder" and layer(m) is None]
    assert not unplaced, f"modules outside the layers {LAYERS}: {unplaced}"


def test_the_autograder_imports_have_no_circle():
    edges = {m: {n for n in targets if n != "autograder"} for m, targets in graph("autograder").items()}
    assert cycle(edges) is None, " -> ".join(cycle(edges))


def test_every_import_points_down_the_layers():
    upward = [
        f"{module} ({LAYERS[layer(module)]}) imports {target} ({LAYERS[layer(target)]})"
        for module, targets in graph("autograder").items()
        for target in targets
        if module != "autograder" and target != "autograder" and layer(target) > layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_student_library_never_imports_the_autograder():
    reaching = [
        f"{module} imports {target}"
        for module, path in {module_name(p): p for p in (REPO / "backprop_lib").rglob("*.py")}.items()
        for target in imported(path, module)
        if target.split(".")[0] == "autograder"
    ]
    assert not reaching, "\n".join(reaching)


@pytest.mark.parametrize(
    "edges, expected",
    [({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]), ({"a": {"b"}, "b": set()}, None)],
)
def test_the_walk_finds_a_circle(edges, expected):
    assert cycle(edges) == expected
