"""The gradebook: the grading record, the final grade, the kit's tables beside nbgrader's, saving and loading."""
