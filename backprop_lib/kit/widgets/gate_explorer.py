"""Gate explorer: how add, multiply and max pass an upstream gradient to their two inputs.

For out = gate(a, b) and an upstream gradient dE/dout, the bars show the dE/da
and dE/db that the library's ``<gate>_backward`` (the student's) returns. The
status line names the gate's pattern (add distributes, multiply switches, max
routes) with the numbers only when they agree with what nudging the inputs
gives (centered differences of the gate, scaled by the upstream gradient);
otherwise it says they do not, so a wrong backward is never shown next to the
rule it misses. At a tie of max, any split that adds up to dE/dout is valid
(the course's reference: half each).
"""

import ipywidgets as widgets
import numpy as np

from backprop_lib.kit.operations import OPERATIONS
from backprop_lib.kit.widgets.base import FigureView, FigureWidget, call_exercises
from backprop_lib.kit.widgets.style import (
    FONT_SIZE,
    GRADIENT_COLOR,
    INK,
    MUTED,
    colour_key,
    edge,
    edge_label,
    format_number,
    gate,
)

GATES = {"add": "a distributor", "multiply": "a switcher", "maximum": "a router"}
SYMBOLS = {"add": "+", "multiply": "*", "maximum": "max"}
NAMES = {"add": "add", "multiply": "multiply", "maximum": "max"}
LIMIT = 4.0
"""Sliders run from -LIMIT to LIMIT."""


class GateView(FigureView):
    """The gate as a circuit (left) and its two input gradients against the upstream one (right)."""

    def __init__(self):
        super().__init__(10.0, 3.6)
        self.circuit = self.figure.add_axes(self.area(0.0, 0.0, 0.5, 0.9))
        self.bars_axes = self.figure.add_axes(self.area(0.6, 0.1, 0.37, 0.72))
        self.gate_name = None
        self._draw_circuit()
        self._draw_bars()

    def _draw_circuit(self):
        ax = self.circuit
        ax.set_xlim(-0.6, 4.4)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
        ax.axis("off")
        colour_key(ax, 0.02, 1.0)
        center, radius = (2.2, 0.0), 0.38
        self.symbol = self.dynamic(gate(ax, center, radius, ""))
        self.values, self.grads = {}, {}
        for name, y, angle in (("a", 0.9, np.pi - 0.45), ("b", -0.9, np.pi + 0.45)):
            ax.text(0.0, y, name, ha="right", va="center", fontsize=FONT_SIZE + 2, color=INK)
            end = (center[0] + radius * np.cos(angle), center[1] + radius * np.sin(angle))
            spot = edge(ax, (0.1, y), end, label_at=0.45)
            self.values[name] = self.dynamic(edge_label(ax, spot, "", "value"))
            self.grads[name] = self.dynamic(edge_label(ax, spot, "", "gradient"))
        spot = edge(ax, (center[0] + radius, 0.0), (3.9, 0.0), arrow=False, label_at=0.5)
        ax.text(4.0, 0.0, "out", ha="left", va="center", fontsize=FONT_SIZE + 2, color=INK)
        self.values["out"] = self.dynamic(edge_label(ax, spot, "", "value"))
        self.grads["out"] = self.dynamic(edge_label(ax, spot, "", "gradient"))

    def _draw_bars(self):
        ax = self.bars_axes
        self.bars = ax.bar([0, 1], [0, 0], width=0.55, color=GRADIENT_COLOR)
        for bar in self.bars:
            self.dynamic(bar)
        self.upstream_line = self.dynamic(ax.axhline(0.0, color=INK, linestyle="--", linewidth=1.2))
        self.upstream_text = self.dynamic(ax.text(1.33, 0.0, "", ha="left", va="bottom", color=INK))
        self.bar_texts = [self.dynamic(ax.text(i, 0.0, "", ha="center", color=GRADIENT_COLOR)) for i in (0, 1)]
        ax.axhline(0.0, color=MUTED, linewidth=0.8)
        ax.set_xticks([0, 1], ["dE/da", "dE/db"])
        ax.set_xlim(-0.5, 2.0)
        ax.spines[["top", "right"]].set_visible(False)

    def _set_gate(self, name):
        """Title, symbol and scale for ``name``; the background is drawn again."""
        self.gate_name = name
        self.symbol.set_text(SYMBOLS[name])
        self.circuit.set_title(f"{NAMES[name]} gate: {GATES[name]}", fontsize=FONT_SIZE + 3, loc="center")
        limit = LIMIT * (LIMIT if name == "multiply" else 1.0) * 1.15
        self.bars_axes.set_ylim(-limit, limit)
        self.bars_axes.set_title("gradients sent to the inputs\n(dashed: the upstream gradient dE/dout)")
        self.set_layout(name)

    def update(self, gate, a, b, upstream):
        if gate != self.gate_name:
            self._set_gate(gate)
        operation = OPERATIONS[gate]
        out, cache = operation.forward(a, b)
        for name, value in (("a", a), ("b", b), ("out", out)):
            self.values[name].set_text(format_number(value))
        self.grads["out"].set_text(format_number(upstream))
        self.upstream_line.set_ydata([upstream, upstream])
        self.upstream_text.set_y(upstream)
        self.upstream_text.set_text(f"upstream {format_number(upstream)}")
        grads, problem = call_exercises(lambda: _input_gradients(operation, upstream, cache))
        if problem:
            for artist in (*self.bars, *self.bar_texts, self.grads["a"], self.grads["b"]):
                artist.set_visible(False)
            self.set_status(problem, problem=True)
            return
        for i, (name, grad) in enumerate(zip("ab", grads, strict=True)):
            self.grads[name].set_text(format_number(grad))
            self.bars[i].set_height(grad)
            self.bar_texts[i].set_position((i, grad))
            self.bar_texts[i].set_va("bottom" if grad >= 0 else "top")
            self.bar_texts[i].set_text(format_number(grad))
            for artist in (self.bars[i], self.bar_texts[i], self.grads[name]):
                artist.set_visible(True)
        self.set_status(_explain(gate, a, b, upstream, *grads))


def _input_gradients(operation, upstream, cache):
    """(dE/da, dE/db) as floats from the library's backward, which must return exactly two."""
    grads = operation.backward(np.float64(upstream), cache)
    if len(grads) != 2:
        raise ValueError(f"{operation.name}_backward must return one gradient per input (2), got {len(grads)}")
    return tuple(float(grad) for grad in grads)


FORMULAS = {"add": np.add, "multiply": np.multiply, "maximum": np.maximum}
STEP = 1e-6


def _nudged(gate, a, b, upstream):
    """(dE/da, dE/db) measured by centered differences of the gate, times the upstream gradient."""
    f = FORMULAS[gate]
    return (
        upstream * (f(a + STEP, b) - f(a - STEP, b)) / (2 * STEP),
        upstream * (f(a, b + STEP) - f(a, b - STEP)) / (2 * STEP),
    )


def _explain(gate, a, b, upstream, da, db):
    """One sentence on what the gate did with the upstream gradient."""
    up, fa, fb = format_number(upstream), format_number(a), format_number(b)
    if a != b and not np.allclose((da, db), _nudged(gate, a, b, upstream), rtol=1e-5, atol=1e-6):
        return (
            f"your {gate}_backward gives dE/da = {format_number(da)}, dE/db = {format_number(db)}: not what nudging "
            f'a and b gives; backprop_lib.check("{gate}_backward") says where it differs'
        )
    if gate == "add":
        return (
            f"add distributes: local gradients 1 and 1, so dE/da = {format_number(da)} and dE/db = {format_number(db)}"
        )
    if gate == "multiply":
        return (
            f"multiply switches: dE/da = b × upstream = {fb} × {up} = {format_number(da)};  "
            f"dE/db = a × upstream = {fa} × {up} = {format_number(db)}"
        )
    if a == b:
        return (
            "max at a tie: any split that adds up to the upstream gradient is a valid subgradient "
            f"(the course's reference: half each); yours gives dE/da = {format_number(da)}, dE/db = {format_number(db)}"
        )
    winner, loser = ("a", "b") if a > b else ("b", "a")
    grads = {"a": da, "b": db}
    return (
        f"max routes: {winner} is the larger input, so dE/d{winner} = {format_number(grads[winner])} "
        f"(the whole upstream {up}) and dE/d{loser} = {format_number(grads[loser])}"
    )


def gate_explorer(gate="maximum", a=2.0, b=-1.0, upstream=2.0, static=False):
    """Sliders for the inputs a, b and the upstream gradient of an add, multiply or max gate.

    Args:
        gate: 'add', 'multiply' or 'maximum'.
        a, b: the gate's inputs, upstream: dE/dout (each between -4 and 4).
        static: return a matplotlib Figure for these values instead of a widget.

    Returns:
        An ipywidgets box (``.controls``: gate, a, b, upstream; ``.figure``, ``.status``), or a Figure.
    """
    if gate not in GATES:
        raise ValueError(f"gate must be one of {', '.join(GATES)}, got {gate!r}")
    view = GateView()
    if static:
        return view.static(gate=gate, a=a, b=b, upstream=upstream)
    slider = {"min": -LIMIT, "max": LIMIT, "step": 0.1, "continuous_update": True}
    controls = {
        "gate": widgets.Dropdown(
            options=[(f"{NAMES[n]}: {GATES[n]}", n) for n in GATES], value=gate, description="gate"
        ),
        "a": widgets.FloatSlider(value=a, description="a", **slider),
        "b": widgets.FloatSlider(value=b, description="b", **slider),
        "upstream": widgets.FloatSlider(value=upstream, description="dE/dout", **slider),
    }
    return FigureWidget(view, controls)
