"""Grading on submission: ``course serve`` watches nbgrader's exchange, grades each submission as ``course grade``
does, releases its feedback, and tells the student where it stands (``exchange``, ``queue``, ``job``, ``server``)."""
