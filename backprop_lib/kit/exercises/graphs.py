"""Checks for the graph engine: ``topological_sort`` and ``backward`` in backprop_lib/graph.py.

The graphs are scalar circuits from the course, graphs with forks (a value used
several times, such as x*c + (x+y)), and for the sort a chain deeper than
Python's recursion limit. Their gates are the checker's own (``GATES``),
attached to the student's ``Node`` objects, so a mistake in a student's gate
backward can never be blamed on the engine. Like a student's own gates may,
they share arrays: the add gate hands ``dout`` itself to both inputs and +c
returns ``dout``, so an engine that adds into an array it received (instead of
into zeros of its own) corrupts other nodes' gradients and fails. Every node's
gradient is compared, intermediate nodes included, with centered differences:
nudge one node's value and re-evaluate everything downstream.
"""

from collections import Counter
from types import SimpleNamespace

import numpy as np

from backprop_lib.kit.exercises.base import Case
from backprop_lib.kit.gradcheck import STEP, close, number, worst_mismatch
from backprop_lib.kit.results import FAILED, PASSED, CheckResult, Diagnosis

DEEP_CHAIN = 3000
"""Nodes in the sort's deepest graph: more than Python's recursion limit (1000 by default)."""


class Gate:
    """A checker-owned gate with the operation interface the engine calls.

    ``forward(a, b, c)`` computes the gate (b unused by a one-input gate, c its
    constant). Its backward multiplies ``dout`` by local gradients estimated by
    centered differences of that forward (no derivative formula here), except
    for a gate whose local gradient is exactly 1 (``passes_on``): that one hands
    ``dout`` itself, the same array object, to each input, as a student's add
    gate may.
    """

    def __init__(self, name, forward, inputs, passes_on=False):
        self.name, self.forward, self.inputs, self.passes_on = name, forward, inputs, passes_on

    def backward(self, dout, cache):
        """One gradient per input: ``dout`` itself for a pass-on gate, else dout times a numerical local gradient."""
        if self.passes_on:
            return tuple(dout for _ in range(self.inputs))
        a, b, c = (float(v) if v is not None else None for v in cache)
        return tuple(np.asarray(dout * self._local(a, b, c, i), dtype=np.float64) for i in range(self.inputs))

    def _local(self, a, b, c, i):
        def moved(h):
            return self.forward(a + h, b, c) if i == 0 else self.forward(a, b + h, c)

        return (moved(STEP) - moved(-STEP)) / (2 * STEP)


GATES = {
    1: Gate("add", lambda a, b, c: a + b, 2, passes_on=True),
    2: Gate("multiply", lambda a, b, c: a * b, 2),
    3: Gate("maximum", lambda a, b, c: max(a, b), 2),
    4: Gate("scale", lambda a, b, c: c * a, 1),
    5: Gate("exp", lambda a, b, c: np.exp(a), 1),
    6: Gate("reciprocal", lambda a, b, c: 1.0 / a, 1),
    7: Gate("add_constant", lambda a, b, c: a + c, 1, passes_on=True),
}
CODES = {gate.name: code for code, gate in GATES.items()}


def circuit(*nodes, note):
    """A Case from node tuples; the last node is the root (E).

    A node is ``(label, value)`` for an input, or ``(label, gate, parent, ...)``
    with the gate's name, its parents' labels and, for scale and add_constant,
    the constant last.
    """
    labels = [node[0] for node in nodes]
    columns = {"op": [], "left": [], "right": [], "constant": [], "value": []}
    for _, kind, *rest in nodes:
        parents = [labels.index(p) for p in rest if isinstance(p, str)] + [-1, -1]
        constants = [c for c in rest if not isinstance(c, str)]
        is_input = not isinstance(kind, str)
        columns["op"].append(0 if is_input else CODES[kind])
        columns["left"].append(parents[0])
        columns["right"].append(parents[1])
        columns["constant"].append(float(constants[0]) if constants else 0.0)
        columns["value"].append(float(kind) if is_input else 0.0)
    data = {key: np.array(column) for key, column in columns.items()}
    return Case(data | {"labels": np.array(labels)}, note)


def evaluate(case, nudge=None):
    """Forward values of every node; ``nudge=(i, h)`` adds h to node i before its children see it."""
    data, values = case.data, []
    for i, code in enumerate(data["op"]):
        a = values[data["left"][i]] if data["left"][i] >= 0 else None
        b = values[data["right"][i]] if data["right"][i] >= 0 else None
        v = float(data["value"][i]) if code == 0 else float(GATES[int(code)].forward(a, b, float(data["constant"][i])))
        values.append(v + (nudge[1] if nudge and nudge[0] == i else 0.0))
    return values


def numerical_node_gradients(case):
    """dE/d(node) for every node by centered differences, E being the last node."""
    return np.array(
        [
            (evaluate(case, (i, STEP))[-1] - evaluate(case, (i, -STEP))[-1]) / (2 * STEP)
            for i in range(len(case.data["op"]))
        ]
    )


def build(case, graph):
    """The case as the student's Node objects, wired with the checker's gates."""
    data, nodes = case.data, []
    values = evaluate(case)
    for i, code in enumerate(data["op"]):
        node = graph.Node(values[i], str(data["labels"][i]))
        if code:
            parents = [nodes[j] for j in (data["left"][i], data["right"][i]) if j >= 0]
            node.parents, node.operation = tuple(parents), GATES[int(code)]
            node.cache = (*(p.value for p in parents), *([None] * (2 - len(parents))), float(data["constant"][i]))
        nodes.append(node)
    return nodes


def deep_chain(length=DEEP_CHAIN):
    """x, then ``length`` nodes h <- 1.0 * h: deeper than Python's recursion limit."""
    ops = np.array([0] + [CODES["scale"]] * length)
    data = {
        "op": ops,
        "left": np.arange(-1, length),
        "right": np.full(length + 1, -1),
        "constant": np.array([0.0] + [1.0] * length),
        "value": np.array([0.5] + [0.0] * length),
        "labels": np.array(["x"] + [f"h{i}" for i in range(1, length + 1)]),
    }
    return Case(data, f"a chain of {length} nodes, deeper than Python's recursion limit")


def course_graphs():
    """The graphs every engine check runs on: the course's two examples and graphs with forks."""
    chain = [("x", 0.8)]
    for i in range(12):
        prev = chain[-1][0] if i == 0 else f"h{i}"
        chain += [(f"s{i}", "scale", prev, 0.5), (f"h{i + 1}", "add", prev, f"s{i}")]
    return [
        circuit(
            ("x", 3.0), ("y", -4.0), ("z", 2.0), ("w", -1.0),
            ("q", "multiply", "x", "y"), ("m", "maximum", "z", "w"), ("s", "add", "q", "m"), ("f", "scale", "s", 2.0),
            note="course circuit f = 2 (x y + max(z, w)) at x = 3, y = -4, z = 2, w = -1",
        ),
        circuit(
            ("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0),
            ("a", "multiply", "w0", "x0"), ("b", "multiply", "w1", "x1"), ("c", "add", "a", "b"),
            ("d", "add", "c", "w2"), ("e", "scale", "d", -1.0), ("g", "exp", "e"), ("h", "add_constant", "g", 1.0),
            ("f", "reciprocal", "h"),
            note="course sigmoid neuron f = 1/(1 + exp(-(w0 x0 + w1 x1 + w2)))",
        ),
        circuit(
            ("x", 1.5), ("y", -0.5),
            ("a", "multiply", "x", "y"), ("b", "add", "a", "x"), ("c", "multiply", "b", "a"),
            ("d", "maximum", "c", "y"), ("f", "add", "d", "a"),
            note="forks: a = x y is used three times and x twice",
        ),
        circuit(
            ("x", 1.5), ("y", -0.5), ("p", "scale", "x", 3.0), ("s", "add", "x", "y"), ("f", "add", "p", "s"),
            note="forks: f = x*3 + (x + y), x used twice; every gradient is 1 except dx = 4",
        ),
        circuit(
            ("x", 1.5), ("y", -0.5), ("s", "add", "x", "y"), ("p", "scale", "x", 3.0), ("f", "add", "s", "p"),
            note="forks: f = (x + y) + x*3, x used twice; every gradient is 1 except dx = 4",
        ),
        circuit(*chain, note="a residual chain h <- h + 0.5 h, twelve forks deep"),
    ]  # fmt: skip


NO_VISITED_SET = Diagnosis("no visited set", "keep a set of visited nodes")
PARENTS_NOT_VISITED = Diagnosis(
    "parents not visited", "visit every parent of every node, recursively, starting from the root"
)
ROOT_NOT_LAST = Diagnosis(
    "root not last", "parents come before children, so the root, which depends on everything, is last"
)
CHILD_FIRST = Diagnosis("child before its parent", "append a node only after all of its parents are in the list")
CARRIED_OVER = Diagnosis(
    "gradients carried over between calls",
    "gradients carried over from the first call: every call must start from zero "
    "(reset every node's grad before the sweep, then seed the root)",
)


class TopologicalSortExercise:
    """``topological_sort(root)``: every ancestor once, parents before children, root last."""

    name, module, path = "topological_sort", "graph", "backprop_lib/graph.py"
    title = "topological order of a computation graph"

    def cases(self, seed):
        return [*course_graphs(), deep_chain()]

    def run(self, case):
        from backprop_lib import graph

        nodes = build(case, graph)
        position = {id(node): i for i, node in enumerate(nodes)}
        order = list(graph.topological_sort(nodes[-1]))[: 4 * len(nodes)]
        return {"order": np.array([position.get(id(node), -1) for node in order], dtype=np.int64)}

    def judge(self, case, got):
        order, labels = [int(i) for i in got["order"]], [str(label) for label in case.data["labels"]]
        n = len(labels)
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        if -1 in order:
            result.summary = "the order contains something that is not a node of the graph"
        elif len(set(order)) < len(order):
            twice = labels[Counter(order).most_common(1)[0][0]]
            result.summary = f"node {twice} appears more than once"
            result.diagnose(NO_VISITED_SET)
        elif len(order) < n:
            listed = set(order)
            missing = [labels[i] for i in range(n) if i not in listed]
            result.summary = f"nodes missing from the order: {', '.join(missing[:10])}"
            result.diagnose(PARENTS_NOT_VISITED)
        elif order[-1] != n - 1:
            result.summary = f"the root {labels[-1]} must come last, found {labels[order[-1]]}"
            result.diagnose(ROOT_NOT_LAST)
        else:
            place = {node: k for k, node in enumerate(order)}
            for child in range(n):
                for parent in (case.data["left"][child], case.data["right"][child]):
                    if parent >= 0 and place[parent] > place[child]:
                        result.summary = f"{labels[child]} comes before its parent {labels[parent]}"
                        result.diagnose(CHILD_FIRST)
                        return result
            result.status, result.details = PASSED, []
        return result


class BackwardExercise:
    """``backward(root)``: dE/d(node) for every node, correct on a second call too."""

    name, module, path = "backward", "graph", "backprop_lib/graph.py"
    title = "the general backprop algorithm: one backward sweep"

    def cases(self, seed):
        return course_graphs()

    def run(self, case):
        from backprop_lib import graph

        nodes = build(case, graph)
        graph.backward(nodes[-1])
        first = [np.asarray(node.grad, dtype=np.float64).item() for node in nodes]
        graph.backward(nodes[-1])
        second = [np.asarray(node.grad, dtype=np.float64).item() for node in nodes]
        return {"first": np.array(first), "second": np.array(second)}

    def judge(self, case, got):
        labels = [str(label) for label in case.data["labels"]]
        expected = numerical_node_gradients(case)
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        first, second = got["first"], got["second"]
        mismatch = worst_mismatch(expected, first)
        if mismatch is not None:
            node = labels[mismatch.index[0]]
            result.summary = f"dE/d{node} is {number(mismatch.got)}, expected {number(mismatch.expected)}"
            result.details.insert(0, f"{mismatch.count} of {mismatch.total} node gradients differ")
            result.diagnose(_engine_hint(case, expected, first))
        elif not close(expected, second):
            result.summary = "a second call to backward gave other gradients than the first"
            result.diagnose(CARRIED_OVER)
        else:
            result.status, result.details = PASSED, []
        return result


def _engine_hint(case, expected, got):
    """The Diagnosis when the student's gradients match what an engine with a known flaw computes, or None."""
    if close(np.zeros_like(got), got):
        return NO_SEED
    for flaw, found in ENGINE_FLAWS.items():
        if any(close(_flawed_engine(case, flaw, order), got) for order in _orders(case)):
            return found
    return None


NO_SEED = Diagnosis(
    "root not seeded", "every gradient is 0: the root needs its seed dE/dE = 1 before the sweep passes it back"
)
ENGINE_FLAWS = {
    "overwrite": Diagnosis(
        "gradients not summed at a fork",
        "a node used twice must receive the SUM of its gradients: yours keeps only the last one it received",
    ),
    "forward": Diagnosis(
        "visited in forward order",
        "nodes were visited parents first: a node must pass its gradient on only after every gradient it "
        "receives has arrived (reverse topological order)",
    ),
    "in_place": Diagnosis(
        "received gradient changed in place",
        "a gradient array the engine received was changed in place: the first gradient a node receives was stored "
        "as it is (an array a gate may share with other nodes) and later ones added into it with +=; add into "
        "arrays the engine owns (zeros made in the reset)",
    ),
}
"""Engine mistakes the checker can replay, and what to tell a student whose gradients match one."""


class _Node:
    """The checker's own node, for replaying a flawed engine."""

    def __init__(self, value, label=""):
        self.value, self.label = np.asarray(value, dtype=np.float64), label
        self.grad, self.parents, self.operation, self.cache = None, (), None, None


def _orders(case):
    """Topological orders a student's sort may give: the listing order, and a depth-first one (first parent first)."""
    data, n = case.data, len(case.data["op"])
    depth_first, seen = [], set()
    stack = [(n - 1, False)]
    while stack:
        i, done = stack.pop()
        if done:
            depth_first.append(i)
        elif i not in seen:
            seen.add(i)
            stack.append((i, True))
            stack.extend((int(j), False) for j in (data["right"][i], data["left"][i]) if j >= 0)
    return [list(range(n)), depth_first]


def _flawed_engine(case, flaw, order):
    """dE/d(node) as an engine with ``flaw`` computes it on ``case`` (checker-side, for hints only)."""
    nodes = build(case, SimpleNamespace(Node=_Node))
    nodes[-1].grad = np.ones(())
    sweep = order if flaw == "forward" else order[::-1]
    for i in sweep:
        node = nodes[i]
        if node.operation is None:
            continue
        upstream = np.zeros(()) if node.grad is None else node.grad
        for parent, g in zip(node.parents, node.operation.backward(upstream, node.cache), strict=True):
            if flaw == "overwrite" or parent.grad is None:
                parent.grad = g
            elif flaw == "in_place":
                parent.grad += g
            else:
                parent.grad = parent.grad + g
    return np.array([0.0 if node.grad is None else float(node.grad) for node in nodes])
