import numpy as np

from backprop_lib.activations import relu_backward, relu_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("relu_backward", seed=541)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(541)
h_x, h_dout = h_rng.normal(size=(6, 7)), h_rng.normal(size=(6, 7))
h_x[2] = 0.0  # a row exactly at the kink: any share of dout in [0, 1] is a valid subgradient
h_dout_before = h_dout.copy()
(h_dx,) = relu_backward(h_dout, relu_forward(h_x)[1])
assert np.array_equal(h_dout, h_dout_before), "relu_backward must not change the upstream gradient in place"
h_share = np.divide(h_dx, h_dout, out=np.zeros_like(h_dout), where=h_dout != 0)
h_away = h_x != 0
assert agrees(h_reference, "dx away from the kink", h_dx[h_away]), "relu_backward is wrong on a hidden (6, 7) input"
h_at_zero = h_share[~h_away]
assert np.allclose(np.clip(h_at_zero, 0.0, 1.0), h_at_zero), "relu_backward: at x = 0 pass a share of dout in [0, 1]"
