import numpy as np

from backprop_lib.gates import log_backward, log_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("log_backward", seed=325)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(325)
h_x, h_dout = h_rng.uniform(0.05, 3.0, size=(3, 3)), h_rng.normal(size=(3, 3))
(h_dx,) = log_backward(h_dout, log_forward(h_x)[1])
assert agrees(h_reference, "dx", h_dx), "log_backward is wrong on a hidden (3, 3) input"
