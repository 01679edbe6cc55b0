"""Checking the linear layer at N = 64, M = 128, K = 64 with numerical gradients.

One check is what a student's self-check or the autograder does for one case:
run forward and backward, estimate the gradients by centered differences
(sampled elements plus a random direction for inputs this large) and compare.
Prints the median of several runs; the target is at most 1 s.

    python benchmarks/check_linear.py
"""

import os
import statistics
import time

os.environ.setdefault("BACKPROP_KIT_SOLUTIONS", "1")

import numpy as np  # noqa: E402

from backprop_lib.kit.exercises import EXERCISES  # noqa: E402

N, M, K = 64, 128, 64
RUNS = 7


def one_check(exercise, case):
    start = time.perf_counter()
    result = exercise.judge(case, exercise.run(case))
    assert result.passed, result.report()
    return time.perf_counter() - start


def main():
    rng = np.random.default_rng(0)
    exercise = EXERCISES["linear_backward"]
    inputs = [rng.standard_normal((N, M)), rng.standard_normal((M, K)), rng.standard_normal(K)]
    case = exercise.make_case(inputs, [], rng.standard_normal((N, K)), None, f"N = {N}, M = {M}, K = {K}")
    times = [one_check(exercise, case) for _ in range(RUNS)]
    print(f"check linear_backward at N = {N}, M = {M}, K = {K} (median of {RUNS} runs)")
    print(f"  {statistics.median(times):.3f} s  (target <= 1 s; min {min(times):.3f} s, max {max(times):.3f} s)")


if __name__ == "__main__":
    main()
