import numpy as np

from backprop_lib.gates import add_backward, add_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("add_backward", seed=315)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(315)
h_a, h_b, h_dout = h_rng.normal(size=(4, 3)), h_rng.normal(size=(1, 3)), h_rng.normal(size=(4, 3))
h_da, h_db = add_backward(h_dout, add_forward(h_a, h_b)[1])
assert np.shape(h_db) == (1, 3), f"add_backward: a broadcast (1, 3) input got a gradient of shape {np.shape(h_db)}"
assert agrees(h_reference, "da", h_da), "add_backward: the first gradient is wrong on hidden inputs"
assert agrees(h_reference, "db", h_db), "add_backward: the broadcast input's gradient is wrong"
