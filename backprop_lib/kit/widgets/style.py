"""The widgets' shared look: colours, number formats and the pieces of a circuit diagram.

As in the course's circuit diagrams, a forward value is written in green above
its edge and a gradient dE/d(value) in red below it.
"""

from typing import NamedTuple

import numpy as np
from matplotlib.patches import Circle

VALUE_COLOR = "#1b7a2f"
"""Forward values (green, above an edge)."""
GRADIENT_COLOR = "#c0262d"
"""Gradients dE/d(value) (red, below an edge)."""
HIGHLIGHT_COLOR = "#f0a202"
"""The gate or element in focus."""
INK = "#222222"
MUTED = "#8a8a8a"
GATE_FILL = "#f4f4f4"
FIRST_COLOR = "#1f5fa8"
"""The first of two compared curves (ReLU, the plain network)."""
SECOND_COLOR = "#8e44ad"
"""The second of two compared curves (sigmoid, the residual network)."""

FONT_SIZE = 10
EDGE_LABEL_OFFSET = 6
"""Points between an edge and its value (above) or gradient (below)."""


def format_number(value):
    """A number the way the course writes it: two decimals, or 1.2e-05 (1.2e+05) when very small (large)."""
    value = float(value)
    if value != 0 and not 0.005 <= abs(value) < 1e4:
        return f"{value:.1e}"
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def format_significant(value, digits=3):
    """A number to ``digits`` significant figures: 0.197, -0.534, 6, 1.23e+03 (never "-0")."""
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def format_value(value, number=format_number):
    """A node's value or gradient for an edge label: a number, a short list, or its shape.

    ``number`` formats each number (default: two decimals, as the course writes them).
    """
    value = np.asarray(value)
    if value.ndim == 0:
        return number(value)
    if value.size <= 3:
        return "[" + ", ".join(number(v) for v in value.ravel()) + "]"
    return f"({value.size},)" if value.ndim == 1 else "(" + "×".join(str(n) for n in value.shape) + ")"


def gate(ax, center, radius, symbol):
    """Draw a gate as a circle with its symbol; returns the symbol's Text."""
    ax.add_patch(Circle(center, radius, facecolor=GATE_FILL, edgecolor=INK, linewidth=1.4, zorder=3))
    return ax.text(*center, symbol, ha="center", va="center", fontsize=FONT_SIZE + 1, color=INK, zorder=4)


class LabelSpot(NamedTuple):
    """Where a wire's labels go: a point on it and the unit normal on its upper side."""

    point: tuple
    normal: tuple


def edge(ax, start, end, arrow=True, label_at=0.4, bend=0.0):
    """Draw a wire from ``start`` to ``end`` (an arrow into a gate); returns its ``LabelSpot``.

    A straight wire's labels sit ``label_at`` of the way along, before the middle, so
    the labels of wires that meet at one gate stay apart. A wire with ``bend`` != 0
    is an arc whose height is ``bend`` times its length (positive: above the chord,
    for wires that skip over gates); its labels sit at the top of the arc.
    Coordinates are data units of an axes with equal aspect.
    """
    style = {"arrowstyle": "-|>" if arrow else "-", "color": INK, "linewidth": 1.2, "shrinkA": 0, "shrinkB": 0}
    ax.annotate("", xy=end, xytext=start, arrowprops=style | {"connectionstyle": f"arc3,rad={-2 * bend}"}, zorder=2)
    (x0, y0), (x1, y1) = start, end
    length = np.hypot(x1 - x0, y1 - y0)
    normal = ((y0 - y1) / length, (x1 - x0) / length)
    if normal[1] < 0:
        normal = (-normal[0], -normal[1])
    if bend:
        return LabelSpot(arc_apex(start, end, bend), normal)
    return LabelSpot((x0 + label_at * (x1 - x0), y0 + label_at * (y1 - y0)), normal)


def arc_apex(start, end, bend):
    """The top of the arc ``edge`` draws from ``start`` to ``end`` with this ``bend``."""
    (x0, y0), (x1, y1) = start, end
    return (x0 + x1) / 2 + bend * (y0 - y1), (y0 + y1) / 2 + bend * (x1 - x0)


def edge_label(ax, spot, text, kind):
    """A value (kind 'value': green, above the wire) or gradient ('gradient': red, below) at a ``LabelSpot``."""
    sign = 1 if kind == "value" else -1
    nx, ny = sign * spot.normal[0], sign * spot.normal[1]
    return ax.annotate(
        text,
        xy=spot.point,
        xytext=(EDGE_LABEL_OFFSET * nx, EDGE_LABEL_OFFSET * ny),
        textcoords="offset points",
        ha="left" if nx > 0.3 else "right" if nx < -0.3 else "center",
        va="bottom" if ny > 0.3 else "top" if ny < -0.3 else "center",
        color=VALUE_COLOR if sign > 0 else GRADIENT_COLOR,
        fontsize=FONT_SIZE,
        fontweight="bold" if sign > 0 else "normal",
        zorder=5,
    )


def colour_key(ax, x=0.0, y=1.0):
    """The legend of a circuit diagram: green values, red gradients (axes coordinates)."""
    ax.text(x, y, "value (forward)", transform=ax.transAxes, color=VALUE_COLOR, fontweight="bold", va="top")
    ax.text(x, y - 0.06, "gradient dE/d· (backward)", transform=ax.transAxes, color=GRADIENT_COLOR, va="top")
