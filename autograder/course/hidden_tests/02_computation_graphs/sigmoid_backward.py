import numpy as np

from backprop_lib.activations import sigmoid_backward, sigmoid_forward
from backprop_lib.kit.notebook import checked

h_result = checked("sigmoid_backward", seed=317)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(317)
h_x, h_dout = 3.0 * h_rng.normal(size=(2, 6)), h_rng.normal(size=(2, 6))
h_s = 1.0 / (1.0 + np.exp(-h_x))
(h_dx,) = sigmoid_backward(h_dout, sigmoid_forward(h_x)[1])
assert np.allclose(h_dx, h_dout * h_s * (1.0 - h_s)), "sigmoid_backward is wrong on a hidden (2, 6) input"
