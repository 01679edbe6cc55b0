"""The reference solutions pass every check, on the public seed and on others."""

import pytest

from backprop_lib.kit.checking import run_checks
from backprop_lib.kit.exercises import EXERCISES


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_reference_solutions_pass_every_check(seed):
    results = run_checks(seed=seed)
    assert [r.exercise for r in results] == list(EXERCISES)
    failures = [r.report() for r in results if not r.passed]
    assert not failures, "\n".join(failures)


def test_an_unknown_exercise_name_lists_the_known_ones():
    [result] = run_checks(["relu_backwards"])
    assert result.status == "error"
    assert "relu_backward" in result.summary
