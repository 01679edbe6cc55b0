"""What a graded kernel pays for each course notebook's imports: its graded path against every cell.

Under grading, an unchanged copy's illustration cells are skipped (autograder/grading/illustrations.py), so a
kernel runs only the imports of the other cells: its graded path. For every course notebook this
collects the import statements of the graded path, and of every code cell (what the first cell
imported before the illustration-only imports moved into the illustration cells), and times them in
fresh processes that have already imported ipykernel, as a kernel has. Prints the median CPU seconds
(user + system of the process while it imports) per notebook and for the seven notebooks of a submission.

    python benchmarks/imports.py [--runs 5]
"""

import argparse
import ast
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.grading.illustrations import ILLUSTRATION
from notebooks import NOTEBOOKS, REPO, scratch_env  # benchmarks/notebooks.py: the course's notebooks, their env

KERNEL_PRELUDE = "import ipykernel.ipkernel"  # imported by every kernel before the first cell runs
TIMED = """
import time
start = time.process_time()
exec(compile({imports!r}, "<imports>", "exec"))
print(time.process_time() - start)
"""


def import_statements(cells):
    """The import statements of ``cells``' code, in order, each once (IPython magics left out)."""
    statements = []
    for cell in cells:
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))
        for node in ast.parse(code).body:
            if isinstance(node, ast.Import | ast.ImportFrom) and ast.unparse(node) not in statements:
                statements.append(ast.unparse(node))
    return "\n".join(statements)


def paths(notebook):
    """(graded path's imports, every cell's imports) of one notebook."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    graded = [cell for cell in code if ILLUSTRATION not in cell.metadata.get("tags", [])]
    return import_statements(graded), import_statements(code)


def cpu_seconds(imports, env):
    """CPU seconds of running ``imports`` in a fresh process that has imported what a kernel imports."""
    script = KERNEL_PRELUDE + "\n" + TIMED.format(imports=imports)
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return float(done.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (default 5)")
    runs = parser.parse_args(argv).runs
    with tempfile.TemporaryDirectory() as root:
        env = scratch_env(Path(root))
        print(f"CPU seconds of a notebook's imports in a fresh kernel-like process (median of {runs} runs)")
        print(f"  {'notebook':<24} {'graded path':>11} {'every cell':>11}")
        totals = [0.0, 0.0]
        for path in NOTEBOOKS:
            figures = [
                statistics.median(cpu_seconds(imports, env) for _ in range(runs))
                for imports in paths(nbformat.read(path, as_version=4))
            ]
            totals = [total + figure for total, figure in zip(totals, figures, strict=True)]
            print(f"  {path.stem:<24} {figures[0]:11.2f} {figures[1]:11.2f}")
        print(f"  {'per submission (7)':<24} {totals[0]:11.2f} {totals[1]:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
