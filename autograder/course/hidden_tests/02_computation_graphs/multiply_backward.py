import numpy as np

from backprop_lib.gates import multiply_backward, multiply_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("multiply_backward", seed=316)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(316)
h_a, h_b, h_dout = h_rng.normal(size=(5, 3)), h_rng.normal(size=3), h_rng.normal(size=(5, 3))
h_da, h_db = multiply_backward(h_dout, multiply_forward(h_a, h_b)[1])
assert agrees(h_reference, "da", h_da), "multiply_backward: the first gradient is wrong on hidden inputs"
assert np.shape(h_db) == (3,), f"multiply_backward: a broadcast (3,) input got a gradient of shape {np.shape(h_db)}"
assert agrees(h_reference, "db", h_db), "multiply_backward: the broadcast input's gradient is wrong"
