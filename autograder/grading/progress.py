"""A progress bar on stderr: redrawn in place on a terminal, one line per step elsewhere (logs, CI)."""

import sys
import time

from autograder.course.names import terminal


class Progress:
    """``total`` steps of work called ``label``; call ``advance(note)`` after each."""

    def __init__(self, total, label, stream=None, width=30):
        self.total, self.label, self.width, self.done = total, label, width, 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.live = self.stream.isatty()
        if self.live:
            self._draw("")

    def advance(self, note=""):
        self.done += 1
        self._draw(note)
        if self.done == self.total and self.live:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, note):
        filled = self.width * self.done // max(self.total, 1)
        elapsed = int(time.monotonic() - self.start)
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
            f"{elapsed // 60:02d}:{elapsed % 60:02d} {terminal(note)}"
        )
        self.stream.write(f"\r{line[:120]:<120}" if self.live else f"{line}\n")
        self.stream.flush()
