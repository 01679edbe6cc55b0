"""The hint ladder: three rungs per exercise, shipped unreadable, climbed one call at a time."""

import json
import subprocess
import sys

import pytest
from conftest import REPO, student_env

import backprop_lib
from backprop_lib.kit import hints
from backprop_lib.kit.exercises import STUDENT_EXERCISES
from backprop_lib.kit.results import FAILED, CheckResult
from backprop_lib.kit.selfcheck import format_table


def test_every_exercise_has_three_rungs():
    for name in STUDENT_EXERCISES:
        assert hints.available(name), name
        assert len(hints._ladders()[name]) == 3, name


def test_the_shipped_file_holds_no_readable_text():
    shipped = hints.HINTS_FILE.read_text()
    for word in ("dout", "upstream", "sum_to_shape", "return", "grad +="):
        assert word not in shipped


def test_each_call_climbs_one_rung_and_stops_at_the_formula(tmp_path):
    levels = [hints.hint("relu_backward", directory=tmp_path).level for _ in range(4)]
    assert levels == [1, 2, 3, 3]
    assert "x > 0" in hints.hint("relu_backward", directory=tmp_path).text
    assert json.loads((tmp_path / hints.STATE_NAME).read_text()) == {"opened": {"relu_backward": 3}}
    assert hints.hint("linear_backward", directory=tmp_path).level == 1  # each exercise climbs on its own


def test_a_given_level_is_shown_and_remembered(tmp_path):
    shown = hints.hint("sigmoid_backward", 2, directory=tmp_path)
    assert (shown.level, shown.levels) == (2, 3)
    assert str(shown).startswith("sigmoid_backward, hint 2 of 3: ")
    assert hints.hint("sigmoid_backward", directory=tmp_path).level == 3


def test_a_damaged_state_file_starts_from_the_first_rung(tmp_path):
    (tmp_path / hints.STATE_NAME).write_text("{not json")
    assert hints.hint("exp_backward", directory=tmp_path).level == 1


@pytest.mark.parametrize(
    ("name", "level", "message"), [("relu_backwards", None, "no hints for"), ("exp_backward", 4, "1 to 3")]
)
def test_bad_requests_are_clear_errors(tmp_path, name, level, message):
    with pytest.raises(ValueError, match=message):
        hints.hint(name, level, directory=tmp_path)


def test_the_notebook_helper_remembers_in_the_folder_that_holds_the_library():
    state = REPO / hints.STATE_NAME
    before = state.read_text() if state.exists() else None
    try:
        state.unlink(missing_ok=True)
        assert backprop_lib.hint("add_backward").level == 1
        assert backprop_lib.hint("add_backward").level == 2
    finally:
        state.unlink(missing_ok=True)
        if before is not None:
            state.write_text(before)


def test_the_terminal_command(tmp_path):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "hint"]
    env = student_env()
    done = subprocess.run([*command, "backward", "--dir", str(tmp_path)], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("backward, hint 1 of 3: ")
    done = subprocess.run(
        [*command, "backward", "--level", "2", "--dir", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert "parent.grad += g" in done.stdout and "zero_grad" in done.stdout
    done = subprocess.run([*command, "nothing", "--dir", str(tmp_path)], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "no hints for 'nothing'" in done.stderr


def test_a_failed_row_says_a_hint_is_available():
    failed = CheckResult("relu_backward", "backprop_lib/activations.py", FAILED, "dx is wrong")
    line = 'a hint is available: backprop_lib.hint("relu_backward") in a notebook, backprop-kit hint relu_backward'
    assert line in failed.report()
    assert line in format_table([failed])
