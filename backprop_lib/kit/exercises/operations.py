"""Checks for the backward function of every operation in ``backprop_lib.kit.operations``.

Each operation gets an ``OperationSpec``: the course's formula for its forward
(written here, independently of the student's file), where to sample inputs so
that no sample sits on a kink (ReLU at 0, max at a tie, log and 1/x near 0),
hand-derived worked cases from the course, and the hints for known mistakes.
Reference gradients come from centered differences of that formula, or from the
worked case's hand-derived numbers.
"""

from dataclasses import dataclass

import numpy as np

from backprop_lib.kit.exercises.base import Case, compare_gradients, first_hint
from backprop_lib.kit.exercises.diagnosis import References, factor_of_wrong, shape_diagnosis, value_diagnosis
from backprop_lib.kit.exercises.numerical import Watch, numerical_failure
from backprop_lib.kit.gradcheck import close, number, numerical_vjp
from backprop_lib.kit.operations import OPERATIONS
from backprop_lib.kit.results import FAILED, CheckResult, Diagnosis

DOUT_CHANGED = Diagnosis(
    "upstream gradient changed in place",
    "the right numbers, but dout was changed: the engine passes the same dout on to other nodes, "
    "so compute a new array instead of writing into dout",
)
CACHE_CHANGED = Diagnosis(
    "cache changed in place",
    "backward changed its cache in place: read the cache, write your results into new arrays",
)
NOT_FLOAT64 = Diagnosis("not float64", "gradients are float64 arrays: the upstream gradient and the cache already are")
NOT_A_TUPLE = Diagnosis("not a tuple of gradients", "return one gradient per input, even for one input: return (dx,)")


@dataclass(frozen=True)
class OperationSpec:
    """What the checker knows about one operation, independent of the student's code.

    Attributes:
        name: the operation's name in ``OPERATIONS``.
        formula: the forward as plain numpy, f(*inputs, *constants) -> out.
        sample: rng -> list of (inputs, constants) away from kinks.
        worked: hand-derived (inputs, constants, dout, expected grads, note) tuples.
        hints: known mistakes of this operation, tried after the generic diagnoses.
        kinks: optional; (inputs, constants, dout, expected, grads) -> (expected, note, problem): where the
            operation has a kink or tie, the student's gradients when they are a valid subgradient there (else
            ``expected`` unchanged), a note naming the course's convention when theirs differs, and the
            Diagnosis of what is wrong when theirs is not a valid subgradient.
        nonfinite_hint: optional; the Diagnosis when a gradient holds NaN or infinity.
    """

    name: str
    formula: object
    sample: object
    worked: tuple = ()
    hints: tuple = ()
    kinks: object = None
    nonfinite_hint: Diagnosis | None = None


class OperationExercise:
    """The exercise ``<op>_backward``: its gradients must match the formula's."""

    def __init__(self, spec):
        self.spec = spec
        self.operation = OPERATIONS[spec.name]
        self.name = f"{spec.name}_backward"
        self.module = self.operation.module
        self.path = self.operation.path
        self.grad_names = [f"d{name}" for name in self.operation.inputs]

    @property
    def title(self):
        return f"backward of {self.spec.name} ({self.operation.symbol})"

    def cases(self, seed):
        """Random cases from ``seed`` first (a non-uniform upstream, non-square shapes), then the course's worked ones.

        The first case can hide no mistake: an ignored or doubled upstream gradient, a missing transpose or
        swapped operands all give other numbers (or shapes) there. The worked cases are the lecture's numbers.
        """
        rng = np.random.default_rng(seed)
        cases = []
        for inputs, constants in self.spec.sample(rng):
            inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
            out = self.spec.formula(*inputs, *constants)
            dout = rng.standard_normal(np.shape(out))
            shapes = ", ".join(f"{n} {np.shape(x)}" for n, x in zip(self.operation.inputs, inputs, strict=True))
            cases.append(self.make_case(inputs, constants, dout, None, f"random inputs: {shapes}, random upstream"))
        return cases + [self.make_case(*worked) for worked in self.spec.worked]

    def make_case(self, inputs, constants, dout, expected, note):
        data = {f"input{i}": np.asarray(x, dtype=np.float64) for i, x in enumerate(inputs)}
        data |= {f"constant{i}": np.asarray(c) for i, c in enumerate(constants)}
        data["dout"] = np.asarray(dout, dtype=np.float64)
        if expected is not None:
            data |= {f"expected{i}": np.asarray(g, dtype=np.float64) for i, g in enumerate(expected)}
        return Case(data, note)

    def run(self, case):
        """Run the student's forward and backward on ``case``; plain arrays out.

        Keys: ``out``, ``returned`` (the type name backward returned), ``grad<i>``
        (float64, or ``grad<i>_type`` when not numeric) with ``grad<i>_dtype`` (the
        dtype as returned), ``dout_changed`` and ``cache_changed`` (a second
        backward call on the same cache differed), ``numerical`` (what the backward
        called that estimates a gradient numerically, ``numerical.Watch``; empty if nothing).
        """
        inputs, constants, watch = case.items("input"), _constants(case), Watch()
        out, cache = watch.forward(self.operation.forward, *[x.copy() for x in inputs], *constants)
        dout = case.data["dout"].copy()
        returned = watch.backward(self.operation.backward, dout, cache)
        got = {"out": np.asarray(out, dtype=np.float64), "returned": np.array(type(returned).__name__)}
        got["numerical"] = watch.found()
        grads = returned if isinstance(returned, tuple | list) else [returned]
        for i, grad in enumerate(grads):
            try:
                got[f"grad{i}"] = np.array(grad, dtype=np.float64)
                got[f"grad{i}_dtype"] = np.array(str(np.asarray(grad).dtype))
            except (TypeError, ValueError):
                got[f"grad{i}_type"] = np.array(type(grad).__name__)
        got["dout_changed"] = np.array(not np.array_equal(dout, case.data["dout"]))
        again = self.operation.backward(case.data["dout"].copy(), cache)
        again = again if isinstance(again, tuple | list) else [again]
        got["cache_changed"] = np.array(not _same_gradients(grads, again))
        return got

    def judge(self, case, got):
        """Compare what ``run`` returned with the reference gradients for ``case``."""
        result = CheckResult(self.name, self.path, FAILED, details=[])
        inputs, constants = case.items("input"), _constants(case)
        if not close(self.spec.formula(*inputs, *constants), got.get("out")):
            result.summary = f"the given {self.spec.name}_forward no longer computes the course's formula"
            result.details = [f"restore {self.spec.name}_forward in {self.path}; only the backward is yours to write"]
            return result
        if numerical_failure(result, got):
            return result
        refs = self._references(case)
        grads = self._returned_gradients(result, case, got, refs)
        if grads is None:
            return result
        note = problem = None
        if self.spec.kinks is not None:
            refs.expected, note, problem = self.spec.kinks(inputs, constants, case.data["dout"], refs.expected, grads)
        if not compare_gradients(result, self.grad_names, refs.expected, grads, case.note):
            result.diagnose(
                problem
                or value_diagnosis(refs, grads)
                or first_hint(self.spec.hints, case, grads)
                or factor_of_wrong(refs, grads)
            )
            return result
        if not _directions_agree(result, self.grad_names, refs.directions, grads, case.note):
            return result
        if bool(got["dout_changed"]):
            result.status, result.summary = FAILED, "modified the upstream gradient dout in place"
            result.diagnose(DOUT_CHANGED)
        elif bool(got["cache_changed"]):
            result.status, result.summary = FAILED, "a second call with the same cache gave other gradients"
            result.diagnose(CACHE_CHANGED)
        elif bad := _wrong_dtype(self.grad_names, got):
            result.status, result.summary = FAILED, bad
            result.diagnose(NOT_FLOAT64)
        elif note:
            result.summary = note
        return result

    def _references(self, case):
        """The checker's numbers for ``case``: worked (hand-derived) or centered differences of the formula."""
        constants, inputs, dout = _constants(case), case.items("input"), case.data["dout"]

        def vjp(upstream):
            return numerical_vjp(lambda *xs: self.spec.formula(*xs, *constants), inputs, upstream)[0]

        worked = case.items("expected")
        if worked:
            expected, directions = worked, [None] * len(worked)
        else:
            expected, directions = numerical_vjp(lambda *xs: self.spec.formula(*xs, *constants), inputs, dout)
        return References(self.grad_names, inputs, dout, list(expected), vjp, directions)

    def _returned_gradients(self, result, case, got, refs):
        """The gradients as arrays of the right count and shapes, or None after filling ``result``."""
        count = len(self.grad_names)
        wanted = f"a tuple of {count} gradient{'s' * (count > 1)} ({', '.join(self.grad_names)}{',' * (count == 1)})"
        if str(got["returned"]) not in ("tuple", "list"):
            result.summary = f"returned a {got['returned']}, expected {wanted}"
            result.diagnose(NOT_A_TUPLE)
            return None
        returned = sum(1 for key in got if key.startswith("grad") and key[4:].isdigit())
        returned += sum(1 for key in got if key.endswith("_type"))
        if returned != count:
            result.summary = f"returned {returned} gradients, expected {wanted}"
            return None
        for i, name in enumerate(self.grad_names):
            if f"grad{i}_type" in got:
                result.summary = f"{name} is a {got[f'grad{i}_type']}, not a number or array"
                return None
        grads = [got[f"grad{i}"] for i in range(count)]
        for name, grad, x in zip(self.grad_names, grads, case.items("input"), strict=True):
            if grad.shape != x.shape:
                result.summary = f"{name} has shape {grad.shape}, expected {x.shape} (the shape of {name[1:]})"
                result.details = [f"case: {case.note}"]
                result.diagnose(shape_diagnosis(self.grad_names, case.items("input"), refs.expected, grads))
                return None
            if not np.all(np.isfinite(grad)):
                index = tuple(int(i) for i in np.argwhere(~np.isfinite(grad))[0])
                where = f"{name}[{', '.join(map(str, index))}]" if index else name
                result.summary = f"{name} contains NaN or infinity: {where} is {grad[index]}"
                result.details = [f"case: {case.note}"]
                result.diagnose(self.spec.nonfinite_hint)
                return None
        return grads


def _constants(case):
    """The case's constants as the forward takes them: a number for a 0-d array (p = 2), else the array."""
    return [c.item() if c.ndim == 0 else c for c in case.items("constant")]


def _same_gradients(first, second):
    try:
        return len(first) == len(second) and all(
            np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
            for a, b in zip(first, second, strict=True)
        )
    except (TypeError, ValueError):
        return False


def _directions_agree(result, names, directions, grads, note):
    """For inputs checked at a sample of elements: does the gradient agree along a random direction?"""
    for name, direction, grad in zip(names, directions, grads, strict=True):
        if direction is None:
            continue
        v, slope = direction
        if not close(slope, float(np.sum(v * grad))):
            result.status, result.summary = FAILED, f"{name} is wrong at elements the sample missed"
            result.details = [
                f"along a random direction v: numerical dL/dt = {number(slope)}, sum(v * {name}) = "
                f"{number(np.sum(v * grad))}",
                f"case: {note}",
            ]
            return False
    return True


def _wrong_dtype(names, got):
    """'dx is a bool array, not float64' for a gradient of another dtype, or None."""
    for i, name in enumerate(names):
        dtype = str(got.get(f"grad{i}_dtype", "float64"))
        if dtype != "float64":
            return f"{name} is a {dtype} array, not float64"
    return None
