import numpy as np

from backprop_lib.kit.notebook import agrees, checked
from backprop_lib.layers import residual_backward, residual_forward

h_result = checked("residual_backward", seed=661)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(661)
h_h, h_W, h_b, h_dout = (
    h_rng.normal(size=(7, 4)),
    h_rng.normal(size=(4, 4)),
    h_rng.normal(size=4),
    h_rng.normal(size=(7, 4)),
)
h_dh, h_dW, h_db = residual_backward(h_dout.copy(), residual_forward(h_h, h_W, h_b)[1])
assert agrees(h_reference, "dh", h_dh), "dh is wrong on a hidden (7, 4) residual block"
assert agrees(h_reference, "dW", h_dW) and agrees(h_reference, "db", h_db), "dW or db is wrong on a hidden block"
