import numpy as np

from backprop_lib.kit.notebook import agrees, checked
from backprop_lib.layers import linear_backward, linear_forward

h_result = checked("linear_backward", seed=651)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(651)
for h_n, h_m, h_k, h_b_shape in ((7, 5, 4, (4,)), (1, 3, 3, (3,)), (6, 2, 9, (1, 9))):
    h_x, h_W, h_b = h_rng.normal(size=(h_n, h_m)), h_rng.normal(size=(h_m, h_k)), h_rng.normal(size=h_b_shape)
    h_dz = h_rng.normal(size=(h_n, h_k))
    h_dx, h_dW, h_db = linear_backward(h_dz, linear_forward(h_x, h_W, h_b)[1])
    h_shape = f"N, M, K = {h_n}, {h_m}, {h_k}"
    assert agrees(h_reference, f"dx {h_shape}", h_dx), f"linear_backward: dx is wrong ({h_shape})"
    assert agrees(h_reference, f"dW {h_shape}", h_dW), f"linear_backward: dW is wrong ({h_shape})"
    assert agrees(h_reference, f"db {h_shape}", h_db), f"linear_backward: db is wrong or not of b's shape ({h_shape})"
