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
        "Change one element of x at a time, a small step up and a small step down, and watch how f changes. "
        "Every other element stays as it is, and x must end as it began.",
        "The centered difference (f(x + h e_i) - f(x - h e_i)) / (2h) is accurate to order h^2; a one-sided one "
        "only to order h. Save x[i] before you change it and put it back after both evaluations.",
        "grad = np.zeros(x.shape); for i in np.ndindex(x.shape): saved = x[i]; x[i] = saved + h; up = f(x); "
        "x[i] = saved - h; down = f(x); x[i] = saved; grad[i] = (up - down) / (2 * h); return grad",
    ),
    "relative_error": (
        "An absolute difference of 1e-6 means little for numbers near 1e3 and a lot for numbers near 1e-6: "
        "divide by the size of the numbers you compare, element by element.",
        "The scale of an element is the larger of |a| and |b| (so the error is symmetric); where both are 0 the "
        "error is 0, not 0/0. One wrong element must show: report the largest error, not an average.",
        "scale = np.maximum(np.abs(a), np.abs(b)); ratio = np.divide(np.abs(a - b), scale, "
        "out=np.zeros(scale.shape), where=scale > 0); return float(np.max(ratio, initial=0.0))",
    ),
    "softmax_jacobian": (
        "Write p_i = exp(s_i) / sum_k exp(s_k) and differentiate it with respect to s_j twice: once for j = i "
        "(the numerator moves too) and once for j != i (only the denominator moves).",
        "dp_i/ds_j = p_i ([i == j] - p_j): a diagonal part and an outer product of p with itself.",
        "p = np.asarray(p, dtype=np.float64); return np.diag(p) - np.outer(p, p)",
    ),
    "softmax_backward": (
        "Row by row: ds = dout J for that row's Jacobian. Multiply it out on paper, one entry ds_j at a time, "
        "before you write any code; no (K, K) matrix is needed.",
        "With J = diag(p) - p p^T, entry j of dout J is p_j (dout_j - sum_i dout_i p_i): each row needs one "
        "number, the sum of dout * p over that row.",
        "p = cache; return (p * (dout - np.sum(dout * p, axis=-1, keepdims=True)),)",
    ),
    "residual_backward": (
        "out = h + relu(z) with z = h W + b: h reaches out along two paths, the skip and the branch. Gradients "
        "along the two paths add. You have written the branch's pieces already.",
        "The skip passes dout on unchanged; the branch is relu_backward then linear_backward, with the caches "
        "the forward stored (relu_cache = z, linear_cache = (h, W, b)).",
        "linear_cache, relu_cache = cache; (dz,) = relu_backward(dout, relu_cache); dh, dW, db = "
        "linear_backward(dz, linear_cache); return dout + dh, dW, db",
    ),
    "two_layer_net_backward": (
        "Go backwards stage by stage: loss, second linear layer, ReLU, first linear layer, each with its own "
        "backward and its own cache. Then look for the inputs used more than once in the forward.",
        "W1 and W2 each appear twice in E: in their layer and in the weight decay (reg / 2) sum W^2, whose "
        "gradient is reg W. The two contributions add, and both are scaled by dout.",
        "(ds,) = softmax_cross_entropy_backward(dout, loss_cache); dh, dW2, db2 = linear_backward(ds, "
        "linear2_cache); (dz1,) = relu_backward(dh, relu_cache); dx, dW1, db1 = linear_backward(dz1, "
        "linear1_cache); return dx, dW1 + dout * reg * W1, db1, dW2 + dout * reg * W2, db2",
    ),
}
