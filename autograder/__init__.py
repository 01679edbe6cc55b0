"""The nbgrader course of backprop-kit: build, grade, verify, report."""
