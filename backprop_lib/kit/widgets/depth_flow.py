"""Gradient flow through depth: per-layer gradient norms of a plain and a residual ReLU network.

Both networks have L layers of width 32 on a batch of 16 random inputs, weights
W_l with standard deviation scale / sqrt(32) and zero biases:
    plain      h_l = relu(h_(l-1) W_l + b_l)
    residual   h_l = h_(l-1) + relu(h_(l-1) W_l + b_l)     (a skip connection)
The library's graph engine runs ``backward`` from the top with a fixed upstream
gradient of norm 1, and the plot shows ||dE/dh_l|| for every layer l. In the
plain net each layer multiplies the gradient by its Jacobian J_l, so the norm
shrinks (small weights: it vanishes) or grows (large weights: it explodes)
geometrically with depth. A residual block's Jacobian is I + J_l: the identity
path keeps small J_l from making the gradient vanish, but every block enlarges
it a little (large J_l: a lot), so the residual net's gradient explodes at large
scales (He's scale sqrt(2) at depth 50: about 1e10) and, past about 45 layers,
even at the default scale 0.5. The status line names what happened and the
remedies (initialisation and scaling, normalisation, gradient clipping); a
plain net kept only because it is shallow is called that, with its mean factor
per layer.
"""

from functools import cache

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import MaxNLocator

from backprop_lib.graph import Node, backward, linear
from backprop_lib.kit.widgets.base import FigureView, FigureWidget, call_exercises
from backprop_lib.kit.widgets.style import FIRST_COLOR, MUTED, SECOND_COLOR, format_number

WIDTH, BATCH, MAX_DEPTH = 32, 16, 50
AXIS_STEP = 10
"""The x axis shows 0 to the depth rounded up to a multiple of this: five layouts, each drawn once."""
FLOOR, CEILING = 1e-12, 1e12
"""Norms outside this range are drawn on the edge of the plot."""


@cache
def random_draws(seed=0):
    """Standard normal weights (MAX_DEPTH, WIDTH, WIDTH), inputs (BATCH, WIDTH) and a unit-norm top gradient."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(MAX_DEPTH, WIDTH, WIDTH))
    inputs = rng.normal(size=(BATCH, WIDTH))
    top = rng.normal(size=(BATCH, WIDTH))
    return weights, inputs, top / np.linalg.norm(top)


def gradient_norms(depth, scale, residual, seed=0):
    """||dE/dh_l|| for l = 0 (the input) ... depth (the top, norm 1), by the library's graph engine."""
    weights, inputs, top = random_draws(seed)
    bias = Node(np.zeros(WIDTH), "b")
    layers = [Node(inputs, "x")]
    for weight in weights[:depth]:
        h = layers[-1]
        branch = linear(h, Node(weight * scale / np.sqrt(WIDTH), "W"), bias).relu()
        layers.append(h + branch if residual else branch)
    backward(layers[-1], top)
    return np.array([np.linalg.norm(layer.grad) for layer in layers])


class DepthView(FigureView):
    """Gradient norm per layer, plain against residual, on a log scale."""

    def __init__(self):
        super().__init__(10.0, 4.0)
        ax = self.axes = self.figure.add_axes(self.area(0.09, 0.13, 0.88, 0.77))
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, CEILING * 3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("||dE/dh_l||")
        ax.text(
            0.5,
            -0.1,
            "layer l (0 = the input x, L = the top, where ||dE/dh_L|| = 1)",
            transform=ax.transAxes,
            ha="center",
            va="top",
        )
        ax.spines[["top", "right"]].set_visible(False)
        ax.axhline(1.0, color=MUTED, linewidth=0.8, linestyle="--")
        (self.plain,) = ax.plot([], [], "o-", color=FIRST_COLOR, markersize=3, label="plain: h = relu(hW + b)")
        (self.residual,) = ax.plot(
            [], [], "s-", color=SECOND_COLOR, markersize=3, label="residual: h = h + relu(hW + b)"
        )
        self.dynamic(self.plain)
        self.dynamic(self.residual)
        ax.legend(loc="upper left", frameon=False, ncols=2)
        self.title = self.dynamic(ax.set_title(""))
        self.norms = {}

    def update(self, depth, scale):
        shown = AXIS_STEP * -(-depth // AXIS_STEP)
        self.axes.set_xlim(-0.5, shown + 0.5)
        self.set_layout(shown)
        self.title.set_text(f"gradient norms through {depth} layers, weight std {scale:g}/√{WIDTH}")
        norms, problem = call_exercises(
            lambda: {net: gradient_norms(depth, scale, net == "residual") for net in ("plain", "residual")}
        )
        for line, net in ((self.plain, "plain"), (self.residual, "residual")):
            line.set_visible(not problem)
            if not problem:
                line.set_data(np.arange(depth + 1), np.clip(norms[net], FLOOR, CEILING))
        if problem:
            self.set_status(problem, problem=True)
            return
        self.norms = norms
        verdicts = {net: _verdict(norms[net][0]) for net in norms}
        plain, residual = (f"{format_number(norms[net][0])} ({verdicts[net]})" for net in ("plain", "residual"))
        factor = per_layer(norms["plain"][0], depth)
        self.set_status(
            f"||dE/dx|| at the input: plain {plain}, residual {residual}.  " + explain(**verdicts, factor=factor)
        )


def _verdict(norm):
    """How a gradient norm of 1 at the top arrived at the input."""
    return "vanished" if norm < 1e-3 else "exploded" if norm > 1e3 else "kept"


def per_layer(norm, depth):
    """The plain net's mean factor per layer: the geometric mean that turns the top's norm 1 into ``norm``."""
    return float(np.exp(np.log(max(norm, 1e-300)) / depth))


STEADY = (0.9, 1.1)
"""A plain net whose mean factor per layer lies in this range keeps its gradient steady through any depth shown."""


def explain(plain, residual, factor):
    """What the two verdicts mean, in a sentence or two; ``factor`` is the plain net's mean factor per layer."""
    sentences = {
        "vanished": "Plain: each layer's Jacobian shrinks the gradient, so it vanishes with depth.",
        "exploded": "Plain: each layer's Jacobian enlarges the gradient, so it explodes with depth.",
    }
    if plain in sentences:
        text = sentences[plain]
    elif STEADY[0] <= factor <= STEADY[1]:
        text = (
            f"Plain: this scale keeps it steady, about ×{factor:.2f} per layer (√2 ≈ 1.41, He's, is the ReLU net's"
            " balance point)."
        )
    else:
        shrinks, vanishes = ("shrinks", "vanishes") if factor < 1 else ("enlarges", "explodes")
        text = (
            f"Plain: kept only because the net is shallow: each layer {shrinks} the gradient, about ×{factor:.2f},"
            f" so with more layers it {vanishes}."
        )
    if residual == "exploded":
        text += (
            " Residual: each block multiplies by I + J, which enlarges the gradient (a little per block at small"
            " scales, a lot at large ones), so through many blocks it explodes (remedies: a smaller initial scale"
            " on the branches, normalisation, gradient clipping)."
        )
    elif plain == "vanished":
        text += " Residual: the I in each block's I + J carries the gradient down to the input."
    return text


def depth_flow(depth=20, scale=0.5, static=False):
    """Sliders for depth and weight scale; per-layer gradient norms of a plain and a residual net.

    Args:
        depth: number of layers L, 1 to 50.
        scale: weights have standard deviation scale / sqrt(32) (0.1 to 2.5; sqrt(2) is He's).
        static: return a matplotlib Figure for these values instead of a widget.

    Returns:
        An ipywidgets box (``.controls``: depth, scale; ``.figure``, ``.status``,
        ``.view.norms``: net -> norms per layer), or a Figure.
    """
    view = DepthView()
    if static:
        return view.static(depth=depth, scale=scale)
    controls = {
        "depth": widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="layers L"),
        "scale": widgets.FloatSlider(value=scale, min=0.1, max=2.5, step=0.05, description="weight scale"),
    }
    return FigureWidget(view, controls)
