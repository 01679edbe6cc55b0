"""Skip, under autograde, the cells that only illustrate: as the course's source notebook says, never the student.

A code cell that earns no points and that no graded cell depends on (a timing
demo, a widget, a figure, a training run shown for its curve) is tagged
``illustration`` in the course's notebook source (jupytext: ``# %% tags=["illustration"]``).
Running it for every student costs grading time and changes no score. This
preprocessor, placed before the executor in the course's autograde
preprocessors, marks a student's cell for nbclient to skip
(``skip_cells_with_tag``) only when

- the SOURCE notebook of the course has a code cell tagged ``illustration`` with
  exactly the same text (the student's copy is unchanged), and
- the cell is no grade or solution cell.

The decision reads the source notebook only: a tag a student adds in their copy
means nothing, and every student-supplied skip tag is removed first, so no
student can make a cell, graded or not, skip itself. A student who edited an
illustration cell gets it run, as before.
"""

import os

import nbformat
from nbclient import NotebookClient
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

ILLUSTRATION = "illustration"
SKIP = NotebookClient.skip_cells_with_tag.default_value


class SkipIllustrations(NbGraderPreprocessor):
    """Tag unchanged illustration cells (as the course's source notebook marks them) for the executor to skip."""

    def preprocess(self, nb, resources):
        illustrations = illustration_sources(self._source_notebook(resources))
        skipped = 0
        for cell in nb.cells:
            tags = [tag for tag in cell.get("metadata", {}).get("tags", []) if tag != SKIP]
            if skippable(cell, illustrations):
                tags.append(SKIP)
                skipped += 1
            if tags or "tags" in cell.get("metadata", {}):
                cell.setdefault("metadata", {})["tags"] = tags
        self.log.info("Skipping %d unchanged illustration cell(s)", skipped)
        return nb, resources

    def _source_notebook(self, resources):
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", resources["nbgrader"]["assignment"])
        return nbformat.read(os.path.join(folder, f"{resources['nbgrader']['notebook']}.ipynb"), as_version=4)


def illustration_sources(source_notebook):
    """The texts of the source notebook's code cells tagged ``illustration`` (never a grade or solution cell)."""
    return {
        cell.source
        for cell in source_notebook.cells
        if cell.cell_type == "code" and ILLUSTRATION in cell.metadata.get("tags", []) and not _graded(cell)
    }


def skippable(cell, illustrations):
    """Whether a student's ``cell`` is an unchanged copy of one of the course's illustration cells."""
    return cell.cell_type == "code" and cell.source in illustrations and not _graded(cell)


def _graded(cell):
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    return bool(nbgrader.get("grade") or nbgrader.get("solution") or nbgrader.get("task"))
