"""What every widget shares: a figure that redraws fast, controls above it, safe calls into exercises.

A *view* owns a matplotlib ``Figure`` (object-oriented API on an Agg canvas, no
pyplot state) and an ``update(**params)`` that moves its artists to show the
given parameters. Artists that change are registered as dynamic: the view draws
everything else once, keeps those pixels, and on each update restores them and
draws only the dynamic artists (blitting) before encoding a PNG. A view whose
axes, limits or titles change names the new layout with ``set_layout(key)``.

A ``FigureWidget`` puts the controls above that PNG (an ``ipywidgets.Image``)
and the view's status line under it (HTML), and redraws on every control change.
``view.static(**params)`` is the same picture as a plain ``Figure`` with the
status written in, for HTML exports, scripts and headless tests.
"""

import base64
import html
import re
import struct
import traceback
import zlib
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.widgets.style import FONT_SIZE, GRADIENT_COLOR, INK

DPI = 96
STATUS_HEIGHT = 0.35
"""Inches under the plot for the status line of a static figure."""
KEPT_BACKGROUNDS = 5
"""Backgrounds kept per view: one per layout (the depth widget has five)."""
_STUB_MESSAGE = re.compile(r"(\w+) is not implemented yet: write it in (backprop_lib/\w+\.py)")


def exercise_status(error, goal="to see gradients"):
    """One line for an exception raised by the student's library, instead of a traceback.

    An untouched stub gives "implement relu_backward in backprop_lib/activations.py
    to see gradients"; any other exception names its type, message and the
    exercise file and line it came from.
    """
    match = _STUB_MESSAGE.fullmatch(str(error))
    if isinstance(error, NotImplementedError) and match:
        return f"implement {match[1]} in {match[2]} {goal}"
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if path.stem in EXERCISE_MODULES and path.parent.name in ("backprop_lib", "solutions"):
            where = f" in {frame.name} ({path.parent.name}/{path.name}, line {frame.lineno})"
            break
    return f"{type(error).__name__}{where}: {error}"


def call_exercises(compute, goal="to see gradients"):
    """``(compute(), "")``, or ``(None, one line)`` when the student's code raises."""
    try:
        return compute(), ""
    except Exception as error:  # student code: any failure becomes one readable line
        return None, exercise_status(error, goal)


def encode_png(rgba):
    """PNG bytes of an (height, width, 4) uint8 RGBA array: unfiltered rows, zlib level 1.

    Half the time of Pillow's encoder at compress_level=1 (which filters every row
    adaptively, a cost flat plot colours do not repay), for a file about 1.5 times larger.
    """
    height, width, _ = rgba.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgba.reshape(height, -1)], axis=1)  # filter 0: none
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits per channel, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class FigureView:
    """A Figure whose changing artists are redrawn over a cached background.

    The figure is ``width`` x ``height`` inches of plot above a strip of STATUS_HEIGHT
    for the status line. A widget shows the status as HTML under the picture, so its
    PNG leaves the strip out; a static Figure writes the status into it.

    Attributes:
        figure: the matplotlib Figure (Agg canvas).
        status: one line on what the figure shows now, or which exercise to write.
        problem: True when the status reports a missing exercise or an error.
    """

    def __init__(self, width, height):
        self.figure = Figure(figsize=(width, height + STATUS_HEIGHT), dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.status, self.problem = "", False
        self._plot_height = height
        self._dynamic = []
        self._backgrounds = {}
        self._layout = None

    def area(self, left, bottom, width, height):
        """Figure coordinates of a rectangle given as fractions of the plot area (above the strip)."""
        total = self._plot_height + STATUS_HEIGHT
        return left, (STATUS_HEIGHT + bottom * self._plot_height) / total, width, height * self._plot_height / total

    def set_status(self, text, problem=False):
        """Set the status line; a problem (missing exercise, error) shows in the gradient colour."""
        self.status, self.problem = text, problem

    def dynamic(self, artist):
        """Register an artist that updates change; returns it."""
        artist.set_animated(True)
        self._dynamic.append(artist)
        return artist

    def set_layout(self, key):
        """Say that the static artists (limits, ticks, titles) now show layout ``key``.

        A view whose static artists change (another gate, another depth) calls this
        after changing them; the background of each of the last few layouts is kept.
        """
        self._layout = key

    def update(self, **params):
        """Move the artists to show ``params`` (each subclass defines its parameters)."""
        raise NotImplementedError(f"{type(self).__name__} must define update()")

    def png(self):
        """The current picture, without the status strip, as PNG bytes."""
        canvas = self.figure.canvas
        background = self._backgrounds.pop(self._layout, None)
        if background is None:
            canvas.draw()
            background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(background)
        self._backgrounds[self._layout] = background
        while len(self._backgrounds) > KEPT_BACKGROUNDS:
            del self._backgrounds[next(iter(self._backgrounds))]
        renderer = canvas.get_renderer()
        for artist in self._dynamic:
            if artist.get_visible():
                artist.draw(renderer)
        rows = round(self._plot_height * DPI)
        return encode_png(np.asarray(canvas.buffer_rgba())[:rows])

    def static(self, **params):
        """The picture for ``params`` as an ordinary Figure (every artist drawn by savefig), status included."""
        self.update(**params)
        for artist in self._dynamic:
            artist.set_animated(False)
        self.figure.text(
            0.01,
            0.1 * STATUS_HEIGHT / (self._plot_height + STATUS_HEIGHT),
            self.status,
            fontsize=FONT_SIZE + 1,
            color=GRADIENT_COLOR if self.problem else INK,
            ha="left",
            va="bottom",
        )
        return self.figure


class FigureWidget(widgets.VBox):
    """Controls above a view's picture and its status line; every control change redraws both.

    Attributes:
        view: the FigureView drawn.
        controls: name -> ipywidgets control; each name is a parameter of ``view.update``.
        image: the ipywidgets Image showing the view's PNG.
        caption: the ipywidgets HTML showing the view's status line.
    """

    def __init__(self, view, controls, extras=()):
        self.view = view
        self.controls = controls
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.caption = widgets.HTML()
        bar = widgets.HBox([*extras, *controls.values()], layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([bar, self.image, self.caption])
        for control in controls.values():
            control.observe(self.redraw, names="value")
        self.redraw()

    @property
    def figure(self):
        return self.view.figure

    @property
    def status(self):
        """The line under the picture."""
        return self.view.status

    def redraw(self, change=None):
        """Show the controls' current values."""
        self.view.update(**{name: control.value for name, control in self.controls.items()})
        self.image.value = self.view.png()
        color = GRADIENT_COLOR if self.view.problem else INK
        self.caption.value = f'<span style="color: {color}">{html.escape(self.view.status)}</span>'

    def _repr_mimebundle_(self, **kwargs):
        """The widget, plus its picture as PNG for exports that have no widget state."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
