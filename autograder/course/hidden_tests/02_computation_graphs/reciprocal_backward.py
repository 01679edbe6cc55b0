import numpy as np

from backprop_lib.gates import reciprocal_backward, reciprocal_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("reciprocal_backward", seed=311)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(311)
h_x = h_rng.uniform(0.5, 2.0, size=(3, 4)) * h_rng.choice([-1.0, 1.0], size=(3, 4))
h_dout = h_rng.normal(size=(3, 4))
(h_dx,) = reciprocal_backward(h_dout, reciprocal_forward(h_x)[1])
assert agrees(h_reference, "dx", h_dx), "reciprocal_backward is wrong on a hidden (3, 4) input"
