import numpy as np

from backprop_lib.graph import Node, backward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("backward", seed=432)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(432)
h_a_value, h_b_value, h_upstream = h_rng.normal(size=4), h_rng.normal(size=4), h_rng.normal(size=4)
h_a, h_b = Node(h_a_value), Node(h_b_value)
h_v = h_a * h_b + h_a  # a is used three times in all
h_out = h_v.sigmoid() * h_a
for h_call in ("first", "second"):
    backward(h_out, h_upstream)
    assert agrees(h_reference, "a", h_a.grad), f"backward: wrong gradient at a forked input ({h_call} call)"
    assert agrees(h_reference, "b", h_b.grad), f"backward: wrong gradient at an input ({h_call} call, hidden graph)"
h_x, h_y = Node(1.5, "x"), Node(-0.5, "y")
h_p, h_s = h_x * 3.0, h_x + h_y
h_f = h_p + h_s  # x is used twice; the add gates share their upstream array
for h_call in ("first", "second"):
    backward(h_f)
    h_got = [float(h_node.grad) for h_node in (h_f, h_p, h_s, h_x, h_y)]
    assert np.allclose(h_got, [1.0, 1.0, 1.0, 4.0, 1.0]), (
        f"backward: df, dp, ds, dx, dy of f = 3x + (x + y) are {h_got}, expected 1, 1, 1, 4, 1 ({h_call} call)"
    )
