"""The hint ladder: per exercise three rungs, opened one at a time, and the student's record of them.

    backprop_lib.hint("relu_backward")       # in a notebook: the next rung
    backprop_lib.hint("relu_backward", 3)    # a given rung
    backprop-kit hint relu_backward [--level K] [--dir D]

Rung 1 is a nudge (which rule applies), rung 2 the local derivative, rung 3
the formula. The rungs ship in ``hints.json`` beside this module, each
zlib-compressed and base64-encoded, so a release holds no readable formula;
``stubgen`` writes that file from ``solutions/hints.py``.

The hint record, ``.backprop-kit-hints.json`` in the folder the student works
in (``backprop_lib.kit.working_folder``: the one that holds their
``backprop_lib/``, as for ``check``), says per exercise the highest rung opened and
when the first one was opened, so "the next rung" survives a restart::

    {"about": "...", "opened": {"relu_backward": {"rung": 2, "first_opened": "2026-01-12T09:30:00Z"}}}

It is the student's file, plain to read; it always travels with an nbgrader
submission (``submit`` and ``collect`` copy every file), and only a course that
says so (``c.BackpropCourse.record_hints``) records it with the grade, read by
``read_record``: strictly, as untrusted input.
Writing it never stops a hint from showing (a read-only folder, a damaged file).
"""

import base64
import functools
import json
import os
import stat
import tempfile
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from backprop_lib.kit.working_folder import working_folder

HINTS_FILE = Path(__file__).resolve().parent / "hints.json"
STATE_NAME = ".backprop-kit-hints.json"
MAX_STATE_BYTES = 64 << 10
ABOUT = (
    "The hints you opened: per exercise the highest rung and when you opened the first. It stays in your folder "
    "and is submitted with it; a course records it only if it says so (off by default), and hints never change a score."
)
NOTICE = (
    f"(noted in {STATE_NAME} beside backprop_lib/: the hints you opened, for you to read; it is submitted with "
    "your folder; a course records it only if it says so (off by default), and hints never change a score)"
)


def encode(text):
    """A rung as stored: zlib-compressed, base64 text."""
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def decode(stored):
    return zlib.decompress(base64.b64decode(stored)).decode("utf-8")


def compile_hints(hints):
    """The text of ``hints.json`` for ``{exercise: (rung 1, rung 2, rung 3)}``."""
    encoded = {name: [encode(rung) for rung in rungs] for name, rungs in sorted(hints.items())}
    return json.dumps({"format": 1, "hints": encoded}, indent=1) + "\n"


@functools.cache
def _ladders():
    return json.loads(HINTS_FILE.read_text())["hints"]


def available(exercise):
    """True when ``exercise`` has a hint ladder."""
    return exercise in _ladders()


def ladder(exercise):
    """The rungs of ``exercise``'s ladder as text, for the course's staff (nothing is recorded)."""
    return [decode(rung) for rung in _ladders()[exercise]]


def how_to_open(exercise):
    """One line telling a student where the next hint is."""
    notebook, terminal = f'backprop_lib.hint("{exercise}")', f"backprop-kit hint {exercise}"
    return f"a hint is available: {notebook} in a notebook, {terminal} in a terminal"


@dataclass(frozen=True)
class Opened:
    """One exercise in a hint record: the highest rung opened, and when the first was (ISO 8601, UTC, or None)."""

    rung: int
    first_opened: str | None = None


class RecordError(ValueError):
    """A hint record that cannot be read; the message says why."""


@dataclass(frozen=True)
class Rung:
    """One rung of one exercise's ladder, shown as text (in a notebook, as the cell's output).

    ``notice`` says where the hint record is, on the call that created it.
    """

    exercise: str
    level: int
    levels: int
    text: str
    notice: str = ""

    def __str__(self):
        if self.level < self.levels:
            more = f'(more: backprop_lib.hint("{self.exercise}") again, or backprop_lib.hint("{self.exercise}", 3))'
        else:
            more = "(that was the last hint: the formula)"
        notice = f"\n{self.notice}" if self.notice else ""
        return f"{self.exercise}, hint {self.level} of {self.levels}: {self.text}\n{more}{notice}"

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def hint(exercise, level=None, directory=None):
    """The next rung of ``exercise``'s ladder (or rung ``level``), noted in the student's hint record.

    Raises ValueError for an unknown exercise or a level outside 1..3, naming the valid ones.
    The record is read, updated and replaced in one step each, not under a lock: two kernels opening
    hints at the same moment can lose one of the updates, never the file.
    """
    ladders = _ladders()
    if exercise not in ladders:
        raise ValueError(f"no hints for {exercise!r}; exercises with hints: {', '.join(ladders)}")
    rungs = ladders[exercise]
    path = working_folder(directory) / STATE_NAME
    try:
        record = read_record(path)
    except RecordError:
        record = {}  # the student's own damaged file: start again, and replace it
    before = record.get(exercise, Opened(0))
    if level is None:
        level = min(before.rung + 1, len(rungs))
    elif not (type(level) is int and 1 <= level <= len(rungs)):
        raise ValueError(f"hint level must be 1 to {len(rungs)}, got {level!r}")
    record[exercise] = Opened(max(before.rung, level), before.first_opened or _now())
    existed = os.path.lexists(path)
    created = _write_record(path, record) and not existed
    return Rung(exercise, level, len(rungs), decode(rungs[level - 1]), NOTICE if created else "")


def read_record(path):
    """{exercise: Opened} of the hint record at ``path`` ({} if there is none), read as untrusted input.

    Raises RecordError unless it is a regular file (no symbolic link, no pipe) of at
    most MAX_STATE_BYTES, JSON with an "opened" table of known exercises, each a rung
    1..3 (or ``{"rung": r, "first_opened": ISO 8601 time}``). Never blocks.
    """
    try:
        text = _read_small(path)
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(f"not valid JSON ({error.msg}, line {error.lineno})") from None
    except RecursionError:
        raise RecordError("nested too deeply") from None
    except ValueError:  # json turns an integer of more than sys.get_int_max_str_digits() digits into ValueError
        raise RecordError("a number too long") from None
    opened = data.get("opened") if isinstance(data, dict) else None
    if not isinstance(opened, dict):
        raise RecordError('no "opened" table')
    return {exercise: _opened(exercise, entry) for exercise, entry in opened.items()}


def format_record(record):
    """A hint record in one line, ``linear_backward:3;relu_backward:2`` ("none" if empty)."""
    return ";".join(f"{name}:{opened.rung}" for name, opened in sorted(record.items())) or "none"


def _opened(exercise, entry):
    ladders = _ladders()
    if exercise not in ladders:
        raise RecordError(f"unknown exercise {exercise[:40]!r}")
    rung, first = (entry.get("rung"), entry.get("first_opened")) if isinstance(entry, dict) else (entry, None)
    if type(rung) is not int or not 1 <= rung <= len(ladders[exercise]):
        raise RecordError(f"{exercise}: the rung must be 1 to {len(ladders[exercise])}, got {str(rung)[:20]!r}")
    return Opened(rung, None if first is None else _utc(exercise, first))


def _utc(exercise, text):
    """An ISO 8601 time with a time zone, as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) and len(text) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise RecordError(f"{exercise}: first_opened is not a time with a time zone: {str(text)[:40]!r}")
    try:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except OverflowError:  # a time zone that moves it past year 1 or 9999
        raise RecordError(f"{exercise}: first_opened is out of range: {text!r}") from None


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_small(path):
    """The text of the regular file ``path`` (FileNotFoundError if there is none); RecordError otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise RecordError("a symbolic link" if os.path.islink(path) else error.strerror) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise RecordError("not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        data = file.read(MAX_STATE_BYTES + 1)
    if len(data) > MAX_STATE_BYTES:
        raise RecordError(f"larger than {MAX_STATE_BYTES >> 10} KB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("not UTF-8 text") from None


def as_json(record):
    """The "opened" table of a hint record, ``{exercise: {"rung": r, "first_opened": time}}``, sorted."""
    return {name: asdict(entry) for name, entry in sorted(record.items())}


def _write_record(path, record):
    """Replace the hint record at ``path`` in one step; False if the folder cannot be written."""
    text = json.dumps({"about": ABOUT, "opened": as_json(record)}, indent=1, sort_keys=True) + "\n"
    temporary = None
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, delete=False) as file:
            temporary = file.name
            file.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        return False
    return True
