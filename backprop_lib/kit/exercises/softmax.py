"""Checks for softmax (backprop_lib/activations.py, notebook 5): its Jacobian, and its backward without it.

The checker's softmax is its own, p = exp(s - logsumexp(s)) row by row. The
Jacobian is compared with centered differences of it; the backward is an
operation like any other, plus one case with many classes on which the memory
the backward allocates is measured (``tracemalloc``): an O(N K) product needs a
few arrays of the batch's size, a (K, K) Jacobian needs K times more.
"""

import tracemalloc

import numpy as np

from backprop_lib.kit.exercises.base import Case, Hint
from backprop_lib.kit.exercises.numerical import Watch, numerical_failure
from backprop_lib.kit.exercises.operations import OperationExercise, OperationSpec
from backprop_lib.kit.gradcheck import close, numerical_vjp, worst_mismatch
from backprop_lib.kit.results import FAILED, PASSED, CheckResult, Diagnosis

MEMORY_CASE = (3, 1000)
"""(N, K) of the case whose memory is measured: one (K, K) float64 Jacobian is 8 MB, the batch 24 kB (more than
2048 elements, so its reference is estimated at a sample of elements and along a random direction)."""
MEMORY_FACTOR = 20
"""The backward may allocate up to this many arrays of the batch's size."""
BUILDS_JACOBIAN = Diagnosis(
    "builds a (K, K) Jacobian",
    "the backward builds a (K, K) Jacobian: dout times the Jacobian, multiplied out on paper one row at a time, "
    "needs only p, dout and one number per row",
)
NO_DIAGONAL = Diagnosis("diagonal term missing", "the diagonal part is missing: dp_i/ds_i has a term of its own")
ONLY_DIAGONAL = Diagnosis(
    "off-diagonal entries missing",
    "an output p_i also moves when another score s_j moves: the off-diagonal entries are not 0",
)
SIGN = Diagnosis("wrong sign", "a sign error: J is the exact negative of the right one")


def softmax(s):
    """Row-wise softmax, the checker's own."""
    return np.exp(s - np.logaddexp.reduce(s, axis=-1, keepdims=True))


def _p(case):
    return softmax(case.data["input0"])


def _dout(case):
    return case.data["dout"]


def _sample(rng):
    return [
        ([rng.standard_normal((3, 4)) * 2], []),
        ([rng.standard_normal((1, 6))], []),
        ([rng.standard_normal((2, 3)) + 40], []),
    ]


SOFTMAX = OperationSpec(
    "softmax",
    softmax,
    _sample,
    worked=(
        (
            [[[0.0, 0.0]]],
            [],
            [[1.0, 0.0]],
            [[[0.25, -0.25]]],
            "softmax of (0, 0) is (0.5, 0.5); upstream (1, 0) gives (0.25, -0.25)",
        ),
    ),
    hints=(
        Hint(
            "treated as elementwise",
            "softmax is not elementwise: every p_k depends on every score of its row, "
            "so the off-diagonal entries of the Jacobian contribute too",
            lambda c: [_dout(c) * _p(c) * (1 - _p(c))],
        ),
        Hint(
            "diagonal term missing",
            "the diagonal part of the Jacobian is missing: dp_k/ds_k has a term of its own",
            lambda c: [-_p(c) * np.sum(_dout(c) * _p(c), axis=-1, keepdims=True)],
        ),
        Hint(
            "summed over the whole batch",
            "each row has its own Jacobian: sum over the classes of each row (axis=-1, keepdims=True), "
            "not over the whole batch",
            lambda c: [_p(c) * (_dout(c) - np.sum(_dout(c) * _p(c)))],
        ),
        Hint(
            "sum not weighted by the probabilities",
            "in the sum over a row each upstream entry is weighted by its probability",
            lambda c: [_p(c) * (_dout(c) - np.sum(_dout(c), axis=-1, keepdims=True))],
        ),
    ),
)


class SoftmaxBackwardExercise(OperationExercise):
    """``softmax_backward``: right gradients, and no (K, K) matrix on a case with many classes."""

    def cases(self, seed):
        rng = np.random.default_rng(seed + 1)
        s = rng.standard_normal(MEMORY_CASE)
        note = f"N = {MEMORY_CASE[0]} rows of K = {MEMORY_CASE[1]} classes: the memory used is measured"
        case = self.make_case([s], [], rng.standard_normal(MEMORY_CASE), None, note)
        case.data["measure_memory"] = np.array(True)
        cases = super().cases(seed)
        first_worked = len(cases) - len(self.spec.worked)
        return [*cases[:first_worked], case, *cases[first_worked:]]

    def run(self, case):
        got = super().run(case)
        if "measure_memory" in case.data:
            _, cache = self.operation.forward(case.data["input0"].copy())
            tracemalloc.start()
            try:
                self.operation.backward(case.data["dout"].copy(), cache)
                got["peak_bytes"] = np.array(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        return got

    def judge(self, case, got):
        result = super().judge(case, got)
        if not result.passed or "peak_bytes" not in got:
            return result
        n, k = case.data["input0"].shape
        peak, allowed = int(got["peak_bytes"]), MEMORY_FACTOR * n * k * 8
        if peak > allowed:
            result.status = FAILED
            result.summary = (
                f"the gradients are right, but the backward allocated {peak / 1e6:.1f} MB for a ({n}, {k}) batch "
                f"of {n * k * 8 / 1e3:.0f} kB: it builds a (K, K) Jacobian"
            )
            result.details = [
                f"case: {case.note}",
                f"allowed: {allowed / 1e3:.0f} kB ({MEMORY_FACTOR} batch-sized arrays)",
            ]
            result.diagnose(BUILDS_JACOBIAN)
        return result


class SoftmaxJacobianExercise:
    """``softmax_jacobian(p)``: the (K, K) Jacobian dp/ds of one row."""

    name, module, path = "softmax_jacobian", "activations", "backprop_lib/activations.py"
    title = "the Jacobian of softmax for one row"

    def cases(self, seed):
        rng = np.random.default_rng(seed)
        scores = [np.array([0.0, 0.0]), rng.standard_normal(4), rng.standard_normal(7) * 3]
        notes = ["softmax of (0, 0) is (0.5, 0.5): J = ((0.25, -0.25), (-0.25, 0.25))", "random scores, K = 4"]
        return [Case({"s": s}, note) for s, note in zip(scores, [*notes, "random scores, K = 7"], strict=True)]

    def run(self, case):
        from backprop_lib.activations import softmax_jacobian

        p, watch = softmax(case.data["s"]), Watch()
        returned = watch.backward(softmax_jacobian, p.copy())
        got = {"returned": np.array(type(returned).__name__), "numerical": watch.found()}
        try:
            got["J"] = np.array(returned, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        return got

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        s = case.data["s"]
        k = s.shape[0]
        if numerical_failure(result, got):
            return result
        if "J" not in got:
            result.summary = f"returned a {got['returned']}, expected a ({k}, {k}) array"
            return result
        J = got["J"]
        if J.shape != (k, k):
            result.summary = f"J has shape {J.shape}, expected ({k}, {k}): one row per output p_i, one column per s_j"
            return result
        expected = self._numerical(s)
        mismatch = worst_mismatch(expected, J)
        if mismatch is None:
            result.status, result.details = PASSED, []
            return result
        result.summary = "J is wrong"
        result.details = [mismatch.describe("J"), f"case: {case.note}"]
        p = softmax(s)
        for found, wrong in ((NO_DIAGONAL, -np.outer(p, p)), (ONLY_DIAGONAL, np.diag(p * (1 - p))), (SIGN, -expected)):
            if close(wrong, J):
                result.diagnose(found)
                break
        return result

    @staticmethod
    def _numerical(s):
        """J[i, j] = dp_i/ds_j by centered differences: row i is the gradient of p_i (upstream e_i)."""
        rows = [numerical_vjp(softmax, [s], e_i)[0][0] for e_i in np.eye(s.shape[0])]
        return np.array(rows)


SOFTMAX_JACOBIAN = SoftmaxJacobianExercise()
SOFTMAX_BACKWARD = SoftmaxBackwardExercise(SOFTMAX)
