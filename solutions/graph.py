"""The general backprop algorithm on a computation graph.

A ``Node`` holds a value (a numpy array; a scalar is a 0-d array) and, after a
backward pass, its gradient dE/d(node) with the same shape. Applying an
operation from ``backprop_lib.kit.operations`` to nodes runs its forward and records
the parents and the cache; the backward pass then visits the nodes in reverse
topological order and calls each operation's backward.

    x, y = Node(3.0, "x"), Node(-4.0, "y")
    f = x * y + 1
    backward(f)          # f.grad = 1, x.grad = -4, y.grad = 3

The accumulation rule, the same in notebook 4, here and in the hints:
backward resets every node's grad to zeros of its value's shape, seeds the root
with ones (or a float64 copy of the given grad), then visits nodes in reverse
topological order and ADDS each gradient a parent receives with
``parent.grad += g``; a node used twice receives the sum. Unlike PyTorch, which
accumulates across backward() calls until zero_grad(), every call starts from
zero. The arrays an operation's backward returns may be shared (the add gate
may hand the same array to both inputs, or return ``dout`` itself): the engine
only ever adds them into the zeros it owns, so it never changes them.
"""

import numpy as np

from backprop_lib.kit.operations import OPERATIONS


class Node:
    """A value in a computation graph, with its gradient after ``backward``.

    Attributes:
        value: the forward value, a float64 array (0-d for a scalar).
        grad: dE/d(value) after a backward pass, a float64 array of value's shape (None before the first).
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

    A node goes into the list only after all of its parents are in it; ``root``
    itself comes last. A node reached along two paths (a fork) appears once.
    Nodes hash by identity, so they can go into a set. Graphs can be thousands
    of nodes deep (deeper than Python's recursion limit, about 1000 calls):
    the function must not recurse once per node.

    Args:
        root: the Node the backward pass starts from.

    Returns:
        A list of Nodes in topological order, ending with ``root``.
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
    """The general backprop algorithm: fill ``node.grad`` with dE/d(node) for every node ``root`` depends on.

    The rule: reset every node's grad to zeros of its value's shape, seed the
    root with ones (or a float64 copy of the given grad), then visit the nodes
    in reverse topological order (``topological_sort``) and, for each node with
    an operation, call ``node.operation.backward(node.grad, node.cache)`` (one
    gradient per parent, in the order of ``node.parents``) and ADD each gradient
    a parent receives with ``parent.grad += g``: a node used twice receives the
    sum. Unlike PyTorch, which accumulates across backward() calls until
    zero_grad(), every call starts from zero, so calling it twice gives the
    same gradients.

    Args:
        root: the Node to differentiate, usually the scalar loss.
        grad: the upstream gradient for root, shape of root.value (default ones).
    """
    ### BEGIN SOLUTION
    order = topological_sort(root)
    for node in order:
        node.grad = np.zeros(node.value.shape)
    root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
    for node in reversed(order):
        if node.operation is None:
            continue
        for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache), strict=True):
            parent.grad += parent_grad
    ### END SOLUTION
