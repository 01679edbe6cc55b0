"""Linear-layer Jacobian explorer: the gradients of z = x W + b, one element at a time.

For z = x W + b with x (N, M), W (M, K), b (K,) and an upstream gradient dE/dz (N, K),
heatmaps show x, W, dE/dz and the two gradients dE/dx (N, M) and dE/dW (M, K)
that the library's ``linear_backward`` returns, each headed by its dimension
analysis, e.g. (N x M) = (N x K)(K x M) with the sizes filled in. Picking one
element highlights the row of one matrix and the row or column of the other that
it combines and writes out its sum, term by term with the numbers, checked
against the library. The matrix formulas are the exercise's answer and are never
written; the sums appear only once ``linear_backward`` runs (before that the
status line says which function to write).
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.transforms import offset_copy

from backprop_lib.kit.operations import OPERATIONS
from backprop_lib.kit.widgets.base import FigureView, FigureWidget, call_exercises
from backprop_lib.kit.widgets.style import FONT_SIZE, GRADIENT_COLOR, HIGHLIGHT_COLOR, INK, VALUE_COLOR, format_number

CELL = 0.55
"""Inches per matrix element."""
GAP = 1.0
MAX_SIZE = 6
CMAP = "PuOr"
TERMS_PER_LINE = 2
FORMULA = {
    "va": "top",
    "ha": "left",
    "fontsize": FONT_SIZE + 1,
    "color": INK,
    "linespacing": 1.6,
    "family": "DejaVu Sans Mono",
}
LINE_POINTS = 1.6 * 1.2 * (FONT_SIZE + 1)
"""The height of one formula line: linespacing x matplotlib's line height (1.2 x the font size)."""


def example_matrices(n, m, k, seed=0):
    """x (N, M), W (M, K), b (K,) and dE/dz (N, K) with one decimal, easy to multiply by hand."""
    rng = np.random.default_rng(seed)
    return tuple(np.round(rng.normal(0.0, 1.0, shape), 1) for shape in ((n, m), (m, k), (k,), (n, k)))


class JacobianView(FigureView):
    """x, W, dE/dz over dE/dx, dE/dW, and the picked element's formula."""

    def __init__(self, n, m, k, seed):
        self.shape = {"x": (n, m), "W": (m, k), "dz": (n, k), "dx": (n, m), "dW": (m, k)}
        row_height = max(n, m) * CELL
        self.size = (max(0.9 + (m + 2 * k) * CELL + 2 * GAP, 11.0), 2 * row_height + 2.0)
        super().__init__(*self.size)
        x, w, b, dz = example_matrices(n, m, k, seed)
        _, cache = OPERATIONS["linear"].forward(x, w, b)
        grads, self.missing = call_exercises(lambda: OPERATIONS["linear"].backward(dz, cache))
        dx, dw = (grads[0], grads[1]) if grads else (np.full((n, m), np.nan), np.full((m, k), np.nan))
        self.matrices = {"x": x, "W": w, "dz": dz, "dx": dx, "dW": dw}
        titles = {
            "x": f"x  (N×M) = ({n}×{m})",
            "W": f"W  (M×K) = ({m}×{k})",
            "dz": f"dE/dz  (N×K) = ({n}×{k})",
            "dx": f"dE/dx  (N×M) = ({n}×{m})",
            "dW": f"dE/dW  (M×K) = ({m}×{k})",
        }
        top, bottom = self.size[1] - 0.6, self.size[1] - 0.6 - row_height - 0.9
        columns = (0.5, 0.5 + m * CELL + GAP, 0.5 + (m + k) * CELL + 2 * GAP)
        places = {"x": (columns[0], top), "W": (columns[1], top), "dz": (columns[2], top)}
        places |= {"dx": (columns[0], bottom), "dW": (columns[1], bottom)}
        self.axes = {name: self._heatmap(name, *place, titles[name]) for name, place in places.items()}
        self.rings = {name: self._ring(name) for name in self.shape}
        x, w, dz = self.matrices["x"], self.matrices["W"], self.matrices["dz"]
        headers = {
            "dx": [
                "dE/dx: which product gives this shape?",
                f"(N×M) = (N×K)(K×M):  {_dims(x)} = {_dims(dz)}{_dims(w.T)}",
            ],
            "dW": [
                "dE/dW: which product gives this shape?",
                f"(M×K) = (M×N)(N×K):  {_dims(w)} = {_dims(x.T)}{_dims(dz)}",
            ],
        }
        corner = self._inches(columns[2], bottom, 0, 0)[:2]
        # The two header lines change only with the gradient (a layout with its own background);
        # the element's lines below them change with every pick.
        self.headers = {name: self.figure.text(*corner, "\n".join(lines), **FORMULA) for name, lines in headers.items()}
        below_headers = offset_copy(self.figure.transFigure, fig=self.figure, y=-2 * LINE_POINTS, units="points")
        self.formula = self.dynamic(self.figure.text(*corner, "", transform=below_headers, **FORMULA))

    def _inches(self, left, bottom, width, height):
        """Figure coordinates of a rectangle given in inches from the plot area's lower left corner."""
        total_width, total_height = self.size
        return self.area(left / total_width, bottom / total_height, width / total_width, height / total_height)

    def _heatmap(self, name, left, top, title):
        """The matrix ``name`` as a heatmap whose top left corner is at (left, top) inches."""
        rows, cols = self.shape[name]
        ax = self.figure.add_axes(self._inches(left, top - rows * CELL, cols * CELL, rows * CELL))
        values = self.matrices[name]
        limit = max(np.nanmax(np.abs(values)), 1e-9) if not np.isnan(values).all() else 1.0
        image = ax.imshow(values, cmap=CMAP, vmin=-limit, vmax=limit, aspect="equal")
        for (r, c), value in np.ndenumerate(values):
            if not np.isnan(value):
                red, green, blue, _ = image.cmap(image.norm(value))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                ax.text(
                    c,
                    r,
                    format_number(value),
                    ha="center",
                    va="center",
                    fontsize=FONT_SIZE - 1,
                    color="white" if dark else INK,
                )
        ax.set_xticks(range(cols))
        ax.set_yticks(range(rows))
        ax.tick_params(length=0, labelsize=FONT_SIZE - 2, top=True, labeltop=True, bottom=False, labelbottom=False)
        color = VALUE_COLOR if name in ("x", "W") else GRADIENT_COLOR
        ax.set_title(title, color=color, fontsize=FONT_SIZE + 1, pad=14)
        return ax

    def _ring(self, name):
        ring = Rectangle((0, 0), 1, 1, fill=False, edgecolor=HIGHLIGHT_COLOR, linewidth=3, clip_on=False)
        self.axes[name].add_patch(ring)
        return self.dynamic(ring)

    def _mark(self, name, rows, cols):
        """Frame rows ``rows`` (a slice) and columns ``cols`` of matrix ``name``."""
        n_rows, n_cols = self.shape[name]
        r0, r1 = rows.indices(n_rows)[:2]
        c0, c1 = cols.indices(n_cols)[:2]
        ring = self.rings[name]
        ring.set_bounds(c0 - 0.5, r0 - 0.5, c1 - c0, r1 - r0)
        ring.set_visible(True)

    def update(self, gradient, row, column):
        rows, columns = self.shape[gradient]
        i, j = min(row, rows - 1), min(column, columns - 1)  # the sliders' ranges follow the gradient
        for name, header in self.headers.items():
            header.set_visible(name == gradient)
        self.set_layout(gradient)
        for ring in self.rings.values():
            ring.set_visible(False)
        x, w, dz = self.matrices["x"], self.matrices["W"], self.matrices["dz"]
        if gradient == "dx":
            self._mark("dz", slice(i, i + 1), slice(None))
            self._mark("W", slice(j, j + 1), slice(None))
            terms = [(dz[i, k], w[j, k]) for k in range(w.shape[1])]
            lines = [f"dE/dx[{i},{j}] = Σ_k dE/dz[{i},k] W[{j},k]", f"  (row {i} of dE/dz with row {j} of W)"]
        else:
            self._mark("x", slice(None), slice(i, i + 1))
            self._mark("dz", slice(None), slice(j, j + 1))
            terms = [(x[n, i], dz[n, j]) for n in range(x.shape[0])]
            lines = [f"dE/dW[{i},{j}] = Σ_n x[n,{i}] dE/dz[n,{j}]", f"  (column {i} of x with column {j} of dE/dz)"]
        self._mark(gradient, slice(i, i + 1), slice(j, j + 1))
        total = sum(a * b for a, b in terms)
        products = [f"({a:g})({b:g})" for a, b in terms]
        for start in range(0, len(products), TERMS_PER_LINE):
            lines.append(("  = " if start == 0 else "    + ") + " + ".join(products[start : start + TERMS_PER_LINE]))
        lines.append(f"  = {format_number(total)}")
        if self.missing:
            self.formula.set_text("")
            formulas = " and their formulas" if self.missing.startswith("implement") else ""
            self.set_status(self.missing + formulas, problem=True)
            return
        self.formula.set_text("\n".join(lines))
        library = self.matrices[gradient][i, j]
        name = f"dE/d{gradient[1:]}[{i},{j}]"
        if np.isclose(library, total):
            self.set_status(f"{name} = {format_number(total)}: the library's linear_backward gives the same value.")
        else:
            self.set_status(
                f"{name}: the sum is {format_number(total)} but linear_backward gives {format_number(library)}",
                problem=True,
            )


def _dims(matrix):
    """'(2×3)' for a 2 x 3 matrix."""
    return f"({matrix.shape[0]}×{matrix.shape[1]})"


def element_controls(shapes, gradient, row, column):
    """A gradient toggle and row / column sliders whose ranges follow the chosen gradient's shape."""
    toggle = widgets.ToggleButtons(options=[("dE/dx", "dx"), ("dE/dW", "dW")], value=gradient, description="gradient")
    rows, columns = shapes[gradient]
    row_slider = widgets.IntSlider(value=row, min=0, max=rows - 1, description="row")
    column_slider = widgets.IntSlider(value=column, min=0, max=columns - 1, description="column")

    def follow(change):
        rows, columns = shapes[change["new"]]
        row_slider.max, column_slider.max = rows - 1, columns - 1

    toggle.observe(follow, names="value")
    return {"gradient": toggle, "row": row_slider, "column": column_slider}


def linear_jacobian(gradient="dx", row=0, column=0, sizes=(2, 3, 4), seed=0, static=False):
    """Heatmaps of a linear layer's backward pass, with one gradient element picked and written out.

    Args:
        gradient: 'dx' (dE/dx, shape (N, M)) or 'dW' (dE/dW, shape (M, K)).
        row, column: the element of that gradient to explain.
        sizes: (N, M, K), each from 1 to 6.
        seed: the random (one-decimal) x, W, b and dE/dz.
        static: return a matplotlib Figure for this element instead of a widget.

    Returns:
        An ipywidgets box (``.controls``: gradient, row, column; ``.figure``, ``.status``), or a Figure.
    """
    n, m, k = sizes
    if not all(1 <= size <= MAX_SIZE for size in sizes):
        raise ValueError(f"sizes (N, M, K) must each be between 1 and {MAX_SIZE}, got {sizes}")
    shapes = {"dx": (n, m), "dW": (m, k)}
    if gradient not in shapes or not (0 <= row < shapes[gradient][0] and 0 <= column < shapes[gradient][1]):
        raise ValueError(f"no element {gradient}[{row},{column}] in a layer with (N, M, K) = {sizes}")
    view = JacobianView(n, m, k, seed)
    if static:
        return view.static(gradient=gradient, row=row, column=column)
    return FigureWidget(view, element_controls(shapes, gradient, row, column))
