"""How long a control change takes to reach a widget's picture, per widget and control.

Each sample sets one control's value from Python and stops the clock when the
widget's Image holds the new PNG (ipywidgets runs the observer synchronously,
so the assignment returns after the redraw). Target: median under 50 ms.

Baseline, measured in the same run: a full redraw of the same figure (draw every
artist, then encode the PNG), which is what a widget without blitting pays per change.

    .venv/bin/python benchmarks/widgets.py            # 20 changes per control
    .venv/bin/python benchmarks/widgets.py --changes 40
"""

import argparse
import io
import os
import statistics
import time

os.environ.setdefault("BACKPROP_KIT_SOLUTIONS", "1")

from backprop_lib.kit.widgets import (  # noqa: E402 (solution mode must be set before the import)
    dead_relu,
    depth_flow,
    gate_explorer,
    graph_viewer,
    linear_jacobian,
    sigmoid_saturation,
)

TARGET_MS = 50.0

CASES = {
    "graph_viewer": (lambda: graph_viewer(step=0), {"step": list(range(10))}),
    "gate_explorer": (
        gate_explorer,
        {
            "a": [-3.0, -1.5, 0.5, 2.5, 3.5],
            "upstream": [-2.0, -0.5, 1.0, 2.5],
            "gate": ["add", "multiply", "maximum"],
        },
    ),
    "sigmoid_saturation": (sigmoid_saturation, {"x": [-6.0, -2.5, 0.0, 1.5, 4.0, 7.5], "depth": [2, 6, 11, 17, 20]}),
    "dead_relu": (dead_relu, {"bias_shift": [-1.5, -1.0, -0.5, 0.5], "learning_rate": [1.0, 10.0, 30.0, 0.0]}),
    "linear_jacobian": (linear_jacobian, {"row": [1, 0], "column": [2, 1, 0], "gradient": ["dW", "dx"]}),
    "depth_flow": (depth_flow, {"depth": [5, 12, 30, 50, 20], "scale": [0.3, 0.8, 1.4, 2.0, 0.5]}),
}


def time_changes(widget, control, values, changes):
    """(wall, CPU) milliseconds per change of ``control``, cycling through ``values``.

    CPU time is this process's own: on a shared machine it stays close to what an idle one
    would show, while wall time also counts the waits for a core.
    """
    wall, cpu = [], []
    for i in range(changes):
        value = values[i % len(values)]
        if widget.controls[control].value == value:
            value = values[(i + 1) % len(values)]
        start, start_cpu = time.perf_counter(), time.process_time()
        widget.controls[control].value = value
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def time_full_redraws(widget, repeats):
    """Milliseconds to draw the whole figure and encode it as PNG."""
    samples = []
    canvas = widget.figure.canvas
    for _ in range(repeats):
        start = time.perf_counter()
        canvas.draw()
        canvas.print_png(io.BytesIO())
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20, help="control changes timed per control")
    args = parser.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    columns = f"{'median ms':>9} {'p90 ms':>7} {'cpu ms':>7} {'full redraw ms':>15} {'ratio':>6}"
    print(f"{'widget':<20} {'control':<14} {columns}")
    worst = worst_cpu = 0.0
    for name, (make, controls) in CASES.items():
        widget = make()
        full = statistics.median(time_full_redraws(widget, 5))
        for control, values in controls.items():
            time_changes(widget, control, values, 2)  # warm caches (fonts, data, backgrounds)
            samples, cpu = time_changes(widget, control, values, args.changes)
            median, median_cpu = statistics.median(samples), statistics.median(cpu)
            p90 = statistics.quantiles(samples, n=10)[-1]
            worst, worst_cpu = max(worst, median), max(worst_cpu, median_cpu)
            row = f"{median:9.1f} {p90:7.1f} {median_cpu:7.1f} {full:15.1f} {median / full:6.2f}"
            print(f"{name:<20} {control:<14} {row}")
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"slowest median {worst:.1f} ms wall ({worst_cpu:.1f} ms CPU): {verdict} the {TARGET_MS:.0f} ms target")
    print(f"load average after the run: {os.getloadavg()[0]:.2f} (ratio = change / full redraw, both wall)")


if __name__ == "__main__":
    main()
