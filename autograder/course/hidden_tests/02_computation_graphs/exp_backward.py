import numpy as np

from backprop_lib.gates import exp_backward, exp_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("exp_backward", seed=313)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(313)
h_x, h_dout = h_rng.normal(size=7), h_rng.normal(size=7)
(h_dx,) = exp_backward(h_dout, exp_forward(h_x)[1])
assert agrees(h_reference, "dx", h_dx), "exp_backward is wrong on a hidden input of shape (7,)"
