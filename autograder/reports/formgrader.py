"""formgrader's grading page shows, under each graded cell that lost points, why: the cell's nbgrader comment.

formgrader draws a comment box only under answer and task cells, and this course's
graded cells are tests. The kit writes each reason as the cell's comment in the
gradebook (``autograder.gradebook.store``), which formgrader's API serves; this
preprocessor, run by formgrader's HTML exporter (the course's nbgrader_config.py
names it), shows that comment (the TA's own, if one was written) under the cell.
Anywhere else (nbgrader's feedback pages) it changes nothing.
"""

import html

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory


class ShowReasons(Preprocessor):
    """Add each graded test cell's comment as an output of the cell, on formgrader's grading page."""

    def preprocess(self, nb, resources):
        submission = resources.get("submission_id")  # only formgrader's grading page renders a submission
        comments = self._comments(submission) if submission else {}
        for cell in nb.cells:
            marks = cell.get("metadata", {}).get("nbgrader", {})
            text = comments.get(marks.get("grade_id"))
            if text and cell.cell_type == "code" and not (marks.get("solution") or marks.get("task")):
                shown = f'<div class="alert alert-warning">Grader\'s note: {html.escape(text)}</div>'
                cell.outputs.append(new_output("display_data", data={"text/html": shown}))
        return nb, resources

    def _comments(self, submission):
        """{grade_id: comment} of the submitted notebook (the TA's comment, else the kit's)."""
        course = CourseDirectory(config=self.config)
        with Gradebook(course.db_url, course.course_id) as gradebook:
            try:
                notebook = gradebook.find_submission_notebook_by_id(submission)
            except MissingEntry:
                return {}
            return {comment.name: comment.comment for comment in notebook.comments}
