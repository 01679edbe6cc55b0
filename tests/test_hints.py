"""The hint ladder: three rungs per exercise, shipped unreadable, climbed one call at a time."""

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from conftest import student_env

import backprop_lib
from backprop_lib.kit import hints
from backprop_lib.kit.exercises import STUDENT_EXERCISES
from backprop_lib.kit.results import FAILED, CheckResult
from backprop_lib.kit.selfcheck import format_table

# records that are valid JSON and ISO 8601 yet beyond what Python reads: an int of 5000 digits, and
# times that UTC moves before year 1 or after year 9999
LONG_NUMBER = '{"opened": {"relu_backward": 1%s}}' % ("0" * 5000)
EARLIEST = '{"opened": {"relu_backward": {"rung": 1, "first_opened": "0001-01-01T00:00:00+01:00"}}}'
LATEST = '{"opened": {"relu_backward": {"rung": 1, "first_opened": "9999-12-31T23:59:59-01:00"}}}'


def test_every_exercise_has_three_rungs():
    for name in STUDENT_EXERCISES:
        assert hints.available(name), name
        assert len(hints._ladders()[name]) == 3, name


def test_the_shipped_file_holds_no_readable_text():
    shipped = hints.HINTS_FILE.read_text()
    for word in ("dout", "upstream", "sum_to_shape", "return", "grad +="):
        assert word not in shipped


def test_each_call_climbs_one_rung_and_stops_at_the_formula(tmp_path):
    levels = [hints.hint("relu_backward", directory=tmp_path).level]
    first_opened = hints.read_record(tmp_path / hints.STATE_NAME)["relu_backward"].first_opened
    levels += [hints.hint("relu_backward", directory=tmp_path).level for _ in range(3)]
    assert levels == [1, 2, 3, 3]
    assert "x > 0" in hints.hint("relu_backward", directory=tmp_path).text
    assert hints.read_record(tmp_path / hints.STATE_NAME) == {"relu_backward": hints.Opened(3, first_opened)}
    assert hints.hint("linear_backward", directory=tmp_path).level == 1  # each exercise climbs on its own


def test_a_given_level_is_shown_and_remembered(tmp_path):
    shown = hints.hint("sigmoid_backward", 2, directory=tmp_path)
    assert (shown.level, shown.levels) == (2, 3)
    assert str(shown).startswith("sigmoid_backward, hint 2 of 3: ")
    assert hints.hint("sigmoid_backward", directory=tmp_path).level == 3


def test_the_record_is_plain_json_for_the_student_and_says_so_once(tmp_path):
    first = hints.hint("relu_backward", 2, directory=tmp_path)
    assert str(first).endswith(hints.NOTICE) and hints.STATE_NAME in hints.NOTICE
    for told in (hints.NOTICE, hints.ABOUT):  # what the student is told is true: the file goes, recording is optional
        assert "submitted with" in told
        assert "records it only if it says so (off by default)" in told and "never change a score" in told
        assert "collects it" not in told
    assert hints.NOTICE not in str(hints.hint("relu_backward", directory=tmp_path))
    assert hints.NOTICE not in str(hints.hint("exp_backward", directory=tmp_path))
    saved = json.loads((tmp_path / hints.STATE_NAME).read_text())
    assert saved["about"] == hints.ABOUT and set(saved["opened"]) == {"relu_backward", "exp_backward"}
    assert saved["opened"]["relu_backward"]["rung"] == 3 and saved["opened"]["exp_backward"]["rung"] == 1
    opened = datetime.fromisoformat(saved["opened"]["relu_backward"]["first_opened"])
    assert abs(datetime.now(timezone.utc) - opened) < timedelta(minutes=1)


def test_a_record_of_the_earlier_form_is_climbed_on(tmp_path):
    (tmp_path / hints.STATE_NAME).write_text('{"opened": {"relu_backward": 2}}')
    assert hints.hint("relu_backward", directory=tmp_path).level == 3
    assert hints.read_record(tmp_path / hints.STATE_NAME)["relu_backward"].rung == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_text("{not json"),
        lambda path: path.write_bytes(b"\xff\xfe" * 10),
        lambda path: path.write_text('{"opened": {"relu_backward": 7}}'),
        lambda path: path.write_text(" " * (hints.MAX_STATE_BYTES + 1)),
        lambda path: path.mkdir(),
        lambda path: os.mkfifo(path),
        lambda path: path.write_text(LONG_NUMBER),
        lambda path: path.write_text(EARLIEST),
        lambda path: path.write_text(LATEST),
    ],
    ids=["bad json", "not utf-8", "rung 7", "huge", "a folder", "a fifo", "a long number", "before 1", "after 9999"],
)
def test_a_damaged_record_starts_from_the_first_rung_and_is_replaced(tmp_path, damage):
    damage(tmp_path / hints.STATE_NAME)
    shown = hints.hint("exp_backward", directory=tmp_path)  # a fifo must not block
    assert shown.level == 1 and hints.NOTICE not in str(shown)
    if not (tmp_path / hints.STATE_NAME).is_dir():
        assert hints.read_record(tmp_path / hints.STATE_NAME)["exp_backward"].rung == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [(LONG_NUMBER, "a number too long"), (EARLIEST, "first_opened is out of range"), (LATEST, "out of range")],
    ids=["a long number", "before 1", "after 9999"],
)
def test_a_record_json_or_datetime_cannot_hold_is_a_record_error(tmp_path, text, why):
    (tmp_path / hints.STATE_NAME).write_text(text)
    with pytest.raises(hints.RecordError, match=why):
        hints.read_record(tmp_path / hints.STATE_NAME)


def test_a_symbolic_link_named_like_the_record_is_replaced_not_followed(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text('{"opened": {"relu_backward": 3}}')
    (tmp_path / hints.STATE_NAME).symlink_to(target)
    assert hints.hint("relu_backward", directory=tmp_path).level == 1
    assert target.read_text() == '{"opened": {"relu_backward": 3}}'
    assert not (tmp_path / hints.STATE_NAME).is_symlink()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
def test_a_read_only_folder_still_shows_every_hint(tmp_path):
    read_only = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    command = [
        *read_only,
        sys.executable,
        "-m",
        "backprop_lib.kit.cli",
        "hint",
        "relu_backward",
        "--dir",
        str(tmp_path),
    ]
    done = subprocess.run(command, env=student_env(), capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("relu_backward, hint 1 of 3: ")
    assert hints.NOTICE not in done.stdout and done.stderr == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "level", "message"), [("relu_backwards", None, "no hints for"), ("exp_backward", 4, "1 to 3")]
)
def test_bad_requests_are_clear_errors(tmp_path, name, level, message):
    with pytest.raises(ValueError, match=message):
        hints.hint(name, level, directory=tmp_path)


def test_the_notebook_helper_remembers_in_the_folder_you_work_in(tmp_path, monkeypatch):
    (tmp_path / "backprop_lib").mkdir()
    (tmp_path / "backprop_lib" / "__init__.py").touch()
    (tmp_path / "notes").mkdir()
    monkeypatch.chdir(tmp_path / "notes")
    assert backprop_lib.hint("add_backward").level == 1
    assert backprop_lib.hint("add_backward").level == 2
    assert hints.read_record(tmp_path / hints.STATE_NAME)["add_backward"].rung == 2


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
