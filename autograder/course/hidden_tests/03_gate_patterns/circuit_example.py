import numpy as np

from backprop_lib.gates import add_backward, maximum_backward, multiply_backward, scale_backward
from backprop_lib.graph import Node, apply

h_x, h_y, h_z, h_w = (Node(v) for v in (-2.0, 5.0, -1.0, 4.0))
h_q, h_m = apply("multiply", h_x, h_y), apply("maximum", h_z, h_w)
h_s = apply("add", h_q, h_m)
h_f = apply("scale", h_s, constants=(3.0,))
(h_ds,) = scale_backward(np.array(1.0), h_f.cache)
h_dq, h_dm = add_backward(h_ds, h_s.cache)
h_dx, h_dy = multiply_backward(h_dq, h_q.cache)
h_dz, h_dw = maximum_backward(h_dm, h_m.cache)
h_got = np.array([h_dx, h_dy, h_dz, h_dw], dtype=float)
assert np.allclose(h_got, [15.0, -6.0, 0.0, 3.0]), (
    "the gates give wrong gradients on a hidden circuit 3 (x y + max(z, w))"
)
