"""The graph engine's overhead: a 784-256-10 MLP, batch 128, forward plus backward.

Both sides compute the same numbers with the reference solutions: the engine
(backprop_lib.graph, one node per operation) and the same maths written
directly in numpy, gradient for gradient (dx of the input included, since the
engine computes it too). Prints the median of several runs and the ratio.

    BACKPROP_KIT_SOLUTIONS=1 python benchmarks/engine_overhead.py
"""

import os
import statistics
import time

os.environ.setdefault("BACKPROP_KIT_SOLUTIONS", "1")

import numpy as np  # noqa: E402

from backprop_lib.graph import Node, backward, linear, softmax_cross_entropy  # noqa: E402

N, M, H, K = 128, 784, 256, 10
ROUNDS, REPEATS = 7, 10


def data():
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((N, M)),
        rng.integers(0, K, N),
        rng.standard_normal((M, H)) * 0.05,
        np.zeros(H),
        rng.standard_normal((H, K)) * 0.05,
        np.zeros(K),
    )


def with_engine(x, y, W1, b1, W2, b2):
    nodes = [Node(v) for v in (x, W1, b1, W2, b2)]
    loss = softmax_cross_entropy(linear(linear(nodes[0], *nodes[1:3]).relu(), *nodes[3:5]), y)
    backward(loss)
    return [n.grad for n in nodes]


def with_numpy(x, y, W1, b1, W2, b2):
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0.0)
    z2 = h @ W2 + b2
    shifted = z2 - z2.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    dz2 = probs.copy()
    dz2[np.arange(N), y] -= 1.0
    dz2 /= N
    dW2, db2, dh = h.T @ dz2, dz2.sum(axis=0), dz2 @ W2.T
    dz1 = dh * (z1 > 0)
    return [dz1 @ W1.T, x.T @ dz1, dz1.sum(axis=0), dW2, db2]


def seconds(function, arguments):
    start = time.perf_counter()
    for _ in range(REPEATS):
        function(*arguments)
    return (time.perf_counter() - start) / REPEATS


def main():
    arguments = data()
    for a, b in zip(with_engine(*arguments), with_numpy(*arguments), strict=True):
        assert np.allclose(a, b), "the two sides must compute the same gradients"
    engine, plain = [], []
    for _ in range(ROUNDS):  # interleaved, so both sides see the same machine state
        engine.append(seconds(with_engine, arguments))
        plain.append(seconds(with_numpy, arguments))
    e, p = statistics.median(engine), statistics.median(plain)
    print(f"MLP {M}-{H}-{K}, batch {N}, forward + backward (median of {ROUNDS} rounds x {REPEATS} runs)")
    print(f"  plain numpy  {p * 1e3:7.2f} ms")
    print(f"  graph engine {e * 1e3:7.2f} ms")
    print(f"  ratio        {e / p:7.3f}  (target <= 1.1)")


if __name__ == "__main__":
    main()
