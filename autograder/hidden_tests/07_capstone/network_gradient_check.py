import numpy as np

from backprop_lib.graph import backward, softmax_cross_entropy

h_x, h_y = make_spiral(seed=11)[0][7::45], make_spiral(seed=11)[1][7::45]
h_net = TwoLayerNet(2, 6, 3, seed=5)
backward(softmax_cross_entropy(h_net.scores(h_x), h_y))


def h_loss(W1, b1, W2, b2):
    scores = np.maximum(h_x @ W1 + b1, 0.0) @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(h_y)), h_y].mean()


h_values = [p.value.copy() for p in h_net.parameters]
for h_i, h_parameter in enumerate(h_net.parameters):
    h_numeric = np.zeros_like(h_values[h_i])
    for h_index in np.ndindex(h_numeric.shape):
        h_up, h_down = [v.copy() for v in h_values], [v.copy() for v in h_values]
        h_up[h_i][h_index] += 1e-6
        h_down[h_i][h_index] -= 1e-6
        h_numeric[h_index] = (h_loss(*h_up) - h_loss(*h_down)) / 2e-6
    h_error = np.linalg.norm(h_parameter.grad - h_numeric) / (np.linalg.norm(h_numeric) + 1e-12)
    assert h_error < 1e-5, f"dE/d{h_parameter.label} differs from centered differences on a hidden network"
