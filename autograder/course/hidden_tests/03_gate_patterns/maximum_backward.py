import numpy as np

from backprop_lib.gates import maximum_backward, maximum_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("maximum_backward", seed=321)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(321)
h_a = h_rng.normal(size=(4, 3))
h_b = h_a + h_rng.choice([-1.0, 1.0], size=(4, 3)) * h_rng.uniform(0.1, 1.0, size=(4, 3))
h_dout = h_rng.normal(size=(4, 3))
h_da, h_db = maximum_backward(h_dout, maximum_forward(h_a, h_b)[1])
assert agrees(h_reference, "da", h_da), "maximum_backward: the first input's gradient is wrong on hidden inputs"
assert agrees(h_reference, "db", h_db), "maximum_backward: the second input's gradient is wrong on hidden inputs"
h_da, h_db = maximum_backward(np.array(3.0), maximum_forward(1.5, 1.5)[1])
assert np.isclose(h_da + h_db, 3.0) and 0.0 <= h_da <= 3.0, "maximum_backward: a tie must share dout once"
