import numpy as np

from backprop_lib.kit.notebook import agrees, checked
from backprop_lib.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward

h_result = checked("softmax_cross_entropy_backward", seed=762)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(762)
h_logits = 50.0 * h_rng.normal(size=(5, 4))  # large scores: only a stable softmax gets them right
h_labels = h_rng.integers(0, 4, size=5)
(h_dlogits,) = softmax_cross_entropy_backward(np.array(2.0), softmax_cross_entropy_forward(h_logits, h_labels)[1])
assert agrees(h_reference, "dlogits", h_dlogits), "softmax_cross_entropy_backward is wrong on a hidden batch"
