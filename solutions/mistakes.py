"""A catalog of real mistakes: realistic wrong versions of the exercises.

Each ``Mistake`` replaces one function of the reference solution with a wrong
version a student could plausibly write. The tests (tests/test_mistakes.py)
show that every one fails the checks and, where ``hint`` is given, gets a hint
containing that text; the autograder plants them in sample submissions.

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

LIBRARY_DIR = Path(backprop_lib.__file__).resolve().parent


@dataclass(frozen=True)
class Mistake:
    """One wrong implementation.

    Attributes:
        key: a short identifier, e.g. ``linear_dW_transposed``.
        module: the exercise file, ``backprop_lib/<module>.py``.
        function: the function it replaces.
        source: the complete wrong function definition.
        hint: text the checker's hint must contain, or None when no hint fits.
    """

    key: str
    module: str
    function: str
    source: str
    hint: str | None

    @property
    def exercise(self):
        """The exercise this mistake fails."""
        return self.function


def _mistake(key, module, hint, source):
    source = textwrap.dedent(source).strip() + "\n"
    function = ast.parse(source).body[0].name
    return Mistake(key, module, function, source, hint)


MISTAKES = (
    _mistake(
        "add_not_reduced",
        "gates",
        "sum it over the broadcast axes",
        """
        def add_backward(dout, cache):
            return dout, dout
    """,
    ),
    _mistake(
        "subtract_sign_of_b",
        "gates",
        "d(a - b)/db = -1",
        """
        def subtract_backward(dout, cache):
            a_shape, b_shape = cache
            return sum_to_shape(dout, a_shape), sum_to_shape(dout, b_shape)
    """,
    ),
    _mistake(
        "multiply_not_switched",
        "gates",
        "the multiply gate switches",
        """
        def multiply_backward(dout, cache):
            a, b = cache
            return sum_to_shape(dout * a, a.shape), sum_to_shape(dout * b, b.shape)
    """,
    ),
    _mistake(
        "reciprocal_sign",
        "gates",
        "sign error",
        """
        def reciprocal_backward(dout, cache):
            x = cache
            return (dout / x**2,)
    """,
    ),
    _mistake(
        "log_multiplies",
        "gates",
        "divide dout by x",
        """
        def log_backward(dout, cache):
            x = cache
            return (dout * x,)
    """,
    ),
    _mistake(
        "power_missing_factor",
        "gates",
        "the factor p is missing",
        """
        def power_backward(dout, cache):
            x, p = cache
            return (dout * x ** (p - 1),)
    """,
    ),
    _mistake(
        "maximum_both_at_tie",
        "gates",
        "at a tie",
        """
        def maximum_backward(dout, cache):
            a, b = cache
            return sum_to_shape(dout * (a >= b), a.shape), sum_to_shape(dout * (b >= a), b.shape)
    """,
    ),
    _mistake(
        "scale_unary_not_tuple",
        "gates",
        "return (dx,)",
        """
        def scale_backward(dout, cache):
            return cache * dout
    """,
    ),
    _mistake(
        "sigmoid_from_input",
        "activations",
        "not the input x",
        """
        def sigmoid_backward(dout, cache):
            x, out = cache
            return (dout * x * (1.0 - x),)
    """,
    ),
    _mistake(
        "relu_no_mask",
        "activations",
        "only where x > 0",
        """
        def relu_backward(dout, cache):
            return (dout,)
    """,
    ),
    _mistake(
        "relu_mask_from_dout",
        "activations",
        "not from dout",
        """
        def relu_backward(dout, cache):
            return (dout * (dout > 0),)
    """,
    ),
    _mistake(
        "relu_mask_at_zero",
        "activations",
        "at exactly x = 0",
        """
        def relu_backward(dout, cache):
            x = cache
            return (dout * (x >= 0),)
    """,
    ),
    _mistake(
        "relu_dout_in_place",
        "activations",
        "instead of changing dout",
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
        "dW looks transposed",
        """
        def linear_backward(dz, cache):
            x, W = cache
            return dz @ W.T, dz.T @ x, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "linear_db_not_summed",
        "layers",
        "db must be summed",
        """
        def linear_backward(dz, cache):
            x, W = cache
            return dz @ W.T, x.T @ dz, dz
    """,
    ),
    _mistake(
        "linear_db_keepdims",
        "layers",
        "(1, K)",
        """
        def linear_backward(dz, cache):
            x, W = cache
            return dz @ W.T, x.T @ dz, dz.sum(axis=0, keepdims=True)
    """,
    ),
    _mistake(
        "linear_wrong_order",
        "layers",
        "(dx, dW, db)",
        """
        def linear_backward(dz, cache):
            x, W = cache
            return x.T @ dz, dz @ W.T, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "linear_dx_not_transposed",
        "layers",
        "check dimensions",
        """
        def linear_backward(dz, cache):
            x, W = cache
            return dz @ W, x.T @ dz, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "mse_missing_mean",
        "losses",
        "1/N",
        """
        def mse_backward(dout, cache):
            diff, n = cache
            return (dout * 2.0 * diff,)
    """,
    ),
    _mistake(
        "mse_missing_two",
        "losses",
        "factor 2",
        """
        def mse_backward(dout, cache):
            diff, n = cache
            return (dout * diff / n,)
    """,
    ),
    _mistake(
        "softmax_no_onehot",
        "losses",
        "subtract 1",
        """
        def softmax_cross_entropy_backward(dout, cache):
            probs, labels = cache
            return (dout * probs / probs.shape[0],)
    """,
    ),
    _mistake(
        "softmax_changes_cache",
        "losses",
        "must not change its cache",
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
        "visited",
        """
        def topological_sort(root):
            order = []

            def visit(node):
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
        "the root, which depends on everything, is last",
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
        "SUM of its gradients",
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
                    parent.grad = parent_grad
    """,
    ),
    _mistake(
        "backward_forward_order",
        "graph",
        "REVERSE topological order",
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
                    parent.grad = parent.grad + parent_grad
    """,
    ),
    _mistake(
        "backward_no_reset",
        "graph",
        "zeros before the sweep",
        """
        def backward(root, grad=None):
            order = topological_sort(root)
            root.grad = np.ones(root.value.shape) if grad is None else np.array(grad, dtype=np.float64)
            for node in reversed(order):
                if node.operation is None:
                    continue
                for parent, parent_grad in zip(node.parents, node.operation.backward(node.grad, node.cache)):
                    parent.grad = parent_grad if parent.grad is None else parent.grad + parent_grad
    """,
    ),
    _mistake(
        "squared_error_sign",
        "derivations",
        "-1 times the right value",
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
        "a one-sided difference",
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
        "divide their difference by 2h",
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
        "put the saved value back",
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
        "every element was nudged at once",
        """
        def numerical_gradient(f, x, h=1e-5):
            return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
    """,
    ),
    _mistake(
        "numerical_gradient_first_axis_only",
        "gradient_check",
        "only the first axis is iterated",
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
        "not |a| + |b|",
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
        "define the error as 0 where both are 0",
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
        "an average hides",
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
        "the diagonal part is missing",
        """
        def softmax_jacobian(p):
            return -np.outer(p, p)
    """,
    ),
    _mistake(
        "softmax_jacobian_diagonal_only",
        "activations",
        "the off-diagonal entries are not 0",
        """
        def softmax_jacobian(p):
            return np.diag(p * (1 - p))
    """,
    ),
    _mistake(
        "softmax_backward_builds_jacobians",
        "activations",
        "one number per row",
        """
        def softmax_backward(dout, cache):
            return (np.stack([d @ (np.diag(row) - np.outer(row, row)) for d, row in zip(dout, cache)]),)
    """,
    ),
    _mistake(
        "softmax_backward_elementwise",
        "activations",
        "softmax is not elementwise",
        """
        def softmax_backward(dout, cache):
            return (dout * cache * (1 - cache),)
    """,
    ),
    _mistake(
        "softmax_backward_sums_the_batch",
        "activations",
        "each row has its own Jacobian",
        """
        def softmax_backward(dout, cache):
            p = cache
            return (p * (dout - np.sum(dout * p)),)
    """,
    ),
    _mistake(
        "residual_no_skip",
        "layers",
        "misses the skip connection",
        """
        def residual_backward(dout, cache):
            (h, W), z = cache
            dz = dout * (z > 0)
            return dz @ W.T, h.T @ dz, dz.sum(axis=0)
    """,
    ),
    _mistake(
        "residual_no_mask",
        "layers",
        "the ReLU mask is missing",
        """
        def residual_backward(dout, cache):
            (h, W), z = cache
            return dout + dout @ W.T, h.T @ dout, dout.sum(axis=0)
    """,
    ),
    _mistake(
        "net_no_weight_decay",
        "network",
        "the weight decay is missing",
        """
        def two_layer_net_backward(dout, cache):
            (x, W1), z1, (h, W2), (probs, labels), _ = cache
            ds = probs.copy()
            ds[np.arange(len(labels)), labels] -= 1.0
            ds *= dout / len(labels)
            dz1 = (ds @ W2.T) * (z1 > 0)
            return dz1 @ W1.T, x.T @ dz1, dz1.sum(axis=0), h.T @ ds, ds.sum(axis=0)
    """,
    ),
    _mistake(
        "net_decay_twice",
        "network",
        "twice too large",
        """
        def two_layer_net_backward(dout, cache):
            (x, W1), z1, (h, W2), (probs, labels), (_, _, reg) = cache
            ds = probs.copy()
            ds[np.arange(len(labels)), labels] -= 1.0
            ds *= dout / len(labels)
            dz1 = (ds @ W2.T) * (z1 > 0)
            dW1, dW2 = x.T @ dz1 + 2 * reg * W1 * dout, h.T @ ds + 2 * reg * W2 * dout
            return dz1 @ W1.T, dW1, dz1.sum(axis=0), dW2, ds.sum(axis=0)
    """,
    ),
    _mistake(
        "net_decay_only_at_W2",
        "network",
        "reaches dW2 but not dW1",
        """
        def two_layer_net_backward(dout, cache):
            (x, W1), z1, (h, W2), (probs, labels), (_, _, reg) = cache
            ds = probs.copy()
            ds[np.arange(len(labels)), labels] -= 1.0
            ds *= dout / len(labels)
            dz1 = (ds @ W2.T) * (z1 > 0)
            return dz1 @ W1.T, x.T @ dz1, dz1.sum(axis=0), h.T @ ds + dout * reg * W2, ds.sum(axis=0)
    """,
    ),
    _mistake(
        "net_no_batch_mean",
        "network",
        "1/N of the batch mean",
        """
        def two_layer_net_backward(dout, cache):
            (x, W1), z1, (h, W2), (probs, labels), (_, _, reg) = cache
            ds = probs.copy()
            ds[np.arange(len(labels)), labels] -= 1.0
            ds *= dout
            dz1 = (ds @ W2.T) * (z1 > 0)
            dW1, dW2 = x.T @ dz1 + dout * reg * W1, h.T @ ds + dout * reg * W2
            return dz1 @ W1.T, dW1, dz1.sum(axis=0), dW2, ds.sum(axis=0)
    """,
    ),
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
