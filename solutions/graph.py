"""The general backprop algorithm on a computation graph.

A ``Node`` holds a value (a numpy array; a scalar is a 0-d array) and, after a
backward pass, its gradient dE/d(node) with the same shape. Applying an
operation from ``backprop_lib.kit.operations`` to nodes runs its forward and records
the parents and the cache; the backward pass then visits the nodes in reverse
topological order and calls each operation's backward.

    x, y = Node(3.0, "x"), Node(-4.0, "y")
    f = x * y + 1
    backward(f)          # f.grad = 1, x.grad = -4, y.grad = 3

Gradients are reset by every call to ``backward``: it clears the gradient of
every node in the graph (to None, "nothing received yet") before it sweeps, so
calling it twice gives the same, correct gradients, not doubled ones. Treat a
``grad`` array as read-only: the add gate hands the same array to both inputs.
"""

import numpy as np

from backprop_lib.kit.operations import OPERATIONS


class Node:
    """A value in a computation graph, with its gradient after ``backward``.

    Attributes:
        value: the forward value, a float64 array (0-d for a scalar).
        grad: dE/d(value) after a backward pass, same shape as value (None before).
        parents: the nodes this one was computed from (empty for an input).
        operation: the ``Operation`` that computed it, or None for an input.
        cache: what the operation's forward saved for its backward.
        label: a name for printing and drawing.
    """

    def __init__(self, value, label=""):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = None
        self.parents = ()
        self.operation = None
        self.cache = None
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Node({name}{self.value!r}, grad={self.grad!r})"

    def backward(self, grad=None):
        """Run the backward pass from this node; see ``backward``."""
        backward(self, grad)

    def __add__(self, other):
        if isinstance(other, Node):
            return apply("add", self, other)
        return apply("add_constant", self, constants=(other,))

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        if isinstance(other, Node):
            return apply("subtract", self, other)
        return apply("add_constant", self, constants=(-other,))

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if isinstance(other, Node):
            return apply("multiply", self, other)
        return apply("scale", self, constants=(other,))

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        if isinstance(other, Node):
            return self * apply("reciprocal", other)
        return self * (1.0 / other)

    def __rtruediv__(self, other):
        inverse = apply("reciprocal", self)
        return inverse if other == 1 else inverse * other

    def __neg__(self):
        return apply("negate", self)

    def __pow__(self, p):
        return apply("power", self, constants=(p,))

    def exp(self):
        return apply("exp", self)

    def log(self):
        return apply("log", self)

    def sigmoid(self):
        return apply("sigmoid", self)

    def relu(self):
        return apply("relu", self)


def apply(name, *parents, constants=(), label=""):
    """Run operation ``name`` forward on parent nodes and return the new node.

    ``constants`` are extra forward arguments that get no gradient (the c of
    ``scale``, the labels of a loss).
    """
    operation = OPERATIONS[name]
    out, cache = operation.forward(*(p.value for p in parents), *constants)
    node = Node(out, label)
    node.parents, node.operation, node.cache = parents, operation, cache
    return node


def maximum(a, b):
    """The max gate as a node: max(a, b) elementwise."""
    return apply("maximum", a, b)


def linear(x, W, b):
    """The linear layer as a node: z = x W + b."""
    return apply("linear", x, W, b)


def mse(pred, target):
    """Mean squared error of node ``pred`` against a constant target array."""
    return apply("mse", pred, constants=(target,))


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy of node ``logits`` against constant integer labels."""
    return apply("softmax_cross_entropy", logits, constants=(labels,))


def topological_sort(root):
    """Every node that ``root`` depends on, each once, parents before children.

    Walk the graph depth-first from ``root``: a node goes into the list only
    after all of its parents are in it. ``root`` itself comes last. A node
    reached along two paths (a fork) appears once.

    Args:
        root: the Node the backward pass starts from.

    Returns:
        A list of Nodes in topological order, ending with ``root``.

    Hint: keep a set of visited nodes (nodes hash by identity). Graphs can be
    thousands of nodes deep, so an explicit stack is safer than recursion.
    """
    ### BEGIN SOLUTION
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(node.parents))
    return order
    ### END SOLUTION


def backward(root, grad=None):
    """The general backprop algorithm: fill ``node.grad`` for every node.

    1. Order the graph with ``topological_sort(root)``.
    2. Reset: set every node's grad to None (no gradient received yet).
    3. Seed: root.grad = ``grad`` (default: ones of root's shape, dE/dE = 1).
    4. Sweep the nodes in *reverse* topological order; for each node with an
       operation, call ``node.operation.backward(node.grad, node.cache)``: it
       returns one gradient per parent (local gradient x upstream gradient).
       A parent's first gradient is stored; each further one is *added* to it,
       since gradients sum where a value forks.

    Args:
        root: the Node to differentiate, usually the scalar loss.
        grad: the upstream gradient for root, shape of root.value (default ones).

    Hint: never overwrite a parent's gradient: a node used twice must receive
    the sum of both gradients. Add out of place (grad = grad + g), because the
    arrays you receive may be shared with other nodes.
    """
    ### BEGIN SOLUTION
    order = topological_sort(root)
    for node in order:
        node.grad = None
    root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
    for node in reversed(order):
        if node.operation is None:
            continue
        for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache), strict=True):
            parent.grad = parent_grad if parent.grad is None else parent.grad + parent_grad
    ### END SOLUTION
