"""Every mistake in the catalog fails the checks, with its hint where one exists."""

import pytest

from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.selfcheck import run_in_subprocess
from solutions.mistakes import MISTAKES


def test_the_catalog_covers_every_kind_of_exercise():
    assert len(MISTAKES) >= 15
    assert len({m.key for m in MISTAKES}) == len(MISTAKES)
    assert {m.module for m in MISTAKES} == set(EXERCISE_MODULES)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.key)
def test_mistake_fails_its_check_with_its_hint(mistake, library):
    [result] = run_in_subprocess([mistake.exercise], library(mistake))
    assert result.status == "failed", result.report()
    if mistake.hint is not None:
        assert result.hint and mistake.hint in result.hint, result.report()


def test_a_mistake_fails_only_its_own_exercise(library):
    mistake = next(m for m in MISTAKES if m.key == "linear_db_not_summed")
    results = run_in_subprocess([], library(mistake))
    assert [r.exercise for r in results if not r.passed] == ["linear_backward"]
