"""The table of differentiable operations: one entry per forward/backward pair.

The graph engine, the gradient checks, the widgets and the autograder all find
an operation's functions through this table, so an operation added here (with
its pair in an exercise file) appears everywhere. Functions are looked up when
called, not when imported, so an edited and reloaded student file is used at once.
"""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One operation of the course.

    Attributes:
        name: the stem of its functions, ``<name>_forward`` and ``<name>_backward``.
        module: the exercise file that holds them, ``backprop_lib/<module>.py``.
        inputs: names of the graph inputs (each gets a gradient), in order.
        constants: names of further forward arguments that get no gradient.
        symbol: a short label for drawing the gate.
    """

    name: str
    module: str
    inputs: tuple[str, ...]
    constants: tuple[str, ...] = ()
    symbol: str = ""

    @property
    def path(self):
        """The file a student edits, relative to the library's parent folder."""
        return f"backprop_lib/{self.module}.py"

    def function(self, kind):
        """The current ``<name>_<kind>`` function, kind being 'forward' or 'backward'."""
        module = importlib.import_module(f"backprop_lib.{self.module}")
        return getattr(module, f"{self.name}_{kind}")

    def forward(self, *args):
        """(out, cache) = <name>_forward(*inputs, *constants)."""
        return self.function("forward")(*args)

    def backward(self, dout, cache):
        """One gradient per input: <name>_backward(dout, cache)."""
        return self.function("backward")(dout, cache)


OPERATIONS = {
    op.name: op
    for op in (
        Operation("add", "gates", ("a", "b"), symbol="+"),
        Operation("subtract", "gates", ("a", "b"), symbol="-"),
        Operation("multiply", "gates", ("a", "b"), symbol="*"),
        Operation("reciprocal", "gates", ("x",), symbol="1/x"),
        Operation("add_constant", "gates", ("x",), ("c",), symbol="+c"),
        Operation("scale", "gates", ("x",), ("c",), symbol="*c"),
        Operation("negate", "gates", ("x",), symbol="-x"),
        Operation("exp", "gates", ("x",), symbol="exp"),
        Operation("log", "gates", ("x",), symbol="log"),
        Operation("power", "gates", ("x",), ("p",), symbol="x^p"),
        Operation("maximum", "gates", ("a", "b"), symbol="max"),
        Operation("sigmoid", "activations", ("x",), symbol="σ"),
        Operation("relu", "activations", ("x",), symbol="relu"),
        Operation("softmax", "activations", ("s",), symbol="softmax"),
        Operation("linear", "layers", ("x", "W", "b"), symbol="xW+b"),
        Operation("residual", "layers", ("h", "W", "b"), symbol="h+relu(hW+b)"),
        Operation("mse", "losses", ("pred",), ("target",), symbol="mse"),
        Operation("softmax_cross_entropy", "losses", ("logits",), ("labels",), symbol="CE"),
        Operation("two_layer_net", "network", ("x", "W1", "b1", "W2", "b2"), ("labels", "reg"), symbol="net"),
    )
}
