import numpy as np

from backprop_lib.gates import scale_backward, scale_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("scale_backward", seed=314)
assert h_result.passed, h_result.report()
h_dout = np.random.default_rng(314).normal(size=(4, 2))
(h_dx,) = scale_backward(h_dout, scale_forward(np.ones((4, 2)), -2.5)[1])
assert agrees(h_reference, "dx", h_dx), "scale_backward is wrong for a hidden constant"
