"""A whole two-layer network, forward and backward, staged by hand.

The network of notebook 7, in the course's row-vector notation, for a batch of
N examples x (N, D), H hidden units and C classes:

    z1 = x W1 + b1          (N, H)     linear_forward
    h  = relu(z1)           (N, H)     relu_forward
    s  = h W2 + b2          (N, C)     linear_forward
    E  = softmax cross-entropy of s and labels, averaged over the batch
         + (reg / 2) (sum W1^2 + sum W2^2)      (L2 weight decay)

The forward is given and calls the library's own forwards; the backward is your
exercise: one stage at a time, from E back to x.
"""

import numpy as np

from backprop_lib.activations import relu_forward
from backprop_lib.layers import linear_forward
from backprop_lib.losses import softmax_cross_entropy_forward


def two_layer_net_forward(x, W1, b1, W2, b2, labels, reg):
    """The network's loss E for x (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).

    labels (N,) are integer classes in [0, C); reg >= 0 is the weight-decay
    strength (the biases are not decayed).

    Returns:
        (E, cache): E a float64 0-d array; cache = (linear1_cache, relu_cache,
        linear2_cache, loss_cache, (W1, W2, reg)), each stage's cache exactly as
        its own forward returned it (so you may call your own backwards with it).
    """
    z1, linear1_cache = linear_forward(x, W1, b1)
    h, relu_cache = relu_forward(z1)
    s, linear2_cache = linear_forward(h, W2, b2)
    data_loss, loss_cache = softmax_cross_entropy_forward(s, labels)
    W1, W2 = linear1_cache[1], linear2_cache[1]
    loss = data_loss + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))
    return np.asarray(loss, dtype=np.float64), (linear1_cache, relu_cache, linear2_cache, loss_cache, (W1, W2, reg))


def two_layer_net_backward(dout, cache):
    """Backward of the whole network: the gradient of E for every input of the forward.

    Stage by stage, from the loss back to x. Each weight matrix is used twice
    in the forward (in its layer and in the weight decay), so its gradient has
    two contributions. You may call your own backward functions
    (linear_backward, relu_backward, softmax_cross_entropy_backward) with the
    stage caches.

    Args:
        dout: upstream gradient of the scalar loss, shape () (1.0 when E is the output).
        cache: from two_layer_net_forward (see there).

    Returns:
        (dx, dW1, db1, dW2, db2) with the shapes of x, W1, b1, W2, b2, in that order.
    """
    raise NotImplementedError("two_layer_net_backward is not implemented yet: write it in backprop_lib/network.py")
