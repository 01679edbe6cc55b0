import numpy as np

from backprop_lib.activations import softmax_backward, softmax_forward
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("softmax_backward", seed=552)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(552)
h_s, h_dout = 30.0 * h_rng.normal(size=(5, 6)), h_rng.normal(size=(5, 6))
h_p, h_cache = softmax_forward(h_s)
(h_ds,) = softmax_backward(h_dout.copy(), h_cache)
assert agrees(h_reference, "ds", h_ds), "softmax_backward is wrong on a hidden batch with large scores"
