"""Generic diagnoses: what a wrong gradient's numbers say about the mistake, before any exercise's own hints.

Every diagnosis compares the student's gradients with answers the checker
computes numerically from the operation's forward formula (never from a
backward formula): the reference vector-Jacobian product with the case's
upstream gradient ``dout``, the same product with an upstream of all ones (what
a backward that ignores ``dout`` returns), and with ``dout`` squared (what one
that uses it twice returns). A diagnosis names the mistake, not the answer.

``References`` holds those numbers for one case; ``value_diagnosis`` and
``shape_diagnosis`` return the first ``Diagnosis`` that fits, or None; an
exercise's own hints come next, and ``factor_of_wrong`` ("a constant factor",
only when it is one at several elements) last.
"""

from dataclasses import dataclass, field

import numpy as np

from backprop_lib.broadcast import sum_to_shape
from backprop_lib.kit.gradcheck import close
from backprop_lib.kit.results import Diagnosis

IGNORED_UPSTREAM = Diagnosis(
    "ignored upstream gradient",
    "{name} does not use the upstream gradient: it equals the local gradient alone (the answer for an upstream of "
    "all ones). The chain rule combines the upstream gradient dout with the local gradient.",
)
UPSTREAM_UNCHANGED = Diagnosis(
    "upstream passed on unchanged",
    "{name} is the upstream gradient dout passed on unchanged: the local gradient of this operation is missing.",
)
UPSTREAM_TWICE = Diagnosis(
    "upstream gradient used twice",
    "{name} uses the upstream gradient twice (it matches the answer for dout times dout): use dout once.",
)
SIGN = Diagnosis("wrong sign", "{name} has the wrong sign: it is exactly the negative of the right gradient.")
SWAPPED = Diagnosis(
    "gradients swapped",
    "{name} and {other} are swapped: {name} holds the gradient of {other_input}, {other} the gradient of {input}.",
)
WRONG_INPUT = Diagnosis(
    "gradient of another input",
    "{name} equals the gradient of {other_input}: each input gets the gradient of its own value.",
)
TRANSPOSED = Diagnosis(
    "transposed",
    "{name} is the transpose of the right gradient: transposed operands, or operands in the wrong order.",
)
FACTOR = Diagnosis(
    "constant factor",
    "{name} is {factor} times the right value at every element: a constant factor is missing or extra.",
)
WRONG_ORDER = Diagnosis(
    "gradients in the wrong order",
    "the gradients are in the wrong order: return ({names}), one per input, in the order of the inputs.",
)
TRANSPOSED_SHAPE = Diagnosis(
    TRANSPOSED.name,
    "{name} has shape {got}, the transpose of {input}'s shape {want}: transposed operands, or operands in the "
    "wrong order.",
)
NOT_SUMMED = Diagnosis(
    "not summed over the broadcast axes",
    "{name} has shape {got}, but {input} has shape {want}: {input} was broadcast in the forward, so its gradient "
    "must be summed back over the broadcast axes to {input}'s shape.",
)
RESHAPED = Diagnosis(
    "right numbers, wrong shape",
    "{name} has shape {got}, but {input} has shape {want}: the numbers are right, return them with {input}'s shape.",
)
NUMERICAL = Diagnosis(
    "computed numerically, not derived",
    "the gradient is estimated numerically (the forward evaluated at nudged inputs, or a numerical helper called) "
    "instead of derived, and deriving it is what this exercise asks: work out the local derivative on paper, write "
    "it from what the forward cached, and multiply it by the upstream gradient; centered differences are for "
    "checking your answer, not for computing it.",
)


@dataclass
class References:
    """The checker's numbers for one case: the reference gradients and how to compute the others on demand.

    Attributes:
        names: the gradients' names (``dx``, ``dW``, ...).
        inputs: the case's inputs, float64 arrays.
        dout: the case's upstream gradient.
        expected: the reference gradients (NaN: not checked).
        vjp: function of an upstream gradient returning the reference gradients for it.
        directions: per gradient None, or (v, slope) for an input checked at a sample of its elements.
    """

    names: list
    inputs: list
    dout: np.ndarray
    expected: list
    vjp: object = field(repr=False)
    directions: list | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def for_upstream(self, key, upstream):
        if key not in self._cache:
            self._cache[key] = self.vjp(upstream)
        return self._cache[key]

    @property
    def local(self):
        """The gradients for an upstream of all ones: what a backward that ignores dout returns."""
        return self.for_upstream("ones", np.ones_like(self.dout))

    @property
    def twice(self):
        """The gradients for the upstream dout * dout."""
        return self.for_upstream("twice", self.dout * self.dout)


def value_diagnosis(refs, grads):
    """The first generic diagnosis that explains the wrong values of ``grads`` (right shapes), or None."""
    wrong = [i for i, (want, got) in enumerate(zip(refs.expected, grads, strict=True)) if not close(want, got)]
    dout_is_ones = bool(np.all(refs.dout == 1.0))
    for i in wrong:
        name, got = refs.names[i], grads[i]
        fills = {"name": name, "input": refs.names[i][1:]}
        if not dout_is_ones and _fits(refs.local[i], got):
            return IGNORED_UPSTREAM.fill(**fills)
        if _fits(-refs.expected[i], got):
            return SIGN.fill(**fills)
        if _fits(_passed_on(refs.dout, got.shape), got):
            return UPSTREAM_UNCHANGED.fill(**fills)
        if not dout_is_ones and _fits(refs.twice[i], got):
            return UPSTREAM_TWICE.fill(**fills)
        for j, other in enumerate(refs.expected):
            if j != i and np.shape(other) == np.shape(got) and _fits(other, got):
                other_fills = fills | {"other": refs.names[j], "other_input": refs.names[j][1:]}
                swapped = np.shape(refs.expected[i]) == np.shape(grads[j]) and _fits(refs.expected[i], grads[j])
                return (SWAPPED if swapped else WRONG_INPUT).fill(**other_fills)
        if got.ndim == 2 and got.shape[0] == got.shape[1] and _fits(refs.expected[i].T, got):
            return TRANSPOSED.fill(**fills)
    return None


def factor_of_wrong(refs, grads):
    """The last resort: a wrong gradient that is a real constant multiple of the right one, or None."""
    for name, want, got in zip(refs.names, refs.expected, grads, strict=True):
        if not close(want, got) and (found := factor_diagnosis(name, want, got)):
            return found
    return None


def sign_or_factor(names, expected, values):
    """For values without an upstream gradient (derivation factors): a sign error, else a real constant factor."""
    for name, want, got in zip(names, expected, values, strict=True):
        if not close(want, got) and _fits(-np.asarray(want, dtype=np.float64), got):
            return SIGN.fill(name=name)
    for name, want, got in zip(names, expected, values, strict=True):
        if not close(want, got) and (found := factor_diagnosis(name, want, got)):
            return found
    return None


def factor_diagnosis(name, want, got):
    """FACTOR ('dx is 0.5 times the right value') only when that holds at several elements with a nonzero
    reference."""
    want, got = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if want.shape != got.shape:
        return None
    checked = ~np.isnan(want) & (np.abs(np.nan_to_num(want)) > 1e-12)
    if np.count_nonzero(checked) < 2:
        return None
    factor = float(np.sum(want[checked] * got[checked]) / np.sum(want[checked] ** 2))
    if abs(factor - 1) > 1e-3 and abs(factor) > 1e-9 and close(factor * want, got):
        return FACTOR.fill(name=name, factor=f"{factor:.4g}")
    return None


def shape_diagnosis(names, inputs, expected, grads):
    """The first diagnosis for gradients of the wrong shapes, or None."""
    shapes = [np.shape(g) for g in grads]
    wanted = [np.shape(x) for x in inputs]
    if sorted(shapes) == sorted(wanted) and shapes != wanted:
        return WRONG_ORDER.fill(names=", ".join(names))
    for name, want, got, x in zip(names, expected, grads, inputs, strict=True):
        if got.shape == x.shape:
            continue
        fills = {"name": name, "input": name[1:], "got": got.shape, "want": x.shape}
        if got.ndim == 2 and got.shape == x.shape[::-1]:
            return TRANSPOSED_SHAPE.fill(**fills)
        if _broadcasts_to(x.shape, got.shape) and got.size > x.size:
            return NOT_SUMMED.fill(**fills)
        if got.size == x.size:
            return RESHAPED.fill(**fills) if _fits(want, got.reshape(x.shape)) else None
    return None


def _passed_on(dout, shape):
    """dout brought to ``shape`` as a gate that passes it on unchanged would (broadcast or summed), or NaN."""
    if _broadcasts_to(dout.shape, shape):
        return np.broadcast_to(dout, shape)
    if _broadcasts_to(shape, dout.shape):
        return sum_to_shape(dout, shape)
    return np.full(shape, np.nan)


def _fits(candidate, got):
    candidate = np.asarray(candidate, dtype=np.float64)
    return candidate.shape == np.shape(got) and not np.all(np.isnan(candidate)) and close(candidate, got)


def _broadcasts_to(small, big):
    try:
        return np.broadcast_shapes(small, big) == tuple(big)
    except ValueError:
        return False
