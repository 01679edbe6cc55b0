import numpy as np

from backprop_lib.activations import softmax_jacobian
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("softmax_jacobian", seed=551)
assert h_result.passed, h_result.report()
h_p = np.array([0.1, 0.2, 0.3, 0.4])
h_J = np.asarray(softmax_jacobian(h_p.copy()), dtype=float)
assert h_J.shape == (4, 4), f"softmax_jacobian returned shape {h_J.shape} for K = 4"
assert np.allclose(h_J.sum(axis=0), 0.0), "the Jacobian's columns must sum to 0 (the probabilities sum to 1)"
assert agrees(h_reference, "J", h_J), "softmax_jacobian is wrong on a hidden row"
