import numpy as np

from backprop_lib.gates import add_constant_backward, add_constant_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("add_constant_backward", seed=312)
assert h_result.passed, h_result.report()
h_dout = np.random.default_rng(312).normal(size=(2, 5))
(h_dx,) = add_constant_backward(h_dout, add_constant_forward(np.ones((2, 5)), 3.5)[1])
assert agrees(h_reference, "dx", h_dx), "add_constant_backward is wrong on a hidden (2, 5) input"
