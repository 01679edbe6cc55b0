"""All course notebooks executed in solution mode, one after another, kernel starts included.

Each run executes notebooks/01_*.ipynb ... 07_*.ipynb in a fresh kernel each, the way
a student's Run All or `jupyter nbconvert --execute` does, with BACKPROP_KIT_SOLUTIONS=1.
Prints the median over several runs for every notebook and for the whole course (target:
at most 60 s in total), and the same under nbgrader's NBGRADER_EXECUTION=autograde, which
is what each student's submission costs the autograder in notebook execution alone.

    python benchmarks/notebooks.py [--runs 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TARGET = 60.0


def scratch_env(root, **extra):
    """Solution mode, with HOME, IPython, Jupyter and matplotlib folders in ``root`` (font cache built once)."""
    env = os.environ | {
        "BACKPROP_KIT_SOLUTIONS": "1",
        "HOME": str(root),
        "IPYTHONDIR": str(root / "ipython"),
        "MPLCONFIGDIR": str(root / "matplotlib"),
        "JUPYTER_CONFIG_DIR": str(root / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(root / "jupyter-runtime"),
    }
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True)
    return env | extra


def execute(path, env):
    """Seconds to start a kernel and run every cell of the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


def measure(env, runs):
    """{notebook stem: [seconds per run]} and [total seconds per run]."""
    times = {path.stem: [] for path in NOTEBOOKS}
    for _ in range(runs):
        for path in NOTEBOOKS:
            times[path.stem].append(execute(path, env))
    totals = [sum(run) for run in zip(*times.values(), strict=True)]
    return times, totals


def print_table(title, times, totals):
    print(title)
    for stem, seconds in times.items():
        print(f"  {stem:<24} {statistics.median(seconds):6.1f} s")
    print(
        f"  {'all notebooks':<24} {statistics.median(totals):6.1f} s   (min {min(totals):.1f}, max {max(totals):.1f})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of the whole course (default 3)")
    runs = parser.parse_args(argv).runs
    with tempfile.TemporaryDirectory() as root:
        env = scratch_env(Path(root))
        times, totals = measure(env, runs)
        print_table(f"Course notebooks, solution mode, kernel starts included (median of {runs} runs)", times, totals)
        verdict = "within" if statistics.median(totals) <= TARGET else "OVER"
        print(f"  target <= {TARGET:.0f} s in total: {verdict}")
        times, totals = measure(env | {"NBGRADER_EXECUTION": "autograde"}, runs)
        print_table(
            "The same under NBGRADER_EXECUTION=autograde (per submission, before nbgrader's own costs)", times, totals
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
