"""Dead-ReLU explorer: a ReLU layer on real inputs, and what pushes its units into the dead zone.

The layer is z = x W + b, h = relu(z) with 32 units on the 1797 handwritten
digits of scikit-learn (8 x 8 pixels scaled to [0, 1], so x is (1797, 64)),
followed by a 10-class output layer and softmax cross-entropy. A unit is *dead*
when z <= 0 for every input: relu passes no gradient there, so the unit's
column of dE/dz is zero, its weights and bias get zero gradient, and (a first
layer, its inputs fixed, plain SGD) no gradient step can revive it.

Two controls push units there: shifting every bias down, or one SGD step
W <- W - lr dE/dW, b <- b - lr dE/db with a learning rate that is too large
(the gradient comes from the library's graph engine).
"""

from functools import cache

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba

from backprop_lib.graph import Node, backward, linear, softmax_cross_entropy
from backprop_lib.kit.operations import OPERATIONS
from backprop_lib.kit.widgets.base import FigureView, FigureWidget, call_exercises
from backprop_lib.kit.widgets.style import GRADIENT_COLOR, VALUE_COLOR, format_number

UNITS = 32
SHOWN_INPUTS = 60
LEARNING_RATES = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
OFF_COLOR = "#eeeeee"
DEAD_OFF_COLOR = "#f4c7c9"


@cache
def digits():
    """The digits data set as (x (1797, 64) in [0, 1], labels (1797,)); ships with scikit-learn."""
    from sklearn.datasets import load_digits

    x, labels = load_digits(return_X_y=True)
    return x / 16.0, labels


@cache
def initial_parameters(seed=0):
    """He-initialised (W1 (64, 32), b1 (32,), W2 (32, 10), b2 (10,)), biases zero."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0.0, np.sqrt(2.0 / 64), (64, UNITS))
    w2 = rng.normal(0.0, np.sqrt(2.0 / UNITS), (UNITS, 10))
    return w1, np.zeros(UNITS), w2, np.zeros(10)


def loss_and_gradients(x, labels, w1, b1, w2, b2):
    """E = softmax cross-entropy of relu(x W1 + b1) W2 + b2, and (dE/dW1, dE/db1), by the graph engine."""
    w1, b1 = Node(w1, "W1"), Node(b1, "b1")
    hidden = linear(Node(x, "x"), w1, b1).relu()
    loss = softmax_cross_entropy(linear(hidden, Node(w2, "W2"), Node(b2, "b2")), labels)
    backward(loss)
    return float(loss.value), w1.grad, b1.grad


def pre_activations_and_loss(x, labels, w1, b1, w2, b2):
    """z = x W1 + b1 (N, 32) and E, with the given forward functions only."""
    z, _ = OPERATIONS["linear"].forward(x, w1, b1)
    scores, _ = OPERATIONS["linear"].forward(OPERATIONS["relu"].forward(z)[0], w2, b2)
    return z, float(OPERATIONS["softmax_cross_entropy"].forward(scores, labels)[0])


class DeadReluView(FigureView):
    """Which units fire on which digits (left) and how often each unit fires (right)."""

    def __init__(self):
        super().__init__(11.0, 4.2)
        self.map_axes = self.figure.add_axes(self.area(0.05, 0.13, 0.42, 0.77))
        self.rate_axes = self.figure.add_axes(self.area(0.56, 0.13, 0.41, 0.77))
        self._colors = np.array([to_rgba(c) for c in (OFF_COLOR, VALUE_COLOR, DEAD_OFF_COLOR)])
        self._steps = {}
        self.dead_fraction = 0.0
        ax = self.map_axes
        self.map = self.dynamic(
            ax.pcolormesh(
                np.arange(UNITS + 1) - 0.5, np.arange(SHOWN_INPUTS + 1) - 0.5, np.zeros((SHOWN_INPUTS, UNITS))
            )
        )
        self.map.set_array(None)  # colours come from set_facecolor, not a colormap
        ax.set_ylim(SHOWN_INPUTS - 0.5, -0.5)
        ax.set_xlabel("hidden unit")
        ax.set_ylabel(f"input (the first {SHOWN_INPUTS} digits)")
        ax.set_title("where z = xW + b > 0: green fires, red column dead")
        ax = self.rate_axes
        self.bars = self.dynamic(ax.add_collection(PolyCollection([], facecolors=VALUE_COLOR)))
        (self.dead_marks,) = ax.plot([], [], "x", color=GRADIENT_COLOR, markersize=7, markeredgewidth=2)
        self.dynamic(self.dead_marks)
        ax.set_xlim(-0.8, UNITS - 0.2)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("hidden unit (x: dead)")
        ax.set_ylabel("fraction of the 1797 digits it fires on")
        ax.set_title("how often each unit fires")
        ax.spines[["top", "right"]].set_visible(False)

    def _gradient_step(self, bias_shift):
        """(loss, dE/dW1, dE/db1) at the shifted initial parameters, computed once per shift."""
        if bias_shift not in self._steps:
            x, labels = digits()
            w1, b1, w2, b2 = initial_parameters()
            self._steps[bias_shift] = loss_and_gradients(x, labels, w1, b1 + bias_shift, w2, b2)
        return self._steps[bias_shift]

    def update(self, bias_shift, learning_rate):
        x, labels = digits()
        w1, b1, w2, b2 = initial_parameters()
        b1 = b1 + bias_shift
        step, problem = None, ""
        if learning_rate > 0:
            step, problem = call_exercises(
                lambda: self._gradient_step(bias_shift), goal="to take the learning-rate step"
            )
        if step:
            loss_before, dw1, db1 = step
            w1, b1 = w1 - learning_rate * dw1, b1 - learning_rate * db1
        z, loss = pre_activations_and_loss(x, labels, w1, b1, w2, b2)
        step_note = ""
        if step:
            change = f"loss {format_number(loss_before)} → {format_number(loss)}"
            step_note = f"  One SGD step with lr {learning_rate:g}: {change}."
        active = z > 0
        dead = ~active.any(axis=0)
        self._show(active, dead)
        self.dead_fraction = float(dead.mean())
        if problem:
            self.set_status(problem, problem=True)
        else:
            self.set_status(
                f"{dead.sum()} of {UNITS} units dead ({100 * dead.mean():.0f}%): they never fire, "
                f"so their weights get zero gradient.{step_note}"
            )

    def _show(self, active, dead):
        shown = active[:SHOWN_INPUTS]
        kinds = np.where(shown, 1, np.where(dead[None, :], 2, 0))
        self.map.set_facecolor(self._colors[kinds.ravel()])
        rates = active.mean(axis=0)
        self.bars.set_verts([[(u - 0.4, 0), (u - 0.4, r), (u + 0.4, r), (u + 0.4, 0)] for u, r in enumerate(rates)])
        units = np.flatnonzero(dead)
        self.dead_marks.set_data(units, np.full(units.shape, 0.02))


def dead_relu(bias_shift=0.0, learning_rate=0.0, static=False):
    """A ReLU layer on the digits with a bias shift and a learning-rate step; shows which units die.

    Args:
        bias_shift: added to every bias b (between -2 and 1).
        learning_rate: one SGD step of this size before looking (one of 0, 0.1, 0.3, 1, 3, 10, 30).
        static: return a matplotlib Figure for these values instead of a widget.

    Returns:
        An ipywidgets box (``.controls``: bias_shift, learning_rate; ``.figure``, ``.status``,
        ``.view.dead_fraction``), or a Figure.
    """
    if learning_rate not in LEARNING_RATES:
        raise ValueError(f"learning_rate must be one of {LEARNING_RATES}, got {learning_rate!r}")
    view = DeadReluView()
    if static:
        return view.static(bias_shift=bias_shift, learning_rate=learning_rate)
    controls = {
        "bias_shift": widgets.FloatSlider(value=bias_shift, min=-2.0, max=1.0, step=0.05, description="shift b by"),
        "learning_rate": widgets.SelectionSlider(
            options=[(f"{lr:g}", lr) for lr in LEARNING_RATES], value=learning_rate, description="SGD step lr"
        ),
    }
    return FigureWidget(view, controls)
