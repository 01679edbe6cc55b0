import numpy as np

from backprop_lib.activations import sigmoid_backward, sigmoid_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("sigmoid_backward", seed=317)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(317)
h_x, h_dout = 3.0 * h_rng.normal(size=(2, 6)), h_rng.normal(size=(2, 6))
(h_dx,) = sigmoid_backward(h_dout, sigmoid_forward(h_x)[1])
assert agrees(h_reference, "dx", h_dx), "sigmoid_backward is wrong on a hidden (2, 6) input"
