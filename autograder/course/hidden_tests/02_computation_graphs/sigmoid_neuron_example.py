import numpy as np

from backprop_lib.activations import sigmoid_backward
from backprop_lib.gates import add_backward, multiply_backward
from backprop_lib.graph import Node, apply

h_w, h_x = (1.5, -0.5, 0.25), (0.8, -1.2)
h_p0 = apply("multiply", Node(h_w[0]), Node(h_x[0]))
h_p1 = apply("multiply", Node(h_w[1]), Node(h_x[1]))
h_a = apply("add", h_p0, h_p1)
h_s = apply("add", h_a, Node(h_w[2]))
h_f = apply("sigmoid", h_s)
(h_ds,) = sigmoid_backward(np.array(1.0), h_f.cache)
h_da, h_dw2 = add_backward(h_ds, h_s.cache)
h_dp0, h_dp1 = add_backward(h_da, h_a.cache)
h_dw0, h_dx0 = multiply_backward(h_dp0, h_p0.cache)
h_dw1, h_dx1 = multiply_backward(h_dp1, h_p1.cache)
h_sigma = 1.0 / (1.0 + np.exp(-(h_w[0] * h_x[0] + h_w[1] * h_x[1] + h_w[2])))
h_local = h_sigma * (1.0 - h_sigma)
h_expected = h_local * np.array([h_x[0], h_x[1], 1.0, h_w[0], h_w[1]])
h_got = np.array([h_dw0, h_dw1, h_dw2, h_dx0, h_dx1], dtype=float)
assert np.allclose(h_got, h_expected), "the gates give wrong gradients on a hidden sigmoid neuron"
