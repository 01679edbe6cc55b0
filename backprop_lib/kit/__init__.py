"""The kit's machinery, which you use but never edit: checks, hints, notebook support, widgets, the command.

operations.py   the table of operations (forward/backward pairs) the engine, checks and widgets share
exercises/      what the checker knows about each exercise: cases, references, diagnoses
gradcheck.py    centered differences and the comparison that says where a gradient differs
results.py      one exercise's verdict, as shown to a student
checking.py     run the checks in this process, never raising
selfcheck.py    ``backprop-kit check``: the checks in a fresh process, as a table
hints.py        the hint ladder (three rungs per exercise, stored encoded in hints.json)
notebook.py     notebook support: one-line stub errors, ``checked()`` for test cells
stubgen.py      the exercise files and hints.json generated from the reference solutions
widgets/        gradient-flow widgets
cli.py          the ``backprop-kit`` command
"""
