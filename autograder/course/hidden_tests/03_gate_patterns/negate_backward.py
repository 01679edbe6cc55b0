import numpy as np

from backprop_lib.gates import negate_backward, negate_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("negate_backward", seed=323)
assert h_result.passed, h_result.report()
h_dout = np.random.default_rng(323).normal(size=(6,))
(h_dx,) = negate_backward(h_dout, negate_forward(np.ones(6))[1])
assert agrees(h_reference, "dx", h_dx), "negate_backward is wrong on a hidden input"
