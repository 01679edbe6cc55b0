import numpy as np

from backprop_lib.activations import softmax_backward, softmax_forward
from backprop_lib.kit.notebook import checked

h_result = checked("softmax_backward", seed=552)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(552)
h_s, h_dout = 30.0 * h_rng.normal(size=(5, 6)), h_rng.normal(size=(5, 6))
h_p, h_cache = softmax_forward(h_s)
(h_ds,) = softmax_backward(h_dout.copy(), h_cache)
h_expected = np.stack([d @ (np.diag(p) - np.outer(p, p)) for d, p in zip(h_dout, h_p, strict=True)])
assert np.allclose(h_ds, h_expected), "softmax_backward is wrong on a hidden batch with large scores"
