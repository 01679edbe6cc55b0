"""The hint ladder: per exercise three rungs, opened one at a time.

    backprop_lib.hint("relu_backward")       # in a notebook: the next rung
    backprop_lib.hint("relu_backward", 3)    # a given rung
    backprop-kit hint relu_backward [--level K] [--dir D]

Rung 1 is a nudge (which rule applies), rung 2 the local derivative, rung 3
the formula. The rungs ship in ``hints.json`` beside this module, each
zlib-compressed and base64-encoded, so a release holds no readable formula;
``stubgen`` writes that file from ``solutions/hints.py``. How far a student has
climbed is remembered in ``.backprop-kit-hints.json`` in the student's folder
(the one that holds ``backprop_lib/``), so "the next rung" survives a restart.
"""

import base64
import functools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

HINTS_FILE = Path(__file__).resolve().parent / "hints.json"
STATE_NAME = ".backprop-kit-hints.json"


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


def how_to_open(exercise):
    """One line telling a student where the next hint is."""
    notebook, terminal = f'backprop_lib.hint("{exercise}")', f"backprop-kit hint {exercise}"
    return f"a hint is available: {notebook} in a notebook, {terminal} in a terminal"


@dataclass(frozen=True)
class Rung:
    """One rung of one exercise's ladder, shown as text (in a notebook, as the cell's output)."""

    exercise: str
    level: int
    levels: int
    text: str

    def __str__(self):
        if self.level < self.levels:
            more = f'(more: backprop_lib.hint("{self.exercise}") again, or backprop_lib.hint("{self.exercise}", 3))'
        else:
            more = "(that was the last hint: the formula)"
        return f"{self.exercise}, hint {self.level} of {self.levels}: {self.text}\n{more}"

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def hint(exercise, level=None, directory=None):
    """The next rung of ``exercise``'s ladder (or rung ``level``), remembered in the student's folder.

    Raises ValueError for an unknown exercise or a level outside 1..3, naming the valid ones.
    """
    ladders = _ladders()
    if exercise not in ladders:
        raise ValueError(f"no hints for {exercise!r}; exercises with hints: {', '.join(ladders)}")
    rungs = ladders[exercise]
    state_path = Path(directory or _student_folder()) / STATE_NAME
    opened = _read_state(state_path)
    if level is None:
        level = min(opened.get(exercise, 0) + 1, len(rungs))
    elif not (isinstance(level, int) and 1 <= level <= len(rungs)):
        raise ValueError(f"hint level must be 1 to {len(rungs)}, got {level!r}")
    opened[exercise] = max(opened.get(exercise, 0), level)
    _write_state(state_path, opened)
    return Rung(exercise, level, len(rungs), decode(rungs[level - 1]))


def _student_folder():
    import backprop_lib

    return Path(backprop_lib.__file__).resolve().parent.parent


def _read_state(path):
    """{exercise: highest rung opened}; an unreadable or damaged file counts as no hints opened."""
    try:
        opened = json.loads(path.read_text()).get("opened", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {k: v for k, v in opened.items() if isinstance(k, str) and isinstance(v, int)}


def _write_state(path, opened):
    """Remember the rungs opened; a read-only folder only means the next call starts from rung 1 again."""
    try:
        path.write_text(json.dumps({"opened": opened}, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass
