"""The hint ladder: three rungs per exercise, climbed one at a time on request.

    1  a nudge: which rule applies
    2  the local derivative (or the key fact)
    3  the formula

This file is the readable source of truth. ``python -m backprop_lib.kit.stubgen``
compiles it into ``backprop_lib/kit/hints.json`` (each rung zlib-compressed and
base64-encoded, so a release holds no readable formula); ``--check`` fails when
the two drift apart. Students open a rung with ``backprop_lib.hint(name)`` or
``backprop-kit hint NAME``.
"""

ENGINE_RULE = (
    "backward resets every node's grad to zeros of its value's shape, seeds the root with ones (or a float64 copy "
    "of the given grad), then visits nodes in reverse topological order and ADDS each gradient a parent receives "
    "with `parent.grad += g`; a node used twice receives the sum. Unlike PyTorch, which accumulates across "
    "backward() calls until zero_grad(), every call starts from zero."
)

HINTS = {
    "squared_error_factors": (
        "Chain rule: e depends on w1 only through h1, so de/dw1 = de/dh1 * dh1/dw1. Find the two factors separately.",
        "h1 = x . w1 is linear in w1, so dh1/dw1 is the vector x. For e = (y - h1)^2 the outer derivative is "
        "2 (y - h1), and the inner one, d(y - h1)/dh1, is -1.",
        "dh1_dw1 = x;  de_dh1 = -2 * (y - h1);  de_dw1 = de_dh1 * dh1_dw1.",
    ),
    "logistic_factors": (
        "Three links in the chain: e -> h2 -> h1 -> w1. Compute each local derivative at the given point, then "
        "multiply them.",
        "dh1/dw1 = x; the sigmoid's derivative can be written with its own output h2; d(-log h)/dh = -1/h.",
        "dh1_dw1 = x;  dh2_dh1 = h2 * (1 - h2);  de_dh2 = -1 / h2;  de_dw1 = de_dh2 * dh2_dh1 * dh1_dw1.",
    ),
    "add_backward": (
        "Upstream times local, for each input. What is d(a + b)/da? Broadcasting in the forward means summing "
        "in the backward.",
        "Both local gradients are 1: the add gate distributes dout unchanged to both inputs.",
        "return sum_to_shape(dout, a_shape), sum_to_shape(dout, b_shape)",
    ),
    "subtract_backward": (
        "Upstream times local, for each input. Mind the sign of the second input.",
        "d(a - b)/da = 1 and d(a - b)/db = -1.",
        "return sum_to_shape(dout, a_shape), sum_to_shape(-dout, b_shape)",
    ),
    "multiply_backward": (
        "Upstream times local, for each input. Hold b fixed and differentiate a * b with respect to a.",
        "d(a b)/da = b and d(a b)/db = a: the multiply gate switches its inputs.",
        "return sum_to_shape(dout * b, a.shape), sum_to_shape(dout * a, b.shape)",
    ),
    "reciprocal_backward": (
        "Upstream times local. Write 1/x as a power of x and use the power rule.",
        "d(1/x)/dx = d(x^-1)/dx = -x^-2.",
        "return (dout * (-1.0 / x**2),)",
    ),
    "add_constant_backward": (
        "Upstream times local. How does x + c change when x changes by a small h?",
        "The local gradient is 1: the gate passes dout on unchanged.",
        "return (dout,)",
    ),
    "scale_backward": (
        "Upstream times local. c is a constant number, not an input.",
        "d(c x)/dx = c.",
        "return (c * dout,)",
    ),
    "negate_backward": (
        "Upstream times local. -x is the scale gate with c = -1.",
        "d(-x)/dx = -1.",
        "return (-dout,)",
    ),
    "exp_backward": (
        "Upstream times local. The cache holds the forward's output; is that useful here?",
        "exp is its own derivative: d exp(x)/dx = exp(x), which is the cached out.",
        "return (dout * out,)",
    ),
    "log_backward": (
        "Upstream times local. What is the derivative of the natural logarithm?",
        "d ln(x)/dx = 1/x.",
        "return (dout / x,)",
    ),
    "power_backward": (
        "Upstream times local, with the power rule. Think about p = 0 too: x^0 is the constant 1.",
        "d(x^p)/dx = p x^(p-1), and for p = 0 the derivative is 0 everywhere (also at x = 0).",
        "if p == 0: return (np.zeros(np.shape(x)),);  otherwise return (dout * p * x ** (p - 1),)",
    ),
    "maximum_backward": (
        "Upstream times local. Away from a tie, max(a, b) is just the larger input; which input moves the output?",
        "The local gradient is 1 for the larger input and 0 for the other: the max gate routes. At a tie any "
        "shares that add up to 1 are valid; the course gives half to each.",
        "share_a = (a > b) + 0.5 * (a == b);  "
        "return sum_to_shape(dout * share_a, a.shape), sum_to_shape(dout * (1 - share_a), b.shape)",
    ),
    "sigmoid_backward": (
        "Upstream times local. The sigmoid's derivative has a neat form in terms of its own output.",
        "d sigma(x)/dx = sigma(x) (1 - sigma(x)), and the cache holds sigma(x) as out.",
        "_, out = cache;  return (dout * out * (1.0 - out),)",
    ),
    "relu_backward": (
        "Upstream times local, elementwise. ReLU is the identity for x > 0 and constant for x < 0.",
        "The local gradient is 1 where x > 0 and 0 where x < 0 (at exactly 0 any value in [0, 1]; the course "
        "uses 1/2). The mask comes from the forward input x.",
        "return (dout * ((x > 0) + 0.5 * (x == 0)),)",
    ),
    "linear_backward": (
        "Write one element, z_nk = sum_m x_nm W_mk + b_k, differentiate it, then sum over everything that "
        "element touches. Check every result against its input's shape.",
        "dz_nk/dx_nm = W_mk, dz_nk/dW_mk = x_nm, dz_nk/db_k = 1: dx sums over k, dW and db over the batch n.",
        "return dz @ W.T, x.T @ dz, sum_to_shape(dz, b.shape)   # (N, M), (M, K), b's shape",
    ),
    "mse_backward": (
        "Differentiate one term (pred_nk - target_nk)^2, then remember the 1/N of the mean and the upstream dout.",
        "dE/dpred_nk = (2/N) (pred_nk - target_nk), and the cache holds pred - target and N.",
        "return (dout * 2.0 * diff / n,)",
    ),
    "softmax_cross_entropy_backward": (
        "Work with one example first: E_n = -log p_y. Its gradient with respect to the scores s_c has one form "
        "for c = y and one for c != y.",
        "dE_n/ds_c = p_c - [c == y]; the batch mean divides by N. Copy probs before you change it.",
        "d = probs.copy();  d[np.arange(n), labels] -= 1.0;  return (dout * d / n,)",
    ),
    "topological_sort": (
        "Depth first: a node can be listed only after all its parents are listed. Keep a set of visited nodes so "
        "a fork is listed once.",
        "Recursion is the natural way to write it, but a graph deeper than Python's recursion limit (about 1000) "
        "breaks it: use an explicit stack of (node, parents_done) pairs.",
        "stack = [(root, False)]; pop: if parents_done, append the node; elif not visited, mark it, push "
        "(node, True), then push (parent, False) for each parent.",
    ),
    "backward": (
        "One sweep from the root back to the inputs, in reverse topological order, each node handing its "
        "gradient to its parents through its operation's backward.",
        "The rule: " + ENGINE_RULE,
        "order = topological_sort(root); for node in order: node.grad = np.zeros(node.value.shape); root.grad = "
        "ones (or a float64 copy of grad); for node in reversed(order): if node.operation: for parent, g in "
        "zip(node.parents, node.operation.backward(node.grad, node.cache)): parent.grad += g",
    ),
    "numerical_gradient": (
        "Nudge one element at a time, evaluate f on both sides, and turn the two values into a slope. Put the "
        "element back afterwards.",
        "A centered difference: (f(x + h e_i) - f(x - h e_i)) / (2 h) for each element i, error of order h^2.",
        "for index in np.ndindex(x.shape): save x[index]; x[index] = saved + h; above = f(x); x[index] = saved - h; "
        "below = f(x); x[index] = saved; grad[index] = (above - below) / (2 * h)",
    ),
    "relative_error": (
        "Compare the size of the difference with the size of the numbers, elementwise, and report the worst.",
        "|a - b| / max(|a|, |b|), taken as 0 where both are 0; the largest over all elements.",
        "scale = np.maximum(np.abs(a), np.abs(b)); ratio = np.divide(np.abs(a - b), scale, "
        "out=np.zeros(scale.shape), where=scale > 0); return float(np.max(ratio, initial=0.0))",
    ),
    "softmax_jacobian": (
        "Differentiate p_i = exp(s_i) / sum_j exp(s_j) with respect to s_j, once for j == i and once for j != i.",
        "dp_i/ds_j = p_i ([i == j] - p_j): a diagonal part and an outer product.",
        "return np.diag(p) - np.outer(p, p)",
    ),
    "softmax_backward": (
        "Row by row, ds = dout J with J the row's softmax Jacobian. Expand that product by hand instead of building J.",
        "dout J = dout * p - (dout . p) p for one row: one elementwise product and one dot product per row.",
        "return (p * (dout - np.sum(dout * p, axis=-1, keepdims=True)),)",
    ),
    "residual_backward": (
        "The block is a fork: h reaches the output directly (the skip) and through the ReLU layer. Backpropagate "
        "through each path with the library's own backwards, then add what reaches h.",
        "The skip path's local Jacobian is the identity, so it passes dout on; the other path is relu's backward "
        "then linear's backward.",
        "(dz,) = relu_backward(dout, relu_cache); dh, dW, db = linear_backward(dz, linear_cache); "
        "return dout + dh, dW, db",
    ),
    "two_layer_net_backward": (
        "Stage by stage from the loss back to the input, each stage's backward handing its input gradient to the "
        "stage before. The weight decay makes W1 and W2 forks: add its gradient to theirs.",
        "The stages in reverse: softmax cross-entropy, linear 2, ReLU, linear 1; the penalty's gradient with "
        "respect to W is the coefficient times W (times the upstream dout).",
        "(ds,) = softmax_cross_entropy_backward(dout, loss_cache); dh, dW2, db2 = linear_backward(ds, linear2_cache); "
        "(dz1,) = relu_backward(dh, relu_cache); dx, dW1, db1 = linear_backward(dz1, linear1_cache); "
        "return dx, dW1 + dout * reg * W1, db1, dW2 + dout * reg * W2, db2",
    ),
}
