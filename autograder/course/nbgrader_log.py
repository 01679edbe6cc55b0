"""nbgrader's own log goes to a file of the course, not to the TA's terminal (there too with ``--verbose``).

nbgrader's applications log every file they copy and write. The kit runs them
with that log in ``COURSE/reports/logs/`` and shows its own progress and
tables instead; at the DEBUG level (``backprop-kit ... --verbose``) the log is
shown on stderr as well.
"""

import logging
import sys

from nbgrader.utils import capture_log


def run(app, log_file):
    """``nbgrader.utils.capture_log(app)`` with the application's log written to ``log_file`` (and to stderr at the
    DEBUG level); returns capture_log's result."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    to_file.setFormatter(logging.Formatter("[%(name)s %(levelname)s] %(message)s"))
    handlers = [to_file]
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        handlers.append(logging.StreamHandler(sys.stderr))
    logger = app.log  # nbgrader's converters log through traitlets' logger, which propagates to the root logger
    own, propagates = list(logger.handlers), logger.propagate
    for handler in own:
        logger.removeHandler(handler)
    for handler in handlers:
        logger.addHandler(handler)
    logger.propagate = False
    try:
        return capture_log(app)
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        to_file.close()
        for handler in own:
            logger.addHandler(handler)
        logger.propagate = propagates
