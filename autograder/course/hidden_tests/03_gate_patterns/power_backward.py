import numpy as np

from backprop_lib.gates import power_backward, power_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("power_backward", seed=324)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(324)
h_x, h_dout = h_rng.uniform(0.5, 2.0, size=(2, 3)), h_rng.normal(size=(2, 3))
for h_p in (3, 0.5, -1):
    (h_dx,) = power_backward(h_dout, power_forward(h_x, h_p)[1])
    assert agrees(h_reference, f"dx for p = {h_p}", h_dx), f"power_backward is wrong for the exponent p = {h_p}"
