"""Checks for the student's gradient checker (backprop_lib/gradient_check.py, notebook 1).

``numerical_gradient`` is run on the checker's own test function
    f(x) = sum(a * sin(x)) + sum(q * x^3) / 3 + (sum(c * x))^2 / 2,
whose exact gradient a cos(x) + q x^2 + c sum(c * x) the checker knows, so the
student's estimate is compared with the truth, not with another estimate.
With h = 1e-5 a centered difference is within about 1e-10 of it; a one-sided
difference is off by about h/2 times the curvature, 1e-6 here, which the
tolerance catches. ``relative_error`` is compared with its definition.
"""

import numpy as np

from backprop_lib.kit.exercises.base import Case
from backprop_lib.kit.gradcheck import close
from backprop_lib.kit.results import FAILED, PASSED, CheckResult, Diagnosis

STEP = 1e-5
RTOL, ATOL = 1e-8, 1e-8


def checker_function(x, a, q, c):
    """The checker's scalar test function of x (see the module docstring)."""
    return float(np.sum(a * np.sin(x)) + np.sum(q * x**3) / 3 + np.sum(c * x) ** 2 / 2)


def exact_gradient(x, a, q, c):
    return a * np.cos(x) + q * x**2 + c * np.sum(c * x)


def _one_sided(f, x):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        up = x.copy()
        up[index] += STEP
        grad[index] = (f(up) - f(x)) / STEP
    return grad


def _all_at_once(f, x):
    return np.full(x.shape, (f(x + STEP) - f(x - STEP)) / (2 * STEP))


def _by_first_axis(f, x):
    """What ``for i in range(len(x)): x[i] += h ...`` gives: row i nudged as a whole."""
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        step = np.zeros(x.shape)
        step[i] = STEP
        grad[i] = (f(x + step) - f(x - step)) / (2 * STEP)
    return grad


GRADIENT_MISTAKES = (
    (
        Diagnosis(
            "one-sided difference",
            "a one-sided difference: f is evaluated on one side of x only, so the estimate's error shrinks only "
            "like h; the contract asks for a centered difference",
        ),
        _one_sided,
    ),
    (
        Diagnosis(
            "divided by h, not 2h",
            "the estimate is twice the slope: the difference of f at the two points is divided by half the distance "
            "between them",
        ),
        lambda f, x: 2 * exact_like(f, x),
    ),
    (
        Diagnosis(
            "every element nudged at once",
            "every element was nudged at once, which measures the slope along (1, 1, ..., 1): "
            "nudge one element at a time, all others unchanged",
        ),
        _all_at_once,
    ),
    (
        Diagnosis(
            "only the first axis iterated",
            "only the first axis is iterated, so x[i] nudges a whole row of a 2-D x: "
            "visit every element, for example with np.ndindex(x.shape)",
        ),
        lambda f, x: _by_first_axis(f, x) if x.ndim > 1 else None,
    ),
)


def exact_like(f, x):
    """The centered difference the student should have computed (differs from the exact gradient by ~1e-10)."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += STEP
        down[index] -= STEP
        grad[index] = (f(up) - f(down)) / (2 * STEP)
    return grad


class NumericalGradientExercise:
    """``numerical_gradient(f, x)``: centered differences of a scalar function, x restored."""

    name, module, path = "numerical_gradient", "gradient_check", "backprop_lib/gradient_check.py"
    title = "numerical gradient by centered differences"

    def cases(self, seed):
        rng = np.random.default_rng(seed)
        worked = Case(
            {"x": np.array([1.0, 2.0]), "a": np.zeros(2), "q": np.zeros(2), "c": np.array([1.0, 2.0])},
            "f(x) = (x0 + 2 x1)^2 / 2 at x = (1, 2): the gradient is (5, 10)",
        )
        cases = [worked]
        for shape in ((5,), (3, 4), ()):
            parameters = {key: rng.uniform(0.5, 2.0, shape) for key in ("a", "q", "c")}
            x = rng.uniform(-1, 1, shape)
            cases.append(Case({"x": x} | parameters, f"f(x) = sum(a sin x) + sum(q x^3)/3 + (sum c x)^2/2, x {shape}"))
        return cases

    def run(self, case):
        from backprop_lib.gradient_check import numerical_gradient

        x = case.data["x"].copy()
        calls = []

        def f(values):
            calls.append(1)
            return checker_function(np.asarray(values, dtype=np.float64), *_parameters(case))

        returned = numerical_gradient(f, x)
        got = {"returned": np.array(type(returned).__name__), "x_after": x, "calls": np.array(len(calls))}
        got["aliased"] = np.array(returned is x)
        try:
            got["grad"] = np.array(returned, dtype=np.float64)
            got["dtype"] = np.array(str(np.asarray(returned).dtype))
        except (TypeError, ValueError):
            pass
        return got

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        x = case.data["x"]
        if "grad" not in got:
            result.summary = f"returned a {got['returned']}, expected a float64 array of x's shape {x.shape}"
            return result
        grad = got["grad"]
        if not np.array_equal(got["x_after"], x):
            moved = np.max(np.abs(got["x_after"] - x))
            result.summary = f"x was not restored: after the call an element of x is off by {moved:.3g}"
            result.diagnose(
                Diagnosis(
                    "x not restored",
                    "x is not restored: a nudged element keeps its changed value after its evaluations of f",
                )
            )
            return result
        if bool(got["aliased"]):
            result.summary = "returned x itself: the gradient must be a new array"
            return result
        if grad.shape != x.shape:
            result.summary = f"the gradient has shape {grad.shape}, expected x's shape {x.shape}"
            return result
        if str(got["dtype"]) != "float64":
            result.summary = f"the gradient has dtype {got['dtype']}, expected float64"
            result.diagnose(
                Diagnosis(
                    "not float64",
                    "the gradient is not float64: an array made like an integer or float32 x rounds each estimate",
                )
            )
            return result
        expected = exact_gradient(x, *_parameters(case))
        if close(expected, grad, rtol=RTOL, atol=ATOL):
            result.status, result.details = PASSED, []
            return result
        worst = int(np.argmax(np.abs(grad - expected)))
        result.summary = (
            f"df/dx is wrong: element {tuple(int(i) for i in np.unravel_index(worst, x.shape))} is "
            f"{grad.flat[worst]:.10g}, the exact derivative is {expected.flat[worst]:.10g}"
        )
        f = lambda values: checker_function(values, *_parameters(case))  # noqa: E731
        for found, candidate in GRADIENT_MISTAKES:
            wrong = candidate(f, x)
            if wrong is not None and close(wrong, grad, rtol=RTOL, atol=ATOL):
                result.diagnose(found)
                break
        return result


def _parameters(case):
    return case.data["a"], case.data["q"], case.data["c"]


def reference_relative_error(a, b):
    scale = np.maximum(np.abs(a), np.abs(b))
    ratio = np.divide(np.abs(a - b), scale, out=np.zeros(scale.shape), where=scale > 0)
    return float(np.max(ratio, initial=0.0))


def _ratio(a, b, scale):
    return np.divide(np.abs(a - b), scale, out=np.zeros(np.shape(scale)), where=scale > 0)


ONE_ARGUMENT = Diagnosis(
    "scaled by one argument only",
    "the difference is divided by the size of one argument only, so relative_error(a, b) != relative_error(b, a)",
)
RELATIVE_MISTAKES = (
    (
        Diagnosis(
            "scaled by the sum of the sizes",
            "the difference is divided by |a| + |b|, the sum of the sizes, instead of the larger of |a| and |b|",
        ),
        lambda a, b: np.max(_ratio(a, b, np.abs(a) + np.abs(b)), initial=0.0),
    ),
    (
        Diagnosis(
            "errors averaged",
            "the elementwise errors are averaged: an average hides the one element that is wrong, the largest shows it",
        ),
        lambda a, b: np.mean(_ratio(a, b, np.maximum(np.abs(a), np.abs(b)))),
    ),
    (ONE_ARGUMENT, lambda a, b: np.max(_ratio(a, b, np.abs(b)), initial=0.0)),
    (ONE_ARGUMENT, lambda a, b: np.max(_ratio(a, b, np.abs(a)), initial=0.0)),
    (
        Diagnosis(
            "ratio of norms",
            "a ratio of norms blends all elements and hides the one that is wrong: compare element by element",
        ),
        lambda a, b: np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)) if a.ndim else None,
    ),
)


class RelativeErrorExercise:
    """``relative_error(a, b)``: max over elements of |a - b| / max(|a|, |b|), 0 where both are 0."""

    name, module, path = "relative_error", "gradient_check", "backprop_lib/gradient_check.py"
    title = "relative error of two gradients"

    def cases(self, seed):
        rng = np.random.default_rng(seed)
        a, b = rng.uniform(-2, 2, (4, 5)), rng.uniform(-2, 2, (4, 5))
        a[1, 2] = b[1, 2] = 0.0
        near = rng.uniform(-2, 2, 6)
        return [
            Case(
                {"a": np.array([1.0, 0.0, 3.0]), "b": np.array([1.5, 0.0, 3.0])},
                "a = (1, 0, 3), b = (1.5, 0, 3): the errors are 0.5/1.5, 0 (both 0), 0, so 1/3",
            ),
            Case({"a": a, "b": b}, "random (4, 5) arrays, both 0 at one element"),
            Case({"a": near, "b": near * (1 + 1e-6)}, "b = a (1 + 1e-6): about 1e-6"),
            Case({"a": np.array(2.0), "b": np.array(-2.0)}, "two numbers, 2 and -2: 4 / 2 = 2"),
        ]

    def run(self, case):
        from backprop_lib.gradient_check import relative_error

        a, b = case.data["a"].copy(), case.data["b"].copy()
        arguments = (float(a), float(b)) if a.ndim == 0 else (a, b)
        returned = relative_error(*arguments)
        got = {"returned": np.array(type(returned).__name__)}
        try:
            got["value"] = np.array(returned, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        return got

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        if "value" not in got:
            result.summary = f"returned a {got['returned']}, expected a number"
            return result
        value = got["value"]
        if value.shape != ():
            result.summary = f"returned an array of shape {value.shape}: return one number, the largest error"
            result.diagnose(Diagnosis("not the largest error", "take the max over the elementwise errors"))
            return result
        a, b = case.data["a"], case.data["b"]
        expected = reference_relative_error(a, b)
        if np.isnan(value):
            result.summary = "returned NaN: 0 / 0 where a and b are both 0"
            result.diagnose(
                Diagnosis(
                    "0 / 0 where both are 0",
                    "0 / 0 where a and b are both 0: the contract defines the error there as 0",
                )
            )
            return result
        if close(expected, value, rtol=1e-9, atol=1e-12):
            result.status, result.details = PASSED, []
            return result
        result.summary = f"returned {float(value):.6g}, expected {expected:.6g}"
        for found, candidate in RELATIVE_MISTAKES:
            wrong = candidate(a, b)
            if wrong is not None and close(wrong, value, rtol=1e-9, atol=1e-12):
                result.diagnose(found)
                break
        return result


NUMERICAL_GRADIENT = NumericalGradientExercise()
RELATIVE_ERROR = RelativeErrorExercise()
