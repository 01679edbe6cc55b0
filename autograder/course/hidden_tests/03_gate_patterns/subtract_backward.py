import numpy as np

from backprop_lib.gates import subtract_backward, subtract_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("subtract_backward", seed=322)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(322)
h_a, h_b, h_dout = h_rng.normal(size=(3, 4)), h_rng.normal(size=4), h_rng.normal(size=(3, 4))
h_da, h_db = subtract_backward(h_dout, subtract_forward(h_a, h_b)[1])
assert agrees(h_reference, "da", h_da), "subtract_backward: the first gradient is wrong on hidden inputs"
assert np.shape(h_db) == (4,), f"subtract_backward: a broadcast (4,) input got a gradient of shape {np.shape(h_db)}"
assert agrees(h_reference, "db", h_db), "subtract_backward: the second gradient is wrong on hidden inputs"
