import numpy as np

from backprop_lib.kit.notebook import checked
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
h_z = h_h @ h_W + h_b
h_dz = h_dout * (h_z > 0)
h_dh, h_dW, h_db = residual_backward(h_dout.copy(), residual_forward(h_h, h_W, h_b)[1])
assert np.allclose(h_dh, h_dout + h_dz @ h_W.T), "dh is wrong on a hidden (7, 4) residual block"
assert np.allclose(h_dW, h_h.T @ h_dz) and np.allclose(h_db, h_dz.sum(axis=0)), "dW or db is wrong on a hidden block"
