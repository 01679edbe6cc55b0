"""Computation-graph viewer: values forward, then the backward pass one gate at a time.

Any graph built with ``backprop_lib.graph`` is drawn as a circuit: inputs on the
left, each gate in the column of its longest path from an input, the forward
value of every node on its outgoing edges (green, above) and, once the backward
sweep has reached them, the gradients (red, below). The step control replays
the general backprop algorithm with the library's own pieces: the order from
``topological_sort`` (reversed) and each gate's ``<op>_backward``, which turns
the gate's upstream gradient into one gradient per input (local gradient x
upstream gradient); gradients add where a value feeds several gates.

    graph_viewer()                      # the course's sigmoid neuron
    graph_viewer(my_loss_node)          # a graph you built
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
    arc_apex,
    colour_key,
    edge,
    edge_label,
    format_number,
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


def backward_steps(root):
    """The backward sweep from ``root`` (seeded with ones), gate by gate.

    Returns (steps, status): the steps that ran, and "" or the one line saying which
    exercise stopped the sweep (``topological_sort`` or an ``<op>_backward``).
    """
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


def node_name(node):
    return node.label or (gate_symbol(node) if node.operation else "input")


def _count_nodes(root):
    """How many nodes ``root`` depends on, itself included (without recursion: graphs can be deep)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(node.parents)
    return len(seen)


class GraphLayout:
    """Where each node sits: gates in the column of their longest path from an input, inputs just
    left of their first gate; inputs take rows in depth-first order, a gate the mean row of its parents.

    Attributes:
        nodes: every node, parents before children. position: node -> (x, y).
        edges: (parent, child, input index) for every wire into a gate.
    """

    def __init__(self, root):
        self.root = root
        size = _count_nodes(root)
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

    def __init__(self, root):
        self.layout = GraphLayout(root)
        self.wires = {wire: (*self._wire(*wire), self._bend(*wire[:2])) for wire in self.layout.edges}
        x0, x1, y0, y1 = self.layout.extent()
        arcs = [arc_apex(*wire)[1] for wire in self.wires.values()]
        left, right = x0 - 1.0, x1 + 1.9
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
        self.steps, self.missing = backward_steps(root)

    def _draw_circuit(self, ax):
        position = self.layout.position
        for node in self.layout.nodes:
            if node.operation is None:
                x, y = position[node]
                ax.text(x, y, node.label or "input", ha="right", va="center", fontsize=FONT_SIZE + 1, color=INK)
            else:
                gate(ax, position[node], RADIUS, gate_symbol(node))
        for (parent, child, index), (start, end, bend) in self.wires.items():
            spot = edge(ax, start, end, bend=bend)
            edge_label(ax, spot, format_value(parent.value), "value")
            self.gradient_labels[(parent, child, index)] = self.dynamic(edge_label(ax, spot, "", "gradient"))
        root = self.layout.root
        x, y = position[root]
        start = (x + (RADIUS if root.operation else 0.08), y)
        end = (x + 1.2, y)
        middle = edge(ax, start, end, arrow=False, label_at=0.5)
        ax.text(end[0] + 0.08, y, root.label or "out", ha="left", va="center", fontsize=FONT_SIZE + 1, color=INK)
        edge_label(ax, middle, format_value(root.value), "value")
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
        """A red total under every node that feeds more than one gate (gradients add at a fork)."""
        uses = {}
        for parent, _, _ in self.layout.edges:
            uses[parent] = uses.get(parent, 0) + 1
        labels = {}
        for node, count in uses.items():
            if count > 1:
                x, y = self.layout.position[node]
                if node.operation:  # under the gate
                    place = {"x": x, "y": y - RADIUS - 0.05, "ha": "center"}
                else:  # under the input's name
                    place = {"x": x, "y": y - 0.2, "ha": "right"}
                text = ax.text(**place, s="", va="top", color=GRADIENT_COLOR, fontsize=FONT_SIZE)
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
            label.set_text("" if grad is None else format_value(grad))
            label.set_fontweight("bold" if done and child is done[-1].gate else "normal")
        root = self.layout.root
        self.output_gradient.set_text(format_value(np.ones_like(root.value)) if step >= 1 else "")
        for node, label in self.fork_labels.items():
            parts = [g for (child, index), g in sent.items() if child.parents[index] is node]
            label.set_text(f"sum {format_value(sum(parts))}" if parts else "")
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
            name = node_name(self.layout.root)
            self.set_status(f"The backward pass starts at the output: d{name}/d{name} = 1.00")
        else:
            self.set_status(_gate_sentence(done[-1]))


def _gate_sentence(step):
    """'exp gate, local x upstream: 0.37 x -0.53 = -0.20' (names the inputs when there are several)."""
    parents = step.gate.parents
    if step.local is None:
        parts = [f"{node_name(p)} gets {format_value(g)}" for p, g in zip(parents, step.grads, strict=True)]
        return f"{gate_symbol(step.gate)} gate, upstream {format_value(step.upstream)}: " + ", ".join(parts)
    parts = []
    for parent, local, grad in zip(parents, step.local, step.grads, strict=True):
        term = f"{format_number(local)} × {format_number(step.upstream)} = {format_number(grad)}"
        parts.append(f"to {node_name(parent)}: {term}" if len(parents) > 1 else term)
    return f"{gate_symbol(step.gate)} gate, local × upstream gradient: " + ";  ".join(parts)


def graph_viewer(root=None, step=None, static=False):
    """A computation-graph viewer with a step control for the backward pass.

    Args:
        root: the Node to differentiate (default: ``sigmoid_example()``); the viewer
            never changes its graph or its ``grad`` fields. At most 40 nodes.
        step: the step shown first: 0 forward values only, 1 the output's seed
            gradient, k the backward pass through k - 1 gates (default: all).
        static: return a matplotlib Figure of that step instead of a widget.

    Returns:
        An ipywidgets box (``.controls['step']``, ``.figure``, ``.status``), or a Figure.
    """
    view = GraphView(sigmoid_example() if root is None else root)
    last = view.step_count - 1
    step = last if step is None else int(np.clip(step, 0, last))
    if static:
        return view.static(step=step)
    slider = widgets.IntSlider(value=step, min=0, max=last, description="step", continuous_update=True)
    play = widgets.Play(value=step, min=0, max=last, interval=1200, description="play the backward pass")
    widgets.jslink((play, "value"), (slider, "value"))
    return FigureWidget(view, {"step": slider}, extras=(play,))
