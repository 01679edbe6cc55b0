import numpy as np

from backprop_lib.activations import relu_backward, relu_forward
from backprop_lib.kit.notebook import checked

h_result = checked("relu_backward", seed=541)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(541)
h_x, h_dout = h_rng.normal(size=(6, 7)), h_rng.normal(size=(6, 7))
h_x[2] = 0.0  # a row exactly at the kink: the course's convention gives 0
h_dout_before = h_dout.copy()
(h_dx,) = relu_backward(h_dout, relu_forward(h_x)[1])
assert np.array_equal(h_dout, h_dout_before), "relu_backward must not change the upstream gradient in place"
assert np.allclose(h_dx, h_dout * (h_x > 0)), "relu_backward is wrong on a hidden (6, 7) input with zeros"
