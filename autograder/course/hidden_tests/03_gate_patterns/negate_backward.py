import numpy as np

from backprop_lib.gates import negate_backward, negate_forward
from backprop_lib.kit.notebook import checked

h_result = checked("negate_backward", seed=323)
assert h_result.passed, h_result.report()
h_dout = np.random.default_rng(323).normal(size=(6,))
(h_dx,) = negate_backward(h_dout, negate_forward(np.ones(6))[1])
assert np.allclose(h_dx, -h_dout), "negate_backward is wrong on a hidden input"
