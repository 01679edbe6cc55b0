"""Every mistake in the catalog fails its check with exactly its diagnosis and the diagnosis's name; valid
subgradients at kinks pass."""

import re
import subprocess
import sys

import pytest

from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.exercises import EXERCISES, diagnosis, is_course_example
from backprop_lib.kit.selfcheck import run_in_subprocess
from solutions.mistakes import CALLS, MISTAKES, _mistake, can_share

BY_KEY = {m.key: m for m in MISTAKES}


def test_the_catalog_covers_every_kind_of_exercise():
    assert len(MISTAKES) >= 40
    assert len(BY_KEY) == len(MISTAKES)
    assert {m.module for m in MISTAKES} == set(EXERCISE_MODULES)


def groups():
    """The catalog in libraries of their own: one mistake per function, one engine function at a time, no
    mistake in a function another mistake's exercise calls."""
    planted = []
    for mistake in MISTAKES:
        fits = [group for group in planted if can_share(mistake, group)]
        if fits:
            fits[0].append(mistake)
        else:
            planted.append([mistake])
    return planted


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """{mistake key: CheckResult}, each group of mistakes checked in one student process."""
    from solutions.mistakes import write_library

    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("BACKPROP_KIT_SOLUTIONS")  # the student processes run the planted library
        for index, group in enumerate(groups()):
            folder = tmp_path_factory.mktemp(f"mistakes{index}")
            write_library(folder, *group)
            results = run_in_subprocess([m.exercise for m in group], folder)
            found |= {m.key: r for m, r in zip(group, results, strict=True)}
    return found


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.key)
def test_mistake_fails_its_check_with_its_exact_diagnosis(mistake, verdicts):
    result = verdicts[mistake.key]
    assert result.status == "failed", result.report()
    assert result.hint == mistake.diagnosis, result.report()
    assert result.diagnosis == mistake.kind, result.report()


def test_a_diagnosis_name_is_shared_by_the_same_mistake_in_different_exercises():
    kinds = {}
    for mistake in MISTAKES:
        kinds.setdefault(mistake.kind, set()).add(mistake.exercise)
    upstream = {"add", "reciprocal", "maximum", "sigmoid", "relu", "mse"}
    assert kinds["ignored upstream gradient"] == {f"{name}_backward" for name in upstream}
    assert kinds["transposed"] == {"linear_backward"}
    assert kinds["wrong sign"] >= {"subtract_backward", "negate_backward"}
    assert all(kind and len(kind) <= 40 and kind == kind.strip() for kind in kinds), "a name is short, one line"


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("relu_ignores_upstream", "dx"),
        ("maximum_ignores_upstream", "da"),
        ("sigmoid_ignores_upstream", "dx"),
        ("reciprocal_ignores_upstream", "dx"),
        ("add_ignores_upstream", "da"),
        ("mse_ignores_upstream", "dpred"),
    ],
)
def test_an_ignored_upstream_gradient_is_named_as_such(key, name):
    assert BY_KEY[key].diagnosis == diagnosis.IGNORED_UPSTREAM.fill(name=name).message


def test_a_constant_factor_is_named_only_where_it_is_one():
    named = {m.key for m in MISTAKES if "constant factor" in m.diagnosis}
    assert named == {"power_missing_factor", "mse_missing_mean", "mse_missing_two"}


def test_the_missing_transpose_names_the_shapes():
    for key in ("linear_dW_x_at_dz", "linear_dx_not_transposed", "linear_dW_transposed"):
        assert "shape" in BY_KEY[key].diagnosis


def test_a_shape_error_in_student_code_is_a_row_naming_the_operands(library):
    [result] = run_in_subprocess(["linear_backward"], library(BY_KEY["linear_dW_x_at_dz"]))
    assert result.summary == "raised ValueError: x @ dz is (4, 5) @ (4, 3): the inner sizes 5 and 4 differ"
    assert "arrays on that line: W (5, 3), dz (4, 3), x (4, 5)" in result.details


VALID_AT_KINKS = [
    (
        "relu_one_at_zero",
        "activations",
        """
        def relu_backward(dout, cache):
            x = cache
            return (dout * (x >= 0),)
        """,
        "at x = 0 you passed a share 1 of dout",
    ),
    (
        "relu_zero_at_zero",
        "activations",
        """
        def relu_backward(dout, cache):
            x = cache
            return (dout * (x > 0),)
        """,
        "at x = 0 you passed a share 0 of dout",
    ),
    (
        "maximum_tie_to_first",
        "gates",
        """
        def maximum_backward(dout, cache):
            a, b = cache
            wins = a >= b
            return sum_to_shape(dout * wins, a.shape), sum_to_shape(dout * ~wins, b.shape)
        """,
        "at the tie a = b, to a you passed a share 1 of dout",
    ),
    (
        "maximum_split_like_pytorch",
        "gates",
        """
        def maximum_backward(dout, cache):
            a, b = cache
            share = np.where(a == b, 0.5, 1.0 * (a > b))
            return sum_to_shape(dout * share, a.shape), sum_to_shape(dout * (1 - share), b.shape)
        """,
        None,
    ),
]


@pytest.mark.parametrize(("key", "module", "source", "note"), VALID_AT_KINKS, ids=lambda v: str(v)[:30])
def test_any_valid_subgradient_at_a_kink_passes_with_a_note_naming_the_convention(library, key, module, source, note):
    variant = _mistake(key, module, None, "", source)
    [result] = run_in_subprocess([variant.exercise], library(variant))
    assert result.passed, result.report()
    assert re.match(r"\d+ cases match the reference", result.summary) and "passed;" not in result.summary
    if note:
        assert note in result.summary and "the course's convention is half" in result.summary
    else:
        assert "convention" not in result.summary


def test_a_mistake_fails_only_its_own_exercise(library):
    results = run_in_subprocess([], library(BY_KEY["linear_db_not_summed"]))
    failed = [r.exercise for r in results if not r.passed]
    users = {name for name, calls in CALLS.items() if "linear_backward" in calls}
    assert [name for name in failed if not is_course_example(EXERCISES[name]) and name not in users] == [
        "linear_backward"
    ]
    assert set(failed) - {"linear_backward"} <= {"network_gradient_check", "spiral_training"} | users


NUMERICAL_BACKWARDS = [
    (
        "sigmoid_one_sided",
        "activations",
        """
        def sigmoid_backward(dout, cache):
            x, out = cache
            above, _ = sigmoid_forward(x + 1e-7)
            return (dout * (above - out) / 1e-7,)
        """,
        "sigmoid_forward",
    ),
    (
        "relu_by_the_students_own_checker",
        "activations",
        """
        def relu_backward(dout, cache):
            from backprop_lib.gradient_check import numerical_gradient

            x = cache
            return (numerical_gradient(lambda v: float(np.sum(dout * relu_forward(v)[0])), x.copy()),)
        """,
        "numerical_gradient, relu_forward",
    ),
    (
        "linear_element_by_element",
        "layers",
        """
        def linear_backward(dz, cache):
            grads = []
            for i, value in enumerate(cache):
                grad = np.zeros_like(value)
                for index in np.ndindex(value.shape):
                    moved = [v.copy() for v in cache]
                    moved[i][index] += 1e-6
                    grad[index] = np.sum(dz * (linear_forward(*moved)[0] - linear_forward(*cache)[0])) / 1e-6
                grads.append(grad)
            return tuple(grads)
        """,
        "linear_forward",
    ),
]


@pytest.mark.parametrize(
    ("key", "module", "source", "called"), NUMERICAL_BACKWARDS, ids=[case[0] for case in NUMERICAL_BACKWARDS]
)
def test_a_backward_computed_numerically_is_named_as_such(library, key, module, source, called):
    variant = _mistake(key, module, diagnosis.NUMERICAL.name, diagnosis.NUMERICAL.message, source)
    [result] = run_in_subprocess([variant.exercise], library(variant))
    assert result.status == "failed" and result.hint == diagnosis.NUMERICAL.message, result.report()
    assert result.diagnosis == diagnosis.NUMERICAL.name
    assert result.summary == f"computed numerically, not derived: while it ran it called {called}"
    assert "deriving it is what this exercise asks" in result.report()


RECOMPUTING = [
    (
        "sigmoid_recomputes_its_output",
        "activations",
        """
        def sigmoid_backward(dout, cache):
            x, _ = cache
            out, _ = sigmoid_forward(x)
            return (dout * out * (1.0 - out),)
        """,
    ),
    (
        "residual_recomputes_its_branch",
        "layers",
        """
        def residual_backward(dout, cache):
            (h, W, b), _ = cache
            z, linear_cache = linear_forward(h, W, b)
            (dz,) = relu_backward(dout, relu_forward(z)[1])
            dh, dW, db = linear_backward(dz, linear_cache)
            return dout + dh, dW, db
        """,
    ),
    (
        "residual_recomputes_its_branch_another_way",
        "layers",
        """
        def residual_backward(dout, cache):
            (h, W, b), z = cache
            again = sum(h[:, [m]] * W[[m], :] for m in reversed(range(W.shape[0]))) + b  # z, rounded otherwise
            (dz,) = relu_backward(dout, relu_forward(again)[1])
            dh, dW, db = linear_backward(dz, (h, W, b))
            return dout + dh, dW, db
        """,
    ),
]


@pytest.mark.parametrize(("key", "module", "source"), RECOMPUTING, ids=[case[0] for case in RECOMPUTING])
def test_a_backward_that_calls_its_forward_at_its_own_inputs_is_derived(library, key, module, source):
    variant = _mistake(key, module, "", "", source)
    [result] = run_in_subprocess([variant.exercise], library(variant))
    assert result.passed, result.report()


def test_the_notebooks_test_cells_and_hidden_tests_see_a_numerical_gradient_too(library):
    code = (
        "from backprop_lib.kit.notebook import checked\n"
        "for seed in (0, 651):\n"
        "    result = checked('sigmoid_backward', seed=seed)\n"
        "    print(result.status, result.hint == NUMERICAL.message, result.diagnosis == NUMERICAL.name)\n"
    )
    folder = library(BY_KEY["sigmoid_numerical"])
    prelude = "from backprop_lib.kit.exercises.diagnosis import NUMERICAL\n"
    done = subprocess.run([sys.executable, "-c", prelude + code], cwd=folder, capture_output=True, text=True)
    assert done.stdout.split() == ["failed", "True", "True", "failed", "True", "True"], done.stderr
