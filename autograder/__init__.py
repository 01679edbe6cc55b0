"""The nbgrader course of backprop-kit: build, grade, verify, report.

Every grading process imports nbgrader, hence nbformat and jsonschema, whose
format checkers import ``rfc3987_syntax`` when it is installed (JupyterLab's
dependencies install it): that import compiles about 35 Earley grammars and
costs 1.7 s of CPU, in the TA's command and again in every Dask task. No
notebook schema uses the two formats it checks ("iri", "iri-reference"), so
the kit's processes go without it: ``None`` in ``sys.modules`` makes the import
fail, and jsonschema skips those checkers
(https://github.com/python-jsonschema/jsonschema/issues/1428).
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
