"""Sigmoid saturation: the sigmoid's local gradient sigma'(x) and what depth does to it.

Left: sigma and its local gradient (from the library's ``sigmoid_backward``) as
the pre-activation x moves: at most 0.25 (at x = 0), nearly 0 once |x| > 5, the
unit is *saturated*. Right: a stack of n layers h_k = act(h_(k-1)), h_0 = x,
differentiated with the library's graph engine (``backward``); the gradient
reaching the input is a product of n local gradients, at most 0.25^n through
sigmoids, but 1 through ReLUs that are on (x > 0) and 0 through ReLUs that are
off (x < 0). The default, x = 2 through 5 layers, shows the contrast: about
2e-4 through the sigmoids, 1 through the ReLUs.
"""

import ipywidgets as widgets
import numpy as np

from backprop_lib.graph import Node, backward
from backprop_lib.kit.operations import OPERATIONS
from backprop_lib.kit.widgets.base import FigureView, FigureWidget, call_exercises
from backprop_lib.kit.widgets.style import (
    FIRST_COLOR,
    GRADIENT_COLOR,
    INK,
    MUTED,
    SECOND_COLOR,
    VALUE_COLOR,
    format_number,
)

X_LIMIT = 8.0
MAX_DEPTH = 20
FLOOR = 1e-13
"""Gradients below this (0 included) are drawn on the bottom edge of the log axis."""


def stack_gradients(x, depth, activation):
    """|dE/dh_k| for k = depth, ..., 0 (output first) of E = h_depth, h_k = activation(h_(k-1)), h_0 = x.

    Built and differentiated with the library's graph engine.
    """
    layers = [Node(x, "x")]
    for _ in range(depth):
        layers.append(getattr(layers[-1], activation)())
    backward(layers[-1])
    return np.array([abs(float(node.grad)) for node in reversed(layers)])


class SaturationView(FigureView):
    """sigma and sigma' with a marker at x (left); gradient magnitude through n stacked layers (right)."""

    def __init__(self):
        super().__init__(11.0, 3.9)
        self.curve_axes = self.figure.add_axes(self.area(0.06, 0.13, 0.4, 0.77))
        self.stack_axes = self.figure.add_axes(self.area(0.57, 0.13, 0.4, 0.77))
        self._draw_curves()
        self._draw_stack_axes()

    def _draw_curves(self):
        ax = self.curve_axes
        grid = np.linspace(-X_LIMIT, X_LIMIT, 401)
        sigma = OPERATIONS["sigmoid"]
        out, cache = sigma.forward(grid)
        ax.plot(grid, out, color=VALUE_COLOR, linewidth=2, label="σ(x)")
        local, _ = call_exercises(lambda: sigma.backward(np.ones_like(grid), cache)[0])
        if local is not None:
            ax.plot(grid, local, color=GRADIENT_COLOR, linewidth=2, label="local gradient σ'(x), your sigmoid_backward")
        for side in (-1, 1):
            ax.axvspan(side * 5, side * X_LIMIT, color=MUTED, alpha=0.15, linewidth=0)
        ax.text(-6.5, 0.5, "saturated", ha="center", color=MUTED, rotation=90, va="center")
        ax.text(6.5, 0.5, "saturated", ha="center", color=MUTED, rotation=90, va="center")
        ax.set_xlim(-X_LIMIT, X_LIMIT)
        ax.set_ylim(-0.03, 1.1)
        ax.set_xlabel("pre-activation x")
        ax.set_title("one sigmoid gate")
        ax.legend(loc="upper left", frameon=False, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        self.marker_line = self.dynamic(ax.axvline(0.0, color=INK, linestyle=":", linewidth=1))
        (self.value_dot,) = ax.plot([0], [0], "o", color=VALUE_COLOR, markersize=8)
        (self.local_dot,) = ax.plot([0], [0], "o", color=GRADIENT_COLOR, markersize=8)
        self.dynamic(self.value_dot)
        self.dynamic(self.local_dot)

    def _draw_stack_axes(self):
        ax = self.stack_axes
        ax.set_yscale("log")
        ax.set_xlim(-0.5, MAX_DEPTH + 0.5)
        ax.set_ylim(FLOOR / 3, 5)
        ax.set_xlabel("layers the gradient has passed through, from the output")
        ax.set_ylabel("|dE/dh|, with dE/dout = 1")
        ax.set_title("a stack of n layers: h = act(h), starting at x")
        ax.spines[["top", "right"]].set_visible(False)
        ax.axhline(0.25, color=MUTED, linewidth=0.8, linestyle="--")
        ax.text(MAX_DEPTH + 0.4, 0.25, "0.25", color=MUTED, va="bottom", ha="right", fontsize=9)
        ax.text(MAX_DEPTH + 0.4, FLOOR, "0 is drawn here", color=MUTED, va="bottom", ha="right", fontsize=9)
        ax.set_xticks(range(0, MAX_DEPTH + 1, 2))
        (self.sigmoid_line,) = ax.plot([], [], "o-", color=SECOND_COLOR, label="sigmoids", markersize=4)
        (self.relu_line,) = ax.plot([], [], "s-", color=FIRST_COLOR, label="ReLUs", markersize=4)
        self.dynamic(self.sigmoid_line)
        self.dynamic(self.relu_line)
        ax.legend(loc="upper right", frameon=False, bbox_to_anchor=(1.0, 0.9))

    def update(self, x, depth):
        sigma = OPERATIONS["sigmoid"]
        out, cache = sigma.forward(x)
        self.marker_line.set_xdata([x, x])
        self.value_dot.set_data([x], [out])
        local, problem = call_exercises(lambda: float(sigma.backward(np.float64(1.0), cache)[0]))
        self.local_dot.set_visible(not problem)
        self.local_dot.set_data([x], [local or 0.0])
        stacks, stack_problem = call_exercises(lambda: {a: stack_gradients(x, depth, a) for a in ("sigmoid", "relu")})
        problem = problem or stack_problem
        for line, name in ((self.sigmoid_line, "sigmoid"), (self.relu_line, "relu")):
            line.set_visible(not problem)
            if not problem:
                line.set_data(np.arange(depth + 1), np.maximum(stacks[name], FLOOR))
        if problem:
            self.set_status(problem, problem=True)
            return
        relu = format_number(stacks["relu"][-1])
        if x < 0:
            relu += " (x < 0: every ReLU is off)"
        elif x == 0:
            relu += " (x = 0 is the ReLU's kink: your relu_backward's subgradient there, once per layer)"
        self.set_status(
            f"σ({format_number(x)}) = {format_number(out)}, σ' = {format_number(local)} (at most 0.25).  "
            f"Through {depth} sigmoids dE/dx = {format_number(stacks['sigmoid'][-1])}; through {depth} ReLUs {relu}."
        )


def sigmoid_saturation(x=2.0, depth=5, static=False):
    """Sliders for the pre-activation x and the number of stacked layers.

    Args:
        x: pre-activation of the first layer, between -8 and 8.
        depth: number of stacked layers, 1 to 20.
        static: return a matplotlib Figure for these values instead of a widget.

    Returns:
        An ipywidgets box (``.controls``: x, depth; ``.figure``, ``.status``), or a Figure.
    """
    view = SaturationView()
    if static:
        return view.static(x=x, depth=depth)
    controls = {
        "x": widgets.FloatSlider(value=x, min=-X_LIMIT, max=X_LIMIT, step=0.1, description="x"),
        "depth": widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="layers n"),
    }
    return FigureWidget(view, controls)
