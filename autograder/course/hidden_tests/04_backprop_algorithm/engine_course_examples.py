import numpy as np

from backprop_lib.graph import Node, backward, maximum

h_w = [Node(v) for v in (1.5, -0.5, 0.25)]
h_x = [Node(v) for v in (0.8, -1.2)]
h_f = 1 / ((-1.0 * (h_w[0] * h_x[0] + h_w[1] * h_x[1] + h_w[2])).exp() + 1)
backward(h_f)
h_sigma = float(h_f.value)
h_expected = h_sigma * (1 - h_sigma) * np.array([0.8, -1.2, 1.0, 1.5, -0.5])
h_got = np.array([float(n.grad) for n in (*h_w, *h_x)])
assert np.allclose(h_got, h_expected), "the engine gives wrong gradients on a hidden sigmoid neuron"
h_inputs = [Node(v) for v in (-2.0, 5.0, -1.0, 4.0)]
h_c = 3 * (h_inputs[0] * h_inputs[1] + maximum(h_inputs[2], h_inputs[3]))
backward(h_c)
h_got = np.array([float(n.grad) for n in h_inputs])
assert np.allclose(h_got, [15.0, -6.0, 0.0, 3.0]), "the engine gives wrong gradients on a hidden circuit"
