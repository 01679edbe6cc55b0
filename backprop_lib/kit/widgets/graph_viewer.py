"""Computation-graph viewer: values forward, then the backward pass one gate at a time.

Any graph built with ``backprop_lib.graph`` is drawn as a circuit: inputs on the
left, each gate in the column of its longest path from an input, its name above
it (its label, or v1, v2, ... when it has none), the forward value of every node
on its outgoing edges (green, above) and, once the backward sweep has reached
them, the gradients (red, below), all to 3 significant figures. The step control
replays the general backprop algorithm with the library's own pieces: a
topological order (given, or from the student's ``topological_sort``), reversed,
and each gate's ``<op>_backward``, which turns the gate's upstream gradient into
one gradient per input (local gradient x upstream gradient); gradients add where
a value feeds several gates, and the sum is written left of a forked input (under
a forked gate).

    graph_viewer()                      # the course's sigmoid neuron
    graph_viewer(my_loss_node)          # a graph you built
    graph_viewer(f, order=nodes)        # step in this order (before topological_sort exists)
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Circle

from backprop_lib import graph
from backprop_lib.graph import Node
from backprop_lib.kit.widgets.base import FigureView, FigureWidget, call_exercises
from backprop_lib.kit.widgets.style import (
    FONT_SIZE,
    GRADIENT_COLOR,
    HIGHLIGHT_COLOR,
    INK,
    MUTED,
    arc_apex,
    colour_key,
    edge,
    edge_label,
    format_significant,
    format_value,
    gate,
)

MAX_NODES = 40
MIN_WIDTH = 9.0
"""Inches: room for the status line under a small graph."""
COLUMN, ROW, RADIUS = 1.7, 1.1, 0.3
"""Layout units: column and row spacing and gate radius, in data units (1 unit = INCHES inches)."""
INCHES = 0.75
SKIP_BEND = 0.18
"""Height of the arc of a wire that skips columns, as a fraction of its length."""
CHARACTER = 0.12
"""Approximate width of one character of a node's name, in layout units."""


def shown(value):
    """A value or gradient as the viewer writes it: 3 significant figures (or the array's shape)."""
    return format_value(value, format_significant)


def sigmoid_example():
    """The course's sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2).

    Built gate by gate as in the lecture (*, +, *-1, exp, +1, 1/x): f = 0.73, and the
    backward pass gives -0.53 after the 1/x gate, -0.20 after exp, 0.20 after *-1.
    """
    w0, x0, w1, x1, w2 = (
        Node(v, name) for v, name in ((2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2"))
    )
    s = w0 * x0 + w1 * x1 + w2
    f = 1 / ((s * -1).exp() + 1)
    f.label = "f"
    return f


def gate_example():
    """The course's gate-pattern circuit f = 2 (x y + max(z, w)) at x = 3, y = -4, z = 2, w = -1.

    Gradients: dx = -8, dy = 6, dz = 2, dw = 0 (add distributes, multiply switches, max routes).
    """
    x, y, z, w = Node(3.0, "x"), Node(-4.0, "y"), Node(2.0, "z"), Node(-1.0, "w")
    f = (x * y + graph.maximum(z, w)) * 2
    f.label = "f"
    return f


@dataclass
class BackwardStep:
    """One gate's turn in the backward sweep.

    Attributes:
        gate: the Node whose operation runs backward.
        upstream: dE/d(gate), the sum of what its consumers sent.
        local: d(gate)/d(input) per input for a scalar gate, else None.
        grads: dE/d(input) per input, what the gate sends to each parent.
    """

    gate: Node
    upstream: np.ndarray
    local: tuple | None
    grads: tuple


def backward_steps(root, order=None):
    """The backward sweep from ``root`` (seeded with ones), gate by gate.

    Args:
        root: the Node to differentiate.
        order: a topological order of root's graph (parents before children), or
            None to ask the library's ``topological_sort`` for one.

    Returns (steps, status): the steps that ran, and "" or the one line saying which
    exercise stopped the sweep (``topological_sort`` or an ``<op>_backward``).
    """
    if order is None:
        order, status = call_exercises(lambda: graph.topological_sort(root))
        if status:
            return [], status
    totals = {root: np.ones_like(root.value)}
    steps = []
    for node in reversed(order):
        if node.operation is None:
            continue
        upstream = totals.get(node, np.zeros_like(node.value))
        step, status = call_exercises(lambda node=node, upstream=upstream: _gate_step(node, upstream))
        if status:
            return steps, status
        for parent, grad in zip(node.parents, step.grads, strict=True):
            totals[parent] = totals.get(parent, 0.0) + grad
        steps.append(step)
    return steps, ""


def _gate_step(node, upstream):
    grads = tuple(node.operation.backward(upstream, node.cache))
    if len(grads) != len(node.parents):
        name, count = node.operation.name, len(node.parents)
        raise ValueError(f"{name}_backward must return one gradient per input ({count}), got {len(grads)}")
    local = None
    if node.value.ndim == 0 and all(parent.value.ndim == 0 for parent in node.parents):
        local = tuple(node.operation.backward(np.ones_like(node.value), node.cache))
    return BackwardStep(node, upstream, local, grads)


def gate_symbol(node):
    """The gate's symbol as the course draws it: *, +, exp, 1/x, *-1, +1, ^2 ..."""
    operation = node.operation
    if operation.name == "scale":
        return f"*{_constant(node.cache)}"
    if operation.name == "power":
        return f"^{_constant(node.cache[1])}"
    if operation.name == "add_constant":
        shift = node.value - node.parents[0].value
        if shift.size and np.ptp(shift) == 0:
            return f"+{_constant(shift.ravel()[0])}"
    return operation.symbol or operation.name


def _constant(c):
    c = float(np.asarray(c).ravel()[0])
    return str(int(c)) if c.is_integer() else f"{c:g}"


def _graph_nodes(root):
    """Every node ``root`` depends on, itself included (without recursion: graphs can be deep)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(node.parents)
    return seen


def check_order(root, order):
    """Raise ValueError unless ``order`` lists root's graph once each, parents before children."""
    order = list(order)
    position = {node: index for index, node in enumerate(order)}
    if len(position) != len(order) or set(order) != _graph_nodes(root):
        raise ValueError("order must list every node of the graph exactly once (the root's ancestors and the root)")
    for node in order:
        for parent in node.parents:
            if position[parent] > position[node]:
                raise ValueError(f"order is not topological: {parent.label or 'a parent'} comes after its child")
    return order


class GraphLayout:
    """Where each node sits: gates in the column of their longest path from an input, inputs just
    left of their first gate; inputs take rows in depth-first order, a gate the mean row of its parents.

    Attributes:
        nodes: every node, parents before children. position: node -> (x, y).
        edges: (parent, child, input index) for every wire into a gate.
    """

    def __init__(self, root):
        self.root = root
        size = len(_graph_nodes(root))
        if size > MAX_NODES:
            raise ValueError(f"graph_viewer draws graphs of at most {MAX_NODES} nodes; this one has {size}")
        columns = {}
        self._column(root, columns)
        self.nodes = sorted(columns, key=columns.get)
        self.edges = [(p, node, i) for node in self.nodes for i, p in enumerate(node.parents)]
        rows, next_row = {}, 0
        for node in columns:  # insertion order is depth-first, parents first
            if not node.parents:
                rows[node], next_row = next_row, next_row + 1
            else:
                rows[node] = np.mean([rows[p] for p in node.parents])
        first_use = {}
        for parent, child, _ in self.edges:
            first_use[parent] = min(first_use.get(parent, columns[child]), columns[child])
        self.position = {}
        for node in self.nodes:
            column = first_use.get(node, 1) - 1 if not node.parents else columns[node]
            self.position[node] = (column * COLUMN, -rows[node] * ROW)
        self.names = self._names()

    def _names(self):
        """Each node's name: its label, else "out" for the root, v1, v2, ... for gates, "input" for inputs."""
        taken = {node.label for node in self.nodes if node.label}
        names, counter = {}, 0
        for node in self.nodes:
            if node.label:
                names[node] = node.label
            elif node is self.root:
                names[node] = "out"
            elif not node.operation:
                names[node] = "input"
            else:
                counter += 1
                while f"v{counter}" in taken:
                    counter += 1
                names[node] = f"v{counter}"
        return names

    def _column(self, node, columns):
        if node not in columns:
            parents = [self._column(p, columns) for p in node.parents]
            columns[node] = 1 + max(parents, default=-1)
        return columns[node]

    def extent(self):
        xs, ys = zip(*self.position.values(), strict=False)
        return min(xs), max(xs), min(ys), max(ys)


class GraphView(FigureView):
    """The circuit with its values and, step by step, its gradients."""

    def __init__(self, root, order=None):
        self.layout = GraphLayout(root)
        self.names = self.layout.names
        self.wires = {wire: (*self._wire(*wire), self._bend(*wire[:2])) for wire in self.layout.edges}
        x0, x1, y0, y1 = self.layout.extent()
        arcs = [arc_apex(*wire)[1] for wire in self.wires.values()]
        left, right = x0 - 1.0 - self._fork_room(), x1 + 1.9
        top, bottom = max([y1, *arcs]) + 1.1, min([y0, *arcs]) - 0.8
        margin = max(0.0, MIN_WIDTH / INCHES - (right - left)) / 2
        left, right = left - margin, right + margin
        super().__init__((right - left) * INCHES, (top - bottom) * INCHES)
        ax = self.figure.add_axes(self.area(0, 0, 1, 1))
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)
        ax.set_aspect("equal")
        ax.axis("off")
        colour_key(ax, 0.01, 0.99)
        self.gates = [node for node in self.layout.nodes if node.operation is not None]
        self.gradient_labels = {}
        self._draw_circuit(ax)
        self.fork_labels = self._fork_labels(ax)
        self.ring = self.dynamic(Circle((0, 0), RADIUS * 1.3, fill=False, edgecolor=HIGHLIGHT_COLOR, linewidth=3))
        ax.add_patch(self.ring)
        self.steps, self.missing = backward_steps(root, order)

    def _forked_inputs(self):
        uses = {}
        for parent, _, _ in self.layout.edges:
            uses[parent] = uses.get(parent, 0) + 1
        return [node for node, count in uses.items() if count > 1 and node.operation is None]

    def _fork_room(self):
        """Layout units left of the inputs for the summed gradient of a forked input."""
        forked = self._forked_inputs()
        return max((CHARACTER * (len(self.names[node]) + 12) for node in forked), default=0.0)

    def _draw_circuit(self, ax):
        position = self.layout.position
        for node in self.layout.nodes:
            x, y = position[node]
            if node.operation is None:
                ax.text(x, y, self.names[node], ha="right", va="center", fontsize=FONT_SIZE + 1, color=INK)
            else:
                gate(ax, position[node], RADIUS, gate_symbol(node))
                if node is not self.layout.root:  # the root is named at the end of its output wire
                    above = y + RADIUS * 1.3 + 0.03  # clear of the highlight ring
                    ax.text(x, above, self.names[node], ha="center", va="bottom", color=MUTED, fontsize=FONT_SIZE - 1)
        for (parent, child, index), (start, end, bend) in self.wires.items():
            spot = edge(ax, start, end, bend=bend)
            edge_label(ax, spot, shown(parent.value), "value")
            self.gradient_labels[(parent, child, index)] = self.dynamic(edge_label(ax, spot, "", "gradient"))
        root = self.layout.root
        x, y = position[root]
        start = (x + (RADIUS if root.operation else 0.08), y)
        end = (x + 1.2, y)
        middle = edge(ax, start, end, arrow=False, label_at=0.5)
        ax.text(end[0] + 0.08, y, root.label or "out", ha="left", va="center", fontsize=FONT_SIZE + 1, color=INK)
        edge_label(ax, middle, shown(root.value), "value")
        self.output_gradient = self.dynamic(edge_label(ax, middle, "", "gradient"))

    def _wire(self, parent, child, index):
        """Start and end of the wire from ``parent`` into input ``index`` of gate ``child``."""
        px, py = self.layout.position[parent]
        cx, cy = self.layout.position[child]
        inputs = sorted(range(len(child.parents)), key=lambda i: -self.layout.position[child.parents[i]][1])
        spread = 0.55 * ((len(inputs) - 1) / 2 - inputs.index(index))
        angle = np.pi - spread
        end = (cx + RADIUS * np.cos(angle), cy + RADIUS * np.sin(angle))
        if parent.operation is None:
            return (px + 0.08, py), end
        direction = np.array(end) - (px, py)
        start = np.array((px, py)) + RADIUS * direction / np.linalg.norm(direction)
        return tuple(start), end

    def _bend(self, parent, child):
        """0 for a wire to the next column; for one that skips columns, an arc away from the gates it passes."""
        (px, py), (cx, cy) = self.layout.position[parent], self.layout.position[child]
        passed = [y - (py + (cy - py) * (x - px) / (cx - px)) for x, y in self.layout.position.values() if px < x < cx]
        if cx - px < 1.5 * COLUMN or not passed:
            return 0.0
        return -SKIP_BEND if np.mean(passed) > 0 else SKIP_BEND

    def _fork_labels(self, ax):
        """A red total beside every node that feeds more than one gate (gradients add at a fork):
        left of a forked input's name, clear of its wires; under a forked gate."""
        uses = {}
        for parent, _, _ in self.layout.edges:
            uses[parent] = uses.get(parent, 0) + 1
        labels = {}
        for node, count in uses.items():
            if count > 1:
                x, y = self.layout.position[node]
                if node.operation:
                    place = {"x": x, "y": y - RADIUS - 0.05, "ha": "center", "va": "top"}
                else:
                    place = {"x": x - CHARACTER * (len(self.names[node]) + 1), "y": y, "ha": "right", "va": "center"}
                text = ax.text(**place, s="", color=GRADIENT_COLOR, fontsize=FONT_SIZE)
                labels[node] = self.dynamic(text)
        return labels

    @property
    def step_count(self):
        """Steps 0 (forward only), 1 (seed the output) and one per gate."""
        return len(self.gates) + 2

    def update(self, step):
        done = self.steps[: max(step - 1, 0)]
        sent = {(s.gate, i): g for s in done for i, g in enumerate(s.grads)}
        for (_parent, child, index), label in self.gradient_labels.items():
            grad = sent.get((child, index))
            label.set_text("" if grad is None else shown(grad))
            label.set_fontweight("bold" if done and child is done[-1].gate else "normal")
        root = self.layout.root
        self.output_gradient.set_text(shown(np.ones_like(root.value)) if step >= 1 else "")
        for node, label in self.fork_labels.items():
            parts = [g for (child, index), g in sent.items() if child.parents[index] is node]
            label.set_text(f"sum {shown(sum(parts))}" if parts else "")
        self.ring.set_visible(bool(done))
        if done:
            self.ring.center = self.layout.position[done[-1].gate]
        self._describe(step, done)

    def _describe(self, step, done):
        if step == 0:
            self.set_status("Forward pass: each value (green) flows left to right. Step on to run the backward pass.")
        elif step - 1 > len(self.steps):
            self.set_status(self.missing, problem=True)
        elif step == 1:
            name = self.names[self.layout.root]
            self.set_status(f"The backward pass starts at the output: d{name}/d{name} = 1")
        else:
            self.set_status(_gate_sentence(done[-1], self.names))


def _gate_sentence(step, names):
    """'exp gate e, local × upstream gradient: 0.368 × -0.534 = -0.197' (names the inputs when there are several)."""
    parents = step.gate.parents
    head = f"{gate_symbol(step.gate)} gate {names[step.gate]}"
    if step.local is None:
        parts = [f"{names[p]} gets {shown(g)}" for p, g in zip(parents, step.grads, strict=True)]
        return f"{head}, upstream {shown(step.upstream)}: " + ", ".join(parts)
    parts = []
    for parent, local, grad in zip(parents, step.local, step.grads, strict=True):
        term = f"{shown(local)} × {shown(step.upstream)} = {shown(grad)}"
        parts.append(f"to {names[parent]}: {term}" if len(parents) > 1 else term)
    return f"{head}, local × upstream gradient: " + ";  ".join(parts)


def graph_viewer(root=None, step=None, static=False, order=None):
    """A computation-graph viewer with a step control for the backward pass.

    Args:
        root: the Node to differentiate (default: ``sigmoid_example()``, stepped in
            the kit's own topological order); the viewer never changes its graph or
            its ``grad`` fields. At most 40 nodes.
        order: the graph's nodes in a topological order (parents before children),
            swept in reverse; default: the library's ``topological_sort``. Lets the
            viewer step before the student has written ``topological_sort``.
        step: the step shown first: 0 forward values only, 1 the output's seed
            gradient, k the backward pass through k - 1 gates (default: all).
        static: return a matplotlib Figure of that step instead of a widget.

    Returns:
        An ipywidgets box (``.controls['step']``, ``.figure``, ``.status``), or a Figure.
    """
    if root is None:  # the course's example steps in a given order, before topological_sort exists
        root = sigmoid_example()
        order = GraphLayout(root).nodes if order is None else order
    view = GraphView(root, None if order is None else check_order(root, order))
    last = view.step_count - 1
    step = last if step is None else int(np.clip(step, 0, last))
    if static:
        return view.static(step=step)
    slider = widgets.IntSlider(value=step, min=0, max=last, description="step", continuous_update=True)
    play = widgets.Play(value=step, min=0, max=last, interval=1200, description="play the backward pass")
    widgets.jslink((play, "value"), (slider, "value"))
    return FigureWidget(view, {"step": slider}, extras=(play,))
