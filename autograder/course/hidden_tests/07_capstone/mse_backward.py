import numpy as np

from backprop_lib.kit.notebook import agrees, checked
from backprop_lib.losses import mse_backward, mse_forward

h_result = checked("mse_backward", seed=761)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(761)
h_pred, h_target = h_rng.normal(size=(6, 3)), h_rng.normal(size=(6, 3))
(h_dpred,) = mse_backward(np.array(0.5), mse_forward(h_pred, h_target)[1])
assert agrees(h_reference, "dpred", h_dpred), "mse_backward is wrong on a hidden batch of 6"
