import numpy as np

from backprop_lib.kit.notebook import checked
from backprop_lib.network import two_layer_net_backward, two_layer_net_forward

h_result = checked("two_layer_net_backward", seed=771)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(771)
h_x, h_labels = h_rng.normal(size=(6, 3)), h_rng.integers(0, 4, size=6)
h_params = [h_rng.normal(size=(3, 5)), h_rng.normal(size=5), h_rng.normal(size=(5, 4)), h_rng.normal(size=4)]


def h_loss(*params):
    return float(two_layer_net_forward(h_x, *params, h_labels, 0.3)[0])


h_grads = two_layer_net_backward(np.array(1.0), two_layer_net_forward(h_x, *h_params, h_labels, 0.3)[1])
for h_i, h_value in enumerate(h_params):
    h_numeric = np.zeros_like(h_value)
    for h_index in np.ndindex(h_value.shape):
        h_up, h_down = [p.copy() for p in h_params], [p.copy() for p in h_params]
        h_up[h_i][h_index] += 1e-6
        h_down[h_i][h_index] -= 1e-6
        h_numeric[h_index] = (h_loss(*h_up) - h_loss(*h_down)) / 2e-6
    assert np.allclose(h_grads[h_i + 1], h_numeric, rtol=1e-5, atol=1e-7), (
        f"the gradient of parameter {h_i + 1} differs from centered differences on a hidden network"
    )
