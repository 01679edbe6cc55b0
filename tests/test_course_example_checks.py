"""The checks of the graded course examples: run on the student's library, judged with the checker's numbers."""

import pytest

from backprop_lib.kit.exercises import EXERCISES, STUDENT_EXERCISES, is_course_example
from backprop_lib.kit.selfcheck import run_in_subprocess
from solutions.mistakes import MISTAKES

COURSE_EXAMPLES = ["sigmoid_neuron_example", "circuit_example", "engine_course_examples"]
CAPSTONE = ["network_gradient_check", "spiral_training"]


def mistake(key):
    return next(m for m in MISTAKES if m.key == key)


def test_every_graded_course_cell_has_a_check_and_none_is_listed_as_an_exercise():
    examples = [name for name, exercise in EXERCISES.items() if is_course_example(exercise)]
    assert examples == COURSE_EXAMPLES + CAPSTONE
    assert not set(examples) & set(STUDENT_EXERCISES)


def test_a_gate_that_does_not_switch_fails_the_worked_examples_that_use_it(library):
    results = {r.exercise: r for r in run_in_subprocess(COURSE_EXAMPLES, library(mistake("multiply_not_switched")))}
    for name in COURSE_EXAMPLES:
        assert results[name].status == "failed", results[name].report()
    assert results["circuit_example"].summary == "d/d(x, y, z, w) = (6.00, -8.00, 2.00, 0.00)"
    assert "expected x: -8" in results["circuit_example"].details[0]


def test_the_network_checks_fail_with_a_wrong_relu_and_say_why(library):
    results = {r.exercise: r for r in run_in_subprocess(CAPSTONE, library(mistake("relu_no_mask")))}
    assert results["network_gradient_check"].status == "failed"
    assert "differs from centered differences" in results["network_gradient_check"].summary
    spiral = results["spiral_training"]
    assert spiral.status == "failed" and "at least 95% expected" in spiral.summary, spiral.report()


@pytest.mark.parametrize("name", CAPSTONE)
def test_the_network_checks_pass_on_the_reference_with_any_seed(name):
    from backprop_lib.kit.checking import run_checks

    for seed in (3, 4):
        [result] = run_checks([name], seed=seed)
        assert result.passed, result.report()
