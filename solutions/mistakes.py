"""A catalog of real mistakes: realistic wrong versions of the exercises.

Each ``Mistake`` replaces one function of the reference solution with a wrong
version a student could plausibly write. The tests (tests/test_mistakes.py)
show that every one fails the checks with exactly its ``diagnosis`` as the
hint and its ``kind`` as the diagnosis's name; the autograder plants them in
sample submissions.

    write_library(folder)                  # a complete, correct backprop_lib/
    write_library(folder, MISTAKES[0])     # the same with one mistake planted
"""

import ast
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import backprop_lib
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.exercises.diagnosis import NUMERICAL

LIBRARY_DIR = Path(backprop_lib.__file__).resolve().parent


@dataclass(frozen=True)
class Mistake:
    """One wrong implementation.

    Attributes:
        key: a short identifier, e.g. ``linear_dW_transposed``.
        module: the exercise file, ``backprop_lib/<module>.py``.
        function: the function it replaces.
        source: the complete wrong function definition.
        diagnosis: the exact hint the checks give for it (the mistake named, never the answer).
        kind: the name of that diagnosis, by which a class's mistakes are counted (``CheckResult.diagnosis``).
    """

    key: str
    module: str
    function: str
    source: str
    diagnosis: str
    kind: str | None = None

    @property
    def exercise(self):
        """The exercise this mistake fails."""
        return self.function

    @property
    def hint(self):
        """The diagnosis (the name older callers use)."""
        return self.diagnosis


def _mistake(key, module, kind, diagnosis, source):
    source = textwrap.dedent(source).strip() + "\n"
    function = ast.parse(source).body[0].name
    return Mistake(key, module, function, source, diagnosis, kind)


MISTAKES = (
    _mistake(
        "add_not_reduced",
        "gates",
        "not summed over the broadcast axes",
        (
            "db has shape (3, 4), but b has shape (4,): b was broadcast in the forward, so its gradient must "
            "be summed back over the broadcast axes to b's shape."
        ),
        """
        def add_backward(dout, cache):
            return dout, dout
    """,
    ),
    _mistake(
        "add_ignores_upstream",
        "gates",
        "ignored upstream gradient",
        (
            "da does not use the upstream gradient: it equals the local gradient alone (the answer for an "
            "upstream of all ones). The chain rule combines the upstream gradient dout with the local "
            "gradient."
        ),
        """
        def add_backward(dout, cache):
            a_shape, b_shape = cache
            return np.ones(a_shape), np.ones(b_shape)
    """,
    ),
    _mistake(
        "subtract_sign_of_b",
        "gates",
        "wrong sign",
        "db has the wrong sign: it is exactly the negative of the right gradient.",
        """
        def subtract_backward(dout, cache):
            a_shape, b_shape = cache
            return sum_to_shape(dout, a_shape), sum_to_shape(dout, b_shape)
    """,
    ),
    _mistake(
        "multiply_not_switched",
        "gates",
        "gradients swapped",
        "da and db are swapped: da holds the gradient of b, db the gradient of a.",
        """
        def multiply_backward(dout, cache):
            a, b = cache
            return sum_to_shape(dout * a, a.shape), sum_to_shape(dout * b, b.shape)
    """,
    ),
    _mistake(
        "reciprocal_ignores_upstream",
        "gates",
        "ignored upstream gradient",
        (
            "dx does not use the upstream gradient: it equals the local gradient alone (the answer for an "
            "upstream of all ones). The chain rule combines the upstream gradient dout with the local "
            "gradient."
        ),
        """
        def reciprocal_backward(dout, cache):
            x = cache
            return (-1.0 / x**2,)
    """,
    ),
    _mistake(
        "reciprocal_sign",
        "gates",
        "wrong sign",
        "dx has the wrong sign: it is exactly the negative of the right gradient.",
        """
        def reciprocal_backward(dout, cache):
            x = cache
            return (dout / x**2,)
    """,
    ),
    _mistake(
        "reciprocal_uses_output",
        "gates",
        "output used as the local gradient",
        "dx multiplies dout by 1/x, the forward's output: the local gradient is the derivative of 1/x",
        """
        def reciprocal_backward(dout, cache):
            x = cache
            return (dout / x,)
    """,
    ),
    _mistake(
        "exp_of_out_ignores_upstream",
        "gates",
        "exp applied to the cache",
        "dx applies exp to the cache, which already holds exp(x) (exp twice), and does not use dout",
        """
        def exp_backward(dout, cache):
            out = cache
            return (np.exp(out),)
    """,
    ),
    _mistake(
        "exp_upstream_twice",
        "gates",
        "upstream gradient used twice",
        "dx uses the upstream gradient twice (it matches the answer for dout times dout): use dout once.",
        """
        def exp_backward(dout, cache):
            out = cache
            return (dout * dout * out,)
    """,
    ),
    _mistake(
        "log_multiplies",
        "gates",
        "input used as the local gradient",
        "dx multiplies dout by x: that is not the local gradient of ln x",
        """
        def log_backward(dout, cache):
            x = cache
            return (dout * x,)
    """,
    ),
    _mistake(
        "power_missing_factor",
        "gates",
        "constant factor",
        "dx is 0.5 times the right value at every element: a constant factor is missing or extra.",
        """
        def power_backward(dout, cache):
            x, p = cache
            return (dout * x ** (p - 1),)
    """,
    ),
    _mistake(
        "power_nan_at_p0",
        "gates",
        "NaN at p = 0",
        (
            "for p = 0 the output x^0 is the constant 1, also at x = 0, so its gradient is 0 there; a "
            "formula that divides by x (or raises 0 to a negative power) gives NaN instead"
        ),
        """
        def power_backward(dout, cache):
            x, p = cache
            return (dout * p * x ** (p - 1.0),)
    """,
    ),
    _mistake(
        "negate_passes_upstream",
        "gates",
        "wrong sign",
        "dx has the wrong sign: it is exactly the negative of the right gradient.",
        """
        def negate_backward(dout, cache):
            return (dout,)
    """,
    ),
    _mistake(
        "maximum_ignores_upstream",
        "gates",
        "ignored upstream gradient",
        (
            "da does not use the upstream gradient: it equals the local gradient alone (the answer for an "
            "upstream of all ones). The chain rule combines the upstream gradient dout with the local "
            "gradient."
        ),
        """
        def maximum_backward(dout, cache):
            a, b = cache
            return a >= b, a < b
    """,
    ),
    _mistake(
        "maximum_both_at_tie",
        "gates",
        "tie not split exactly once",
        (
            "at a tie a = b your da and db do not add up to dout: between them they must pass on the "
            "upstream gradient exactly once (any split between a and b passes)"
        ),
        """
        def maximum_backward(dout, cache):
            a, b = cache
            return sum_to_shape(dout * (a >= b), a.shape), sum_to_shape(dout * (b >= a), b.shape)
    """,
    ),
    _mistake(
        "scale_unary_not_tuple",
        "gates",
        "not a tuple of gradients",
        "return one gradient per input, even for one input: return (dx,)",
        """
        def scale_backward(dout, cache):
            return cache * dout
    """,
    ),
    _mistake(
        "sigmoid_from_input",
        "activations",
        "derivative from the input, not sigma(x)",
        ("dx computes the local gradient from the input x, where the derivative needs sigma(x): the cache holds both"),
        """
        def sigmoid_backward(dout, cache):
            x, out = cache
            return (dout * x * (1.0 - x),)
    """,
    ),
    _mistake(
        "sigmoid_ignores_upstream",
        "activations",
        "ignored upstream gradient",
        (
            "dx does not use the upstream gradient: it equals the local gradient alone (the answer for an "
            "upstream of all ones). The chain rule combines the upstream gradient dout with the local "
            "gradient."
        ),
        """
        def sigmoid_backward(dout, cache):
            x, out = cache
            return (out * (1.0 - out),)
    """,
    ),
    _mistake(
        "sigmoid_numerical",
        "activations",
        NUMERICAL.name,
        NUMERICAL.message,
        """
        def sigmoid_backward(dout, cache):
            x, out = cache
            h = 1e-5
            above, _ = sigmoid_forward(x + h)
            below, _ = sigmoid_forward(x - h)
            return (dout * (above - below) / (2 * h),)
    """,
    ),
    _mistake(
        "relu_ignores_upstream",
        "activations",
        "ignored upstream gradient",
        (
            "dx does not use the upstream gradient: it equals the local gradient alone (the answer for an "
            "upstream of all ones). The chain rule combines the upstream gradient dout with the local "
            "gradient."
        ),
        """
        def relu_backward(dout, cache):
            x = cache
            return (x > 0,)
    """,
    ),
    _mistake(
        "relu_no_mask",
        "activations",
        "upstream passed on unchanged",
        ("dx is the upstream gradient dout passed on unchanged: the local gradient of this operation is missing."),
        """
        def relu_backward(dout, cache):
            return (dout,)
    """,
    ),
    _mistake(
        "relu_mask_from_dout",
        "activations",
        "mask from the upstream gradient",
        (
            "dx's mask follows the sign of dout: which elements pass depends on the forward's input x (the "
            "cache), not on the upstream gradient"
        ),
        """
        def relu_backward(dout, cache):
            return (dout * (dout > 0),)
    """,
    ),
    _mistake(
        "relu_dout_in_place",
        "activations",
        "upstream gradient changed in place",
        (
            "the right numbers, but dout was changed: the engine passes the same dout on to other nodes, so "
            "compute a new array instead of writing into dout"
        ),
        """
        def relu_backward(dout, cache):
            x = cache
            dout[x <= 0] = 0
            return (dout,)
    """,
    ),
    _mistake(
        "linear_dW_transposed",
        "layers",
        "transposed",
        (
            "dW has shape (3, 5), the transpose of W's shape (5, 3): transposed operands, or operands in the "
            "wrong order."
        ),
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return dz @ W.T, dz.T @ x, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "linear_dW_x_at_dz",
        "layers",
        "shape error in a matrix product",
        (
            "a shape error: write each array's shape beside it; a product (N, M) @ (M, K) needs equal inner "
            "sizes and gives (N, K), and every gradient has its input's shape"
        ),
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return dz @ W.T, x @ dz, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "linear_db_not_summed",
        "layers",
        "not summed over the broadcast axes",
        (
            "db has shape (4, 3), but b has shape (3,): b was broadcast in the forward, so its gradient must "
            "be summed back over the broadcast axes to b's shape."
        ),
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return dz @ W.T, x.T @ dz, dz
    """,
    ),
    _mistake(
        "linear_db_keepdims",
        "layers",
        "right numbers, wrong shape",
        "db has shape (1, 3), but b has shape (3,): the numbers are right, return them with b's shape.",
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return dz @ W.T, x.T @ dz, dz.sum(axis=0, keepdims=True)
    """,
    ),
    _mistake(
        "linear_db_mean",
        "layers",
        "averaged over the batch, not summed",
        "db averages dz over the batch: each example adds its own share, so the batch's shares add up",
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return dz @ W.T, x.T @ dz, dz.mean(axis=0)
    """,
    ),
    _mistake(
        "linear_wrong_order",
        "layers",
        "gradients in the wrong order",
        ("the gradients are in the wrong order: return (dx, dW, db), one per input, in the order of the inputs."),
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return x.T @ dz, dz @ W.T, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "linear_dx_not_transposed",
        "layers",
        "shape error in a matrix product",
        (
            "a shape error: write each array's shape beside it; a product (N, M) @ (M, K) needs equal inner "
            "sizes and gives (N, K), and every gradient has its input's shape"
        ),
        """
        def linear_backward(dz, cache):
            x, W, b = cache
            return dz @ W, x.T @ dz, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "linear_numerical_vjp",
        "layers",
        NUMERICAL.name,
        NUMERICAL.message,
        """
        def linear_backward(dz, cache):
            from backprop_lib.kit.gradcheck import numerical_vjp

            x, W, b = cache
            grads, _ = numerical_vjp(lambda x, W, b: x @ W + b, [x, W, b], dz)
            return tuple(grads)
    """,
    ),
    _mistake(
        "mse_missing_mean",
        "losses",
        "constant factor",
        "dpred is 4 times the right value at every element: a constant factor is missing or extra.",
        """
        def mse_backward(dout, cache):
            diff, n = cache
            return (dout * 2.0 * diff,)
    """,
    ),
    _mistake(
        "mse_missing_two",
        "losses",
        "constant factor",
        "dpred is 0.5 times the right value at every element: a constant factor is missing or extra.",
        """
        def mse_backward(dout, cache):
            diff, n = cache
            return (dout * diff / n,)
    """,
    ),
    _mistake(
        "mse_ignores_upstream",
        "losses",
        "ignored upstream gradient",
        (
            "dpred does not use the upstream gradient: it equals the local gradient alone (the answer for an "
            "upstream of all ones). The chain rule combines the upstream gradient dout with the local "
            "gradient."
        ),
        """
        def mse_backward(dout, cache):
            diff, n = cache
            return (2.0 * diff / n,)
    """,
    ),
    _mistake(
        "softmax_no_onehot",
        "losses",
        "labels ignored",
        "dlogits does not depend on the labels: the true class of each example must change its row",
        """
        def softmax_cross_entropy_backward(dout, cache):
            probs, labels = cache
            return (dout * probs / probs.shape[0],)
    """,
    ),
    _mistake(
        "softmax_changes_cache",
        "losses",
        "cache changed in place",
        "backward changed its cache in place: read the cache, write your results into new arrays",
        """
        def softmax_cross_entropy_backward(dout, cache):
            probs, labels = cache
            n = probs.shape[0]
            probs[np.arange(n), labels] -= 1.0
            return (dout * probs / n,)
    """,
    ),
    _mistake(
        "topological_sort_no_visited",
        "graph",
        "no visited set",
        "keep a set of visited nodes",
        """
        def topological_sort(root):
            order, stack = [], [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    order.append(node)
                else:
                    stack.append((node, True))
                    stack.extend((parent, False) for parent in node.parents)
            return order
    """,
    ),
    _mistake(
        "topological_sort_recursive",
        "graph",
        "recursion too deep",
        (
            "the code calls itself once per node, and the graph is deeper than Python's recursion limit "
            "(about 1000 calls): walk it with an explicit stack (a list you push to and pop from) instead"
        ),
        """
        def topological_sort(root):
            order, visited = [], set()

            def visit(node):
                if node in visited:
                    return
                visited.add(node)
                for parent in node.parents:
                    visit(parent)
                order.append(node)

            visit(root)
            return order
    """,
    ),
    _mistake(
        "topological_sort_root_first",
        "graph",
        "root not last",
        "parents come before children, so the root, which depends on everything, is last",
        """
        def topological_sort(root):
            order, seen, stack = [], set(), [root]
            while stack:
                node = stack.pop()
                if node not in seen:
                    seen.add(node)
                    order.append(node)
                    stack.extend(node.parents)
            return order
    """,
    ),
    _mistake(
        "backward_overwrites_at_fork",
        "graph",
        "gradients not summed at a fork",
        "a node used twice must receive the SUM of its gradients: yours keeps only the last one it received",
        """
        def backward(root, grad=None):
            order = topological_sort(root)
            for node in order:
                node.grad = np.zeros(node.value.shape)
            root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
            for node in reversed(order):
                if node.operation is None:
                    continue
                for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache)):
                    parent.grad = parent_grad
    """,
    ),
    _mistake(
        "backward_forward_order",
        "graph",
        "visited in forward order",
        (
            "nodes were visited parents first: a node must pass its gradient on only after every gradient it "
            "receives has arrived (reverse topological order)"
        ),
        """
        def backward(root, grad=None):
            order = topological_sort(root)
            for node in order:
                node.grad = np.zeros(node.value.shape)
            root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
            for node in order:
                if node.operation is None:
                    continue
                for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache)):
                    parent.grad += parent_grad
    """,
    ),
    _mistake(
        "backward_no_reset",
        "graph",
        "gradients carried over between calls",
        (
            "gradients carried over from the first call: every call must start from zero (reset every node's "
            "grad before the sweep, then seed the root)"
        ),
        """
        def backward(root, grad=None):
            order = topological_sort(root)
            for node in order:
                if node.grad is None:
                    node.grad = np.zeros(node.value.shape)
            root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
            for node in reversed(order):
                if node.operation is None:
                    continue
                for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache)):
                    parent.grad += parent_grad
    """,
    ),
    _mistake(
        "backward_stores_then_adds_in_place",
        "graph",
        "received gradient changed in place",
        (
            "a gradient array the engine received was changed in place: the first gradient a node receives "
            "was stored as it is (an array a gate may share with other nodes) and later ones added into it "
            "with +=; add into arrays the engine owns (zeros made in the reset)"
        ),
        """
        def backward(root, grad=None):
            order = topological_sort(root)
            for node in order:
                node.grad = None
            root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
            for node in reversed(order):
                if node.operation is None:
                    continue
                for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache)):
                    if parent.grad is None:
                        parent.grad = parent_grad
                    else:
                        parent.grad += parent_grad
    """,
    ),
    _mistake(
        "backward_no_seed",
        "graph",
        "root not seeded",
        "every gradient is 0: the root needs its seed dE/dE = 1 before the sweep passes it back",
        """
        def backward(root, grad=None):
            order = topological_sort(root)
            for node in order:
                node.grad = np.zeros(node.value.shape)
            for node in reversed(order):
                if node.operation is None:
                    continue
                for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache)):
                    parent.grad += parent_grad
    """,
    ),
    _mistake(
        "squared_error_sign",
        "derivations",
        "wrong sign",
        "de/dh1 has the wrong sign: it is exactly the negative of the right gradient.",
        """
        def squared_error_factors(x, w1, y):
            h1 = np.asarray(x) @ np.asarray(w1)
            de_dh1 = 2.0 * (y - h1)
            return np.asarray(x), de_dh1, de_dh1 * np.asarray(x)
    """,
    ),
    _mistake(
        "numerical_gradient_one_sided",
        "gradient_check",
        "one-sided difference",
        (
            "a one-sided difference: f is evaluated on one side of x only, so the estimate's error shrinks only "
            "like h; the contract asks for a centered difference"
        ),
        """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros(x.shape)
            base = f(x)
            for index in np.ndindex(x.shape):
                saved = x[index]
                x[index] = saved + h
                grad[index] = (f(x) - base) / h
                x[index] = saved
            return grad
    """,
    ),
    _mistake(
        "numerical_gradient_divides_by_h",
        "gradient_check",
        "divided by h, not 2h",
        (
            "the estimate is twice the slope: the difference of f at the two points is divided by half the "
            "distance between them"
        ),
        """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros(x.shape)
            for index in np.ndindex(x.shape):
                saved = x[index]
                x[index] = saved + h
                above = f(x)
                x[index] = saved - h
                below = f(x)
                x[index] = saved
                grad[index] = (above - below) / h
            return grad
    """,
    ),
    _mistake(
        "numerical_gradient_x_not_restored",
        "gradient_check",
        "x not restored",
        "x is not restored: a nudged element keeps its changed value after its evaluations of f",
        """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros(x.shape)
            for index in np.ndindex(x.shape):
                x[index] += h
                above = f(x)
                x[index] -= 2 * h
                below = f(x)
                grad[index] = (above - below) / (2 * h)
            return grad
    """,
    ),
    _mistake(
        "numerical_gradient_all_at_once",
        "gradient_check",
        "every element nudged at once",
        (
            "every element was nudged at once, which measures the slope along (1, 1, ..., 1): nudge one element "
            "at a time, all others unchanged"
        ),
        """
        def numerical_gradient(f, x, h=1e-5):
            return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
    """,
    ),
    _mistake(
        "numerical_gradient_first_axis_only",
        "gradient_check",
        "only the first axis iterated",
        (
            "only the first axis is iterated, so x[i] nudges a whole row of a 2-D x: visit every element, for "
            "example with np.ndindex(x.shape)"
        ),
        """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros(x.shape)
            for i in range(len(x)) if x.ndim else [()]:
                saved = x[i].copy()
                x[i] = saved + h
                above = f(x)
                x[i] = saved - h
                below = f(x)
                x[i] = saved
                grad[i] = (above - below) / (2 * h)
            return grad
    """,
    ),
    _mistake(
        "relative_error_sum_denominator",
        "gradient_check",
        "scaled by the sum of the sizes",
        "the difference is divided by |a| + |b|, the sum of the sizes, instead of the larger of |a| and |b|",
        """
        def relative_error(a, b):
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            scale = np.abs(a) + np.abs(b)
            return float(np.max(np.divide(np.abs(a - b), scale, out=np.zeros(scale.shape), where=scale > 0)))
    """,
    ),
    _mistake(
        "relative_error_zero_over_zero",
        "gradient_check",
        "0 / 0 where both are 0",
        "0 / 0 where a and b are both 0: the contract defines the error there as 0",
        """
        def relative_error(a, b):
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            with np.errstate(invalid="ignore"):
                return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))))
    """,
    ),
    _mistake(
        "relative_error_mean",
        "gradient_check",
        "errors averaged",
        "the elementwise errors are averaged: an average hides the one element that is wrong, the largest shows it",
        """
        def relative_error(a, b):
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            scale = np.maximum(np.abs(a), np.abs(b))
            return float(np.mean(np.divide(np.abs(a - b), scale, out=np.zeros(scale.shape), where=scale > 0)))
    """,
    ),
    _mistake(
        "softmax_jacobian_no_diagonal",
        "activations",
        "diagonal term missing",
        "the diagonal part is missing: dp_i/ds_i has a term of its own",
        """
        def softmax_jacobian(p):
            return -np.outer(p, p)
    """,
    ),
    _mistake(
        "softmax_jacobian_diagonal_only",
        "activations",
        "off-diagonal entries missing",
        "an output p_i also moves when another score s_j moves: the off-diagonal entries are not 0",
        """
        def softmax_jacobian(p):
            return np.diag(p * (1 - p))
    """,
    ),
    _mistake(
        "softmax_backward_builds_jacobians",
        "activations",
        "builds a (K, K) Jacobian",
        (
            "the backward builds a (K, K) Jacobian: dout times the Jacobian, multiplied out on paper one row at "
            "a time, needs only p, dout and one number per row"
        ),
        """
        def softmax_backward(dout, cache):
            return (np.stack([d @ (np.diag(p) - np.outer(p, p)) for d, p in zip(dout, cache)]),)
    """,
    ),
    _mistake(
        "softmax_backward_elementwise",
        "activations",
        "treated as elementwise",
        (
            "softmax is not elementwise: every p_k depends on every score of its row, so the off-diagonal "
            "entries of the Jacobian contribute too"
        ),
        """
        def softmax_backward(dout, cache):
            return (dout * cache * (1 - cache),)
    """,
    ),
    _mistake(
        "softmax_backward_sums_the_batch",
        "activations",
        "summed over the whole batch",
        (
            "each row has its own Jacobian: sum over the classes of each row (axis=-1, keepdims=True), not over "
            "the whole batch"
        ),
        """
        def softmax_backward(dout, cache):
            p = cache
            return (p * (dout - np.sum(dout * p)),)
    """,
    ),
    _mistake(
        "residual_no_skip",
        "layers",
        "skip connection missing",
        (
            "dh misses the skip connection: h reaches out directly (out = h + ...) as well as through the "
            "branch, and the two contributions add"
        ),
        """
        def residual_backward(dout, cache):
            linear_cache, relu_cache = cache
            (dz,) = relu_backward(dout, relu_cache)
            return linear_backward(dz, linear_cache)
    """,
    ),
    _mistake(
        "residual_no_mask",
        "layers",
        "upstream passed on unchanged",
        "db is the upstream gradient dout passed on unchanged: the local gradient of this operation is missing.",
        """
        def residual_backward(dout, cache):
            linear_cache, _ = cache
            dh, dW, db = linear_backward(dout, linear_cache)
            return dout + dh, dW, db
    """,
    ),
    _mistake(
        "net_no_weight_decay",
        "network",
        "weight decay missing",
        (
            "the weight decay is missing: W1 and W2 are each used twice in the forward (in their layer and in "
            "(reg/2) sum W^2), so each gradient has two contributions that add"
        ),
        """
        def two_layer_net_backward(dout, cache):
            linear1_cache, relu_cache, linear2_cache, loss_cache, _ = cache
            (ds,) = softmax_cross_entropy_backward(dout, loss_cache)
            dh, dW2, db2 = linear_backward(ds, linear2_cache)
            (dz1,) = relu_backward(dh, relu_cache)
            dx, dW1, db1 = linear_backward(dz1, linear1_cache)
            return dx, dW1, db1, dW2, db2
    """,
    ),
    _mistake(
        "net_decay_twice",
        "network",
        "weight decay counted twice",
        "the weight decay's gradient is twice too large: the 1/2 of (reg/2) sum W^2 cancels the 2 of the square",
        """
        def two_layer_net_backward(dout, cache):
            linear1_cache, relu_cache, linear2_cache, loss_cache, (W1, W2, reg) = cache
            (ds,) = softmax_cross_entropy_backward(dout, loss_cache)
            dh, dW2, db2 = linear_backward(ds, linear2_cache)
            (dz1,) = relu_backward(dh, relu_cache)
            dx, dW1, db1 = linear_backward(dz1, linear1_cache)
            return dx, dW1 + 2 * reg * W1 * dout, db1, dW2 + 2 * reg * W2 * dout, db2
    """,
    ),
    _mistake(
        "net_decay_only_at_W2",
        "network",
        "weight decay missing at one layer",
        "the weight decay reaches dW2 but not dW1: W1 is decayed too",
        """
        def two_layer_net_backward(dout, cache):
            linear1_cache, relu_cache, linear2_cache, loss_cache, (W1, W2, reg) = cache
            (ds,) = softmax_cross_entropy_backward(dout, loss_cache)
            dh, dW2, db2 = linear_backward(ds, linear2_cache)
            (dz1,) = relu_backward(dh, relu_cache)
            dx, dW1, db1 = linear_backward(dz1, linear1_cache)
            return dx, dW1, db1, dW2 + dout * reg * W2, db2
    """,
    ),
    _mistake(
        "net_no_batch_mean",
        "network",
        "batch mean missing",
        "the 1/N of the batch mean is missing from the loss's gradient",
        """
        def two_layer_net_backward(dout, cache):
            linear1_cache, relu_cache, linear2_cache, (probs, labels), (W1, W2, reg) = cache
            ds = probs.copy()
            ds[np.arange(len(labels)), labels] -= 1.0
            dh, dW2, db2 = linear_backward(dout * ds, linear2_cache)
            (dz1,) = relu_backward(dh, relu_cache)
            dx, dW1, db1 = linear_backward(dz1, linear1_cache)
            return dx, dW1 + dout * reg * W1, db1, dW2 + dout * reg * W2, db2
    """,
    ),
)


ENGINE = {"topological_sort", "backward"}
"""A wrong topological_sort also fails backward."""
CALLS = {
    "residual_backward": {"linear_backward", "relu_backward"},
    "two_layer_net_backward": {"linear_backward", "relu_backward", "softmax_cross_entropy_backward"},
}
"""The composite exercises' reference solutions call the library's own backwards."""


def can_share(mistake, group):
    """True when ``mistake`` planted beside the mistakes of ``group`` still fails with its own diagnosis, and they
    with theirs: no two in one function, one engine function at a time, none in a function another one calls."""
    functions = {m.function for m in group}
    called = set().union(*(CALLS.get(f, set()) for f in functions))
    return not (
        mistake.function in functions | called
        or CALLS.get(mistake.function, set()) & functions
        or (mistake.function in ENGINE and ENGINE & functions)
    )


def write_library(folder, *mistakes):
    """Write ``folder/backprop_lib``: the library with the reference solutions and the given mistakes planted."""
    target = Path(folder) / "backprop_lib"
    shutil.copytree(LIBRARY_DIR, target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    for module in EXERCISE_MODULES:
        shutil.copyfile(SOLUTIONS_DIR / f"{module}.py", target / f"{module}.py")
    for mistake in mistakes:
        path = target / f"{mistake.module}.py"
        path.write_text(plant(path.read_text(), mistake))
    return target


def plant(source, mistake):
    """``source`` with the definition of ``mistake.function`` replaced by the mistake's."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == mistake.function)
    lines = source.splitlines(keepends=True)
    return "".join(lines[: node.lineno - 1]) + mistake.source + "".join(lines[node.end_lineno :])
