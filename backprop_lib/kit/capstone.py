"""Notebook 7's network, data and training loop, given code that runs on your library.

    x, labels = make_spiral(seed=0)               # 300 points in the plane, 3 classes
    net = TwoLayerNet(2, 100, 3)                  # scores = relu(x W1 + b1) W2 + b2
    losses = train(net, softmax_cross_entropy, x, labels, steps=2000, learning_rate=1.0)

The network's parameters are graph input ``Node``s of your engine
(``backprop_lib/graph.py``); every gradient comes from your ``backward`` and your
operations' backward passes. The checks of notebook 7's graded cells
(``network_gradient_check``, ``spiral_training``) run the same code.
"""

import numpy as np

from backprop_lib.graph import Node, backward, linear


def make_spiral(points_per_class=100, classes=3, seed=0):
    """Points on ``classes`` interleaved spiral arms in the plane, with a little noise.

    Returns (x, labels): x (points_per_class * classes, 2), labels integers 0..classes-1.
    """
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for c in range(classes):
        radius = np.linspace(0.0, 1.0, points_per_class)
        angle = np.linspace(4.0 * c, 4.0 * (c + 1), points_per_class) + rng.normal(scale=0.2, size=points_per_class)
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        labels.append(np.full(points_per_class, c))
    return np.concatenate(points), np.concatenate(labels)


def initial_parameters(n_inputs, n_hidden, n_outputs, seed=0):
    """(W1, b1, W2, b2) as plain arrays: He-scaled W1 (for the ReLU), W2 scaled by 1/sqrt(n_hidden), zero biases."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(scale=np.sqrt(2 / n_inputs), size=(n_inputs, n_hidden))
    W2 = rng.normal(scale=np.sqrt(1 / n_hidden), size=(n_hidden, n_outputs))
    return W1, np.zeros(n_hidden), W2, np.zeros(n_outputs)


class TwoLayerNet:
    """scores = relu(x W1 + b1) W2 + b2 for x (N, n_inputs); parameters are graph input Nodes.

    ``TwoLayerNet(n_inputs, n_hidden, n_outputs, seed)`` draws ``initial_parameters``;
    ``TwoLayerNet.from_values(W1, b1, W2, b2)`` starts from given arrays.
    """

    def __init__(self, n_inputs, n_hidden, n_outputs, seed=0):
        self._set(*initial_parameters(n_inputs, n_hidden, n_outputs, seed))

    @classmethod
    def from_values(cls, W1, b1, W2, b2):
        net = cls.__new__(cls)
        net._set(W1, b1, W2, b2)
        return net

    def _set(self, W1, b1, W2, b2):
        self.W1, self.b1, self.W2, self.b2 = (
            Node(np.array(value, dtype=np.float64), label)
            for value, label in zip((W1, b1, W2, b2), ("W1", "b1", "W2", "b2"), strict=True)
        )
        self.parameters = [self.W1, self.b1, self.W2, self.b2]

    def scores(self, x):
        """The output node, shape (N, n_outputs)."""
        hidden = linear(Node(x, "x"), self.W1, self.b1).relu()
        return linear(hidden, self.W2, self.b2)

    def predict(self, x):
        return self.scores(x).value.argmax(axis=1)

    def accuracy(self, x, labels):
        return float(np.mean(self.predict(x) == labels))

    def sgd_step(self, learning_rate):
        """w <- w - learning_rate * dE/dw for every parameter."""
        for parameter in self.parameters:
            parameter.value -= learning_rate * parameter.grad


def train(net, loss_function, x, targets, steps, learning_rate, batch_size=None, seed=0):
    """SGD for ``steps`` steps on random batches (or the whole set); returns the loss of every step.

    ``loss_function(scores_node, targets)`` builds the loss node, e.g. ``graph.softmax_cross_entropy``.
    """
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        batch = slice(None) if batch_size is None else rng.choice(len(x), batch_size, replace=False)
        loss = loss_function(net.scores(x[batch]), targets[batch])
        backward(loss)
        net.sgd_step(learning_rate)
        losses.append(float(loss.value))
    return losses
