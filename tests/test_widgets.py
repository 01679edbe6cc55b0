"""The gradient-flow widgets: drive each control from Python and check what the picture and status line show.

The session runs in solution mode (tests/conftest.py); student mode (the stubs) runs in a subprocess.
"""

import json
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from conftest import REPO, student_env
from matplotlib.figure import Figure
from matplotlib.text import Text

from backprop_lib import graph
from backprop_lib.graph import Node
from backprop_lib.kit.stubgen import not_implemented_message
from backprop_lib.kit.widgets import (
    dead_relu,
    depth_flow,
    gate_example,
    gate_explorer,
    graph_viewer,
    linear_jacobian,
    sigmoid_example,
    sigmoid_saturation,
)
from backprop_lib.kit.widgets.base import exercise_status
from backprop_lib.kit.widgets.dead_relu import digits, initial_parameters, loss_and_gradients
from backprop_lib.kit.widgets.graph_viewer import gate_symbol

NOTEBOOK = REPO / "notebooks" / "gradient_flow_explorer.ipynb"


def shown(widget):
    """Every string the widget shows: the visible texts of its picture, then its status line."""
    texts = [t.get_text() for t in widget.figure.findobj(Text) if t.get_visible() and t.get_text()]
    return texts + [widget.status]


def gradient_into(view, gate_name):
    """The gradient label on the edge into the gate drawn as ``gate_name`` (its only input)."""
    (label,) = [label for (_, child, _), label in view.gradient_labels.items() if gate_symbol(child) == gate_name]
    return label.get_text()


def gradients_of_inputs(view):
    """Input name -> the gradient label on its edge."""
    return {parent.label: label.get_text() for (parent, _, _), label in view.gradient_labels.items() if parent.label}


def step_to(viewer, gate_name):
    """Move the step slider to the step at which ``gate_name`` runs backward."""
    for step in range(viewer.controls["step"].max + 1):
        viewer.controls["step"].value = step
        if viewer.status.startswith(f"{gate_name} gate"):
            return
    raise AssertionError(f"no step reaches the {gate_name} gate")


# Computation-graph viewer


def test_stepping_through_the_sigmoid_example_shows_the_course_numbers():
    viewer = graph_viewer(step=0)
    assert "0.731" in shown(viewer) and "1.37" in shown(viewer)
    assert all(label.get_text() == "" for label in viewer.view.gradient_labels.values())
    step_to(viewer, "1/x")
    assert gradient_into(viewer.view, "1/x") == "-0.534"
    assert viewer.status == "1/x gate f, local × upstream gradient: -0.534 × 1 = -0.534"
    assert gradient_into(viewer.view, "exp") == "", "exp has not run backward yet"
    step_to(viewer, "exp")
    assert gradient_into(viewer.view, "exp") == "-0.197"
    step_to(viewer, "*-1")
    assert gradient_into(viewer.view, "*-1") == "0.197"


def test_unlabelled_intermediate_nodes_get_names_shown_above_their_gates():
    viewer = graph_viewer(step=0)
    names = [viewer.view.names[node] for node in viewer.view.gates]
    assert names == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "f"]
    assert {"v1", "v7"} <= set(shown(viewer)) and "f" in shown(viewer)
    step_to(viewer, "exp")
    assert viewer.status == "exp gate v6, local × upstream gradient: 0.368 × -0.534 = -0.197"


def test_the_last_step_shows_every_input_gradient_and_leaves_the_graph_untouched():
    root = sigmoid_example()
    viewer = graph_viewer(root)
    assert viewer.controls["step"].value == viewer.controls["step"].max
    expected = {"w0": "-0.197", "x0": "0.393", "w1": "-0.393", "x1": "-0.59", "w2": "0.197"}
    assert gradients_of_inputs(viewer.view) == expected
    assert all(node.grad is None for node in viewer.view.layout.nodes), "the viewer must not write node.grad"


def test_gate_patterns_circuit_distributes_switches_and_routes():
    viewer = graph_viewer(gate_example())
    assert gradients_of_inputs(viewer.view) == {"x": "-8", "y": "6", "z": "2", "w": "0"}
    step_to(viewer, "max")
    assert viewer.status == "max gate v2, local × upstream gradient: to z: 1 × 2 = 2;  to w: 0 × 2 = 0"


def test_a_user_graph_with_a_fork_shows_the_summed_gradient_like_the_engine():
    x, y = Node(3.0, "x"), Node(2.0, "y")
    f = x * y + x * x
    viewer = graph_viewer(f)
    (fork,) = viewer.view.fork_labels.values()
    graph.backward(f)
    assert fork.get_text() == f"sum {x.grad:.3g}" == "sum 8"
    assert gradients_of_inputs(viewer.view)["y"] == f"{y.grad:.3g}"


def test_three_significant_figures_make_a_fork_sum_add_up():
    x, y = Node(3.0, "x"), Node(-2.0, "y")
    g = (x * y + x).sigmoid()
    viewer = graph_viewer(g)
    (fork,) = viewer.view.fork_labels.values()
    parts = sorted(label.get_text() for (parent, _, _), label in viewer.view.gradient_labels.items() if parent is x)
    assert parts == ["-0.0904", "0.0452"] and fork.get_text() == "sum -0.0452"
    fork_x = fork.get_position()[0]
    assert fork_x < viewer.view.layout.position[x][0] - 0.1, "the sum sits left of the input's name, off its wires"


def test_a_given_order_steps_without_topological_sort(monkeypatch):
    def not_written(root):
        raise NotImplementedError("topological_sort is not implemented yet: write it in backprop_lib/graph.py")

    monkeypatch.setattr(graph, "topological_sort", not_written)
    w, x = Node(2.0, "w"), Node(-1.0, "x")
    p = w * x
    p.label = "p"
    f = p.exp()
    assert graph_viewer(f).status == "implement topological_sort in backprop_lib/graph.py to see gradients"
    viewer = graph_viewer(f, order=[w, x, p, f])
    assert viewer.status.startswith("* gate p, local × upstream gradient: to w: -1 × ")
    assert not graph_viewer(step=4).view.problem, "the course's example steps in the kit's own order"


def test_an_order_that_is_not_topological_is_refused_clearly():
    w, x = Node(2.0, "w"), Node(-1.0, "x")
    f = w * x
    with pytest.raises(ValueError, match="order is not topological: w comes after its child"):
        graph_viewer(f, order=[x, f, w])
    with pytest.raises(ValueError, match="order must list every node of the graph exactly once"):
        graph_viewer(f, order=[w, f])


def test_a_graph_of_arrays_shows_shapes_and_upstream_gradients():
    x = Node(np.ones((2, 3)), "x")
    W, b = Node(np.full((3, 4), 0.5), "W"), Node(np.zeros(4), "b")
    loss = graph.mse(graph.linear(x, W, b).relu(), np.zeros((2, 4)))
    viewer = graph_viewer(loss, step=2)
    assert viewer.status.startswith("mse gate out, upstream 1: ")
    viewer.controls["step"].value = 4
    assert viewer.status == "xW+b gate v1, upstream (2×4): x gets (2×3), W gets (3×4), b gets (4,)"


def test_stepping_back_and_forth_redraws_the_picture():
    viewer = graph_viewer(step=0)
    first = viewer.image.value
    viewer.controls["step"].value = 2
    assert viewer.image.value != first
    viewer.controls["step"].value = 0
    assert viewer.image.value == first


def test_a_graph_too_big_to_draw_is_refused_clearly():
    node = Node(1.0, "x")
    for _ in range(5000):
        node = node * 1.0
    with pytest.raises(ValueError, match="at most 40 nodes; this one has 5001"):
        graph_viewer(node)


# Gate explorer


def bars(explorer):
    return [float(bar.get_height()) for bar in explorer.view.bars]


def test_max_routes_the_whole_upstream_gradient_to_the_larger_input():
    explorer = gate_explorer("maximum", a=2.0, b=-1.0, upstream=1.5)
    assert bars(explorer) == [1.5, 0.0]
    explorer.controls["b"].value = 3.0
    assert bars(explorer) == [0.0, 1.5]
    assert "max routes: b is the larger input, so dE/db = 1.50 (the whole upstream 1.50) and dE/da = 0.00" in shown(
        explorer
    )
    explorer.controls["a"].value = 3.0
    da, db = bars(explorer)
    assert da + db == 1.5 and 0 <= da <= 1.5, "at a tie any split of the upstream gradient is a subgradient"
    assert explorer.status.startswith("max at a tie: any split that adds up to the upstream gradient")


def test_add_distributes_and_multiply_switches():
    explorer = gate_explorer("add", a=3.0, b=-4.0, upstream=2.0)
    assert bars(explorer) == [2.0, 2.0]
    explorer.controls["gate"].value = "multiply"
    assert bars(explorer) == [-8.0, 6.0]
    assert explorer.view.values["out"].get_text() == "-12.00"
    assert explorer.status.startswith("multiply switches: dE/da = b × upstream = -4.00 × 2.00 = -8.00")
    explorer.controls["upstream"].value = -1.0
    assert bars(explorer) == [4.0, -3.0]


def test_a_broken_backward_becomes_one_line_not_a_traceback(monkeypatch):
    import backprop_lib.gates

    monkeypatch.setattr(backprop_lib.gates, "maximum_backward", lambda dout, cache: (dout,))
    explorer = gate_explorer("maximum")
    assert explorer.status == "ValueError: maximum_backward must return one gradient per input (2), got 1"
    assert explorer.view.problem and not explorer.view.bars[0].get_visible()
    viewer = graph_viewer(gate_example())
    assert viewer.status == "ValueError: maximum_backward must return one gradient per input (2), got 1"
    viewer.controls["step"].value = 2
    assert viewer.status.startswith("*2 gate"), "the gates before the broken one still step"


def test_a_wrong_gate_is_never_shown_beside_the_rule_it_misses(monkeypatch):
    import backprop_lib.gates

    swapped = lambda dout, cache: (dout * cache[0], dout * cache[1])  # noqa: E731 (the inputs not switched)
    monkeypatch.setattr(backprop_lib.gates, "multiply_backward", swapped)
    explorer = gate_explorer("multiply", a=3.0, b=-4.0, upstream=2.0)
    assert bars(explorer) == [6.0, -8.0], "the bars show the student's numbers"
    assert explorer.status == (
        "your multiply_backward gives dE/da = 6.00, dE/db = -8.00: not what nudging a and b gives; "
        'backprop_lib.check("multiply_backward") says where it differs'
    )
    assert "switches" not in explorer.status and "×" not in explorer.status


def test_gate_explorer_rejects_an_unknown_gate():
    with pytest.raises(ValueError, match="gate must be one of add, multiply, maximum, got 'divide'"):
        gate_explorer("divide")


# Sigmoid saturation


def test_the_local_gradient_peaks_at_a_quarter_and_vanishes_when_saturated():
    widget = sigmoid_saturation(x=0.0, depth=3)
    assert widget.status.startswith("σ(0.00) = 0.50, σ' = 0.25 (at most 0.25).")
    widget.controls["x"].value = 1.0
    assert "σ(1.00) = 0.73, σ' = 0.20" in widget.status
    widget.controls["x"].value = 7.0
    assert "σ' = 9.1e-04" in widget.status


def test_stacked_sigmoids_shrink_the_gradient_while_relus_pass_it():
    widget = sigmoid_saturation(x=1.0, depth=4)
    widget.controls["depth"].value = 12
    sigmoid = widget.view.sigmoid_line.get_ydata()
    relu = widget.view.relu_line.get_ydata()
    assert len(sigmoid) == len(relu) == 13
    assert np.all(np.diff(sigmoid) < 0) and sigmoid[-1] <= 0.25**12
    assert np.all(relu == 1.0)
    widget.controls["x"].value = -1.0
    assert "through 12 ReLUs 0.00 (x < 0: every ReLU is off)" in widget.status


def test_the_saturation_default_shows_sigmoids_shrinking_what_relus_pass():
    widget = sigmoid_saturation()
    sigmoid, relu = widget.view.sigmoid_line.get_ydata(), widget.view.relu_line.get_ydata()
    assert sigmoid[-1] < 1e-3 and relu[-1] == 1.0
    assert widget.status.endswith("Through 5 sigmoids dE/dx = 2.4e-04; through 5 ReLUs 1.00.")


# Dead ReLU


def test_dead_fraction_rises_as_the_biases_shift_down():
    widget = dead_relu()
    fractions = []
    for shift in (0.0, -0.5, -1.0, -1.5):
        widget.controls["bias_shift"].value = shift
        fractions.append(widget.view.dead_fraction)
    assert fractions == sorted(fractions) and fractions[-1] > fractions[0] + 0.5
    assert widget.status.startswith(f"{round(fractions[-1] * 32)} of 32 units dead")


def test_a_too_large_learning_rate_step_kills_units_and_raises_the_loss():
    widget = dead_relu()
    before = widget.view.dead_fraction
    widget.controls["learning_rate"].value = 10.0
    assert widget.view.dead_fraction > before + 0.2
    loss_before, loss_after = (float(v) for v in widget.status.split("loss ")[1].rstrip(".").split(" → "))
    assert loss_after > loss_before
    widget.controls["learning_rate"].value = 0.3
    assert widget.view.dead_fraction == before, "a small step kills nothing"


def test_dead_units_get_exactly_zero_weight_gradient():
    widget = dead_relu(bias_shift=-1.0)
    x, labels = digits()
    w1, b1, w2, b2 = initial_parameters()
    _, dw1, db1 = loss_and_gradients(x, labels, w1, b1 - 1.0, w2, b2)
    dead = np.asarray(widget.view.dead_marks.get_xdata(), dtype=int)
    assert len(dead) == round(widget.view.dead_fraction * 32) > 0
    assert not dw1[:, dead].any() and not db1[dead].any()


# Linear-layer Jacobian


def test_picking_an_element_of_dx_writes_its_sum_and_frames_its_row_and_column():
    widget = linear_jacobian(gradient="dW", row=2, column=3)
    widget.controls["gradient"].value = "dx"
    assert (widget.controls["row"].max, widget.controls["column"].max) == (1, 2), "the sliders follow dE/dx's shape"
    widget.controls["row"].value = 1
    widget.controls["column"].value = 2
    view = widget.view
    dz, w = view.matrices["dz"], view.matrices["W"]
    assert (
        view.headers["dx"].get_text()
        == "dE/dx: which product gives this shape?\n(N×M) = (N×K)(K×M):  (2×3) = (2×4)(4×3)"
    )
    assert view.headers["dx"].get_visible() and not view.headers["dW"].get_visible()
    assert view.formula.get_text().splitlines()[0] == "dE/dx[1,2] = Σ_k dE/dz[1,k] W[2,k]"
    total = dz[1] @ w[2]
    assert view.formula.get_text().endswith(f"= {total:.2f}")
    assert widget.status == f"dE/dx[1,2] = {total:.2f}: the library's linear_backward gives the same value."
    assert view.rings["dz"].get_bbox().bounds == (-0.5, 0.5, 4.0, 1.0)
    assert view.rings["W"].get_bbox().bounds == (-0.5, 1.5, 4.0, 1.0)
    assert not view.rings["x"].get_visible()


def test_picking_an_element_of_dw_uses_a_column_of_x_and_of_dz():
    widget = linear_jacobian(gradient="dW", row=2, column=3)
    view = widget.view
    assert (
        view.headers["dW"].get_text()
        == "dE/dW: which product gives this shape?\n(M×K) = (M×N)(N×K):  (3×4) = (3×2)(2×4)"
    )
    assert view.headers["dW"].get_visible() and not view.headers["dx"].get_visible()
    assert view.formula.get_text().splitlines()[0] == "dE/dW[2,3] = Σ_n x[n,2] dE/dz[n,3]"
    assert view.rings["x"].get_bbox().bounds == (1.5, -0.5, 1.0, 2.0)
    assert view.rings["dz"].get_bbox().bounds == (2.5, -0.5, 1.0, 2.0)
    assert [t for t in shown(widget) if t.startswith("dE/dW  (")] == ["dE/dW  (M×K) = (3×4)"]
    assert not [t for t in shown(widget) if "ᵀ" in t], "the matrix formula is the exercise: never written"


def test_a_wrong_linear_backward_is_caught_by_the_written_out_sum(monkeypatch):
    import backprop_lib.layers

    right = backprop_lib.layers.linear_backward

    def transposed_dw(dz, cache):
        dx, dw, db = right(dz, cache)
        return dx, dw * -1, db

    monkeypatch.setattr(backprop_lib.layers, "linear_backward", transposed_dw)
    widget = linear_jacobian(gradient="dW", row=0, column=0)
    assert widget.view.problem and "but linear_backward gives" in widget.status


# Gradient flow through depth


def test_the_residual_net_keeps_the_gradient_where_the_plain_one_vanishes():
    widget = depth_flow(depth=10, scale=0.5)
    widget.controls["depth"].value = 30
    plain, residual = widget.view.plain.get_ydata(), widget.view.residual.get_ydata()
    assert len(plain) == len(residual) == 31 and plain[-1] == pytest.approx(1.0)
    assert plain[0] < 1e-6 and residual[0] >= 1.0
    assert "plain" in widget.status and "(vanished)" in widget.status and "(kept)" in widget.status
    assert "the I in each block's I + J carries the gradient" in widget.status


def test_at_he_scale_the_residual_net_explodes_and_the_status_names_the_remedies():
    widget = depth_flow(depth=50, scale=1.41)
    assert widget.view.norms["residual"][0] > 1e9
    assert "(exploded)" in widget.status and "each block multiplies by I + J" in widget.status
    assert "normalisation, gradient clipping" in widget.status


def test_the_depth_default_shows_vanishing_plain_and_kept_residual():
    widget = depth_flow()
    assert widget.view.norms["plain"][0] < 1e-3 < 1.0 <= widget.view.norms["residual"][0] < 1e3


def test_he_scale_keeps_a_plain_relu_net_steady():
    widget = depth_flow(depth=30, scale=0.5)
    widget.controls["scale"].value = 1.4
    assert 1e-2 < widget.view.norms["plain"][0] < 1e2
    assert "Plain: this scale keeps it steady, about ×0.9" in widget.status and "balance point" in widget.status


@pytest.mark.parametrize(("depth", "scale", "trend"), [(3, 0.5, "shrinks"), (1, 0.5, "shrinks"), (3, 1.6, "enlarges")])
def test_a_shallow_plain_net_is_not_called_steady_far_from_he_scale(depth, scale, trend):
    widget = depth_flow(depth=depth, scale=scale)
    assert "(kept)" in widget.status.split(",")[0], "too shallow for the verdict to be vanished or exploded"
    assert "balance point" not in widget.status and "steady" not in widget.status
    assert f"Plain: kept only because the net is shallow: each layer {trend} the gradient" in widget.status


def test_at_fifty_layers_even_the_default_scale_makes_the_residual_net_explode():
    widget = depth_flow(depth=50)
    assert widget.view.norms["residual"][0] > 1e3
    assert "residual" in widget.status and "(exploded)" in widget.status
    assert "a little per block at small scales" in widget.status


# Shared behaviour


WIDGETS = {
    "graph_viewer": graph_viewer,
    "gate_explorer": gate_explorer,
    "sigmoid_saturation": sigmoid_saturation,
    "dead_relu": dead_relu,
    "linear_jacobian": linear_jacobian,
    "depth_flow": depth_flow,
}


@pytest.mark.parametrize("name", WIDGETS)
def test_static_rendering_returns_the_same_picture_as_a_figure(name, tmp_path):
    widget = WIDGETS[name]()
    figure = WIDGETS[name](static=True)
    assert isinstance(figure, Figure)
    assert widget.status in [t.get_text() for t in figure.texts], "the static figure writes the status line"
    figure.savefig(tmp_path / "figure.png")
    assert (tmp_path / "figure.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", WIDGETS)
def test_a_displayed_widget_carries_a_png_for_exports(name):
    bundle = WIDGETS[name]()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature


def test_the_png_encoder_round_trips_a_widgets_picture_exactly():
    import io

    from PIL import Image

    from backprop_lib.kit.widgets.base import encode_png

    widget = dead_relu(bias_shift=-1.0)
    decoded = np.asarray(Image.open(io.BytesIO(widget.image.value)))
    assert decoded.shape == (round(4.2 * 96), round(11.0 * 96), 4)
    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(rgba)))), rgba)


def test_stub_messages_become_one_line_and_other_errors_name_their_place():
    error = NotImplementedError(not_implemented_message("relu_backward", "activations"))
    assert exercise_status(error) == "implement relu_backward in backprop_lib/activations.py to see gradients"
    from backprop_lib.kit.operations import OPERATIONS

    try:
        OPERATIONS["linear"].backward(np.ones((2, 2)), (np.ones((2, 3)), np.ones((3, 4))))
    except ValueError as shape_error:
        line = exercise_status(shape_error)
    assert line.startswith("ValueError in linear_backward (solutions/layers.py, line ")


STUDENT_RUN = """
import json
from backprop_lib.kit.widgets import *
widgets = [graph_viewer(), gate_explorer(), sigmoid_saturation(), dead_relu(learning_rate=1.0),
           linear_jacobian(), depth_flow(), gate_explorer(static=True)]
widgets[0].controls["step"].value = 1
print(json.dumps([w.status for w in widgets[:-1]] + [widgets[-1].texts[-1].get_text()]))
"""


@pytest.mark.parametrize("mode", ["student", "solution"])
def test_widgets_run_without_warnings_or_stderr(mode, tmp_path):
    env = student_env(MPLCONFIGDIR=str(tmp_path), **({"BACKPROP_KIT_SOLUTIONS": "1"} if mode == "solution" else {}))
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", STUDENT_RUN], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    statuses = json.loads(done.stdout)
    if mode == "student":
        assert statuses == [
            "The backward pass starts at the output: df/df = 1",
            "implement maximum_backward in backprop_lib/gates.py to see gradients",
            "implement sigmoid_backward in backprop_lib/activations.py to see gradients",
            "implement backward in backprop_lib/graph.py to take the learning-rate step",
            "implement linear_backward in backprop_lib/layers.py to see gradients and their formulas",
            "implement backward in backprop_lib/graph.py to see gradients",
            "implement maximum_backward in backprop_lib/gates.py to see gradients",
        ]
    else:
        assert not any(status.startswith("implement") for status in statuses), statuses


def test_student_mode_graph_viewer_says_which_function_to_write_past_the_seed(tmp_path):
    code = (
        "from backprop_lib.kit.widgets import graph_viewer\n"
        "w = graph_viewer(step=0)\n"
        "print(w.status)\n"
        "w.controls['step'].value = 2\n"
        "print(w.status, w.view.problem)"
    )
    env = student_env(MPLCONFIGDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "Forward pass: each value (green) flows left to right. Step on to run the backward pass.",
        "implement reciprocal_backward in backprop_lib/gates.py to see gradients True",
    ]


# The self-learner notebook


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["student", "solution"])
def test_the_explorer_notebook_runs_top_to_bottom_without_errors_or_stderr(mode, tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "commit it clean"
    env = student_env(HOME=str(tmp_path), MPLCONFIGDIR=str(tmp_path / "mpl"), IPYTHONDIR=str(tmp_path / "ipython"))
    if mode == "solution":
        env["BACKPROP_KIT_SOLUTIONS"] = "1"
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
    )
    client.execute(env=env)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    widget_outputs = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget_outputs) >= 6
