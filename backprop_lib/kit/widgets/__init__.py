"""Gradient-flow widgets: see backprop happen, values forward and gradients back.

One call in a notebook returns an ipywidgets box; ``static=True`` returns the
same picture as a matplotlib Figure instead (for exports, scripts and tests).
Each widget computes with your library: its graph engine and your backward
functions. A backward you have not written yet shows one line saying which
function to write in which file; with ``BACKPROP_KIT_SOLUTIONS=1`` the widgets
run on the reference solutions.

    from backprop_lib.kit.widgets import graph_viewer
    graph_viewer()                       # the course's sigmoid neuron, step by step

The API and how the widgets are tested: docs/widgets.md.
"""

from backprop_lib.kit.widgets.dead_relu import dead_relu
from backprop_lib.kit.widgets.depth_flow import depth_flow
from backprop_lib.kit.widgets.gate_explorer import gate_explorer
from backprop_lib.kit.widgets.graph_viewer import gate_example, graph_viewer, sigmoid_example
from backprop_lib.kit.widgets.linear_jacobian import linear_jacobian
from backprop_lib.kit.widgets.sigmoid_saturation import sigmoid_saturation

__all__ = [
    "dead_relu",
    "depth_flow",
    "gate_example",
    "gate_explorer",
    "graph_viewer",
    "linear_jacobian",
    "sigmoid_example",
    "sigmoid_saturation",
]
