# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Vectors, Jacobians and ReLU
#
# **Learning goals.** After this notebook you can
#
# 1. lay out a Jacobian the course's way (rows are outputs, columns are inputs) and write the chain rule for
#    row vectors as a vector-Jacobian product;
# 2. explain why an elementwise operation has a *diagonal* Jacobian, so its backward is an elementwise
#    product and the $M \times M$ matrix is never built;
# 3. write the ReLU's backward pass;
# 4. recognise two ways gradients die in elementwise gates: sigmoid saturation and dead ReLUs, measured on
#    a real layer as the fraction of dead units.

# %%
# %load_ext autoreload
# %autoreload 2
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import backprop_lib
from backprop_lib.activations import relu_backward, relu_forward, sigmoid_backward, sigmoid_forward
from backprop_lib.kit.notebook import checked, setup
from backprop_lib.kit.widgets import dead_relu, sigmoid_saturation
from backprop_lib.layers import linear_forward

setup()

# %% [markdown]
# ## 5.1 The Jacobian's layout
#
# For a function $y = f(x)$ from a row vector $x$ of shape $(1 \times M)$ to a row vector $y$ of shape
# $(1 \times K)$, the Jacobian collects every partial derivative:
#
# $$J = \frac{\partial y}{\partial x} \in \mathbb{R}^{K \times M}, \qquad J_{km} =
# \frac{\partial y_k}{\partial x_m}: \quad \text{row } k \text{ is output } y_k, \text{ column } m
# \text{ is input } x_m.$$
#
# The chain rule for a scalar error $E$ then reads, with row vectors,
#
# $$\underbrace{\frac{\partial E}{\partial x}}_{1 \times M} = \underbrace{\frac{\partial E}{\partial
# y}}_{1 \times K}\; \underbrace{J}_{K \times M}, \qquad \text{i.e.}\quad \frac{\partial E}{\partial x_m} =
# \sum_k \frac{\partial E}{\partial y_k} \frac{\partial y_k}{\partial x_m}.$$
#
# Every backward function you write computes this **vector-Jacobian product**: upstream row vector times
# local Jacobian. Column $m$ of $J$ is how all outputs move when input $m$ moves, so centered differences
# build $J$ one column at a time:


# %% tags=["illustration"]
def numerical_jacobian(f, x, h=1e-6):
    """J[k, m] = d f(x)_k / d x_m by centered differences, for a vector function f of a vector x."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for m in range(x.size):
        step = np.zeros_like(x)
        step[m] = h
        columns.append((f(x + step) - f(x - step)) / (2 * h))
    return np.stack(columns, axis=1)


def example(x):
    """y = (x0 x1, x0 + x2, exp(x1)): three outputs of three inputs."""
    return np.array([x[0] * x[1], x[0] + x[2], np.exp(x[1])])


x = np.array([2.0, 0.0, -1.0])
J = numerical_jacobian(example, x)
print("J (rows: y0, y1, y2; columns: x0, x1, x2) =\n", np.round(J, 3))
dE_dy = np.array([1.0, -2.0, 0.5])
print("dE/dx = dE/dy J =", np.round(dE_dy @ J, 3))

# %% [markdown]
# Read it row by row: $y_0 = x_0 x_1$ depends on $x_0$ (slope $x_1 = 0$) and $x_1$ (slope $x_0 = 2$); $y_1 =
# x_0 + x_2$ has slopes $1$ and $1$; $y_2 = e^{x_1}$ depends on $x_1$ only.
#
# ## 5.2 Elementwise operations have diagonal Jacobians
#
# An elementwise operation applies one scalar function to each element: $y_k = g(x_k)$. Output $k$ depends
# on input $k$ only, so $\partial y_k / \partial x_m = 0$ for $k \ne m$:
#
# $$J = \operatorname{diag}\bigl(g'(x_1), \dots, g'(x_M)\bigr), \qquad \frac{\partial E}{\partial x} =
# \frac{\partial E}{\partial y}\, J = \frac{\partial E}{\partial y} \odot g'(x).$$
#
# For the ReLU, $g(x) = \max(0, x)$ and $g'(x) = [x > 0]$ (1 where $x > 0$, else 0; at exactly $x = 0$ the
# course takes 0). So the ReLU's backward is a mask:
#
# $$\frac{\partial E}{\partial x} = \frac{\partial E}{\partial y} \odot [x > 0].$$

# %% tags=["illustration"]
x = np.array([-2.0, -0.5, 0.7, 1.5, 3.0])
J_relu = numerical_jacobian(lambda v: np.maximum(v, 0.0), x)
print("ReLU Jacobian at x =", x, "\n", J_relu.round(3))

# %% [markdown]
# Building that matrix would be a terrible way to compute the backward pass: for a layer of $M$ units it has
# $M^2$ entries, all but $M$ of them zero. Compare, for $M = 2048$:

# %% tags=["illustration"]
M = 2048
rng = np.random.default_rng(0)
x, upstream = rng.normal(size=M), rng.normal(size=M)

start = time.perf_counter()
via_matrix = upstream @ np.diag((x > 0).astype(float))  # builds M x M
matrix_seconds = time.perf_counter() - start

start = time.perf_counter()
via_mask = upstream * (x > 0)  # elementwise
mask_seconds = time.perf_counter() - start

print(f"same result: {np.allclose(via_matrix, via_mask)}")
print(f"Jacobian matrix: {M * M * 8 / 1e6:.0f} MB, {matrix_seconds * 1e3:.1f} ms; mask: {mask_seconds * 1e3:.3f} ms")

# %% [markdown]
# ## 5.3 Exercise: the ReLU's backward
#
# **Exercise 14.** Write `relu_backward(dout, cache)` in `backprop_lib/activations.py`. The cache is the
# forward *input* `x`; return `(dx,)` with `dx = dout * [x > 0]`, the shape of `x` (any shape: a vector, a
# batch of rows). Do not modify `dout` in place.
#
# Worked example: at $x = (-2, -0.5, 0, 0.5, 2)$ with upstream $(1, 2, 3, 4, 5)$ the gradient is
# $(0, 0, 0, 4, 5)$: blocked where the unit was off, passed unchanged where it was on.

# %%
out, cache = relu_forward(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]))
(dx,) = relu_backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), cache)
print("relu(x) =", out)
print("dx      =", dx)

# %%
backprop_lib.check("relu_backward")

# %% nbgrader={"grade": true, "grade_id": "relu_backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: relu_backward (autograded; do not edit)
result = checked("relu_backward")
assert result.passed, result.report()
_, t_cache = relu_forward(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]))
(t_dx,) = relu_backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), t_cache)
assert np.array_equal(t_dx, [0, 0, 0, 4, 5]), f"relu_backward gives {t_dx}; expected [0, 0, 0, 4, 5] (0 at x = 0)"

# %% [markdown]
# ## 5.4 When the local gradient is (nearly) zero: sigmoid saturation
#
# The sigmoid's local gradient $\sigma'(x) = \sigma(x)(1 - \sigma(x))$ is at most $0.25$ (at $x = 0$) and
# vanishes for large $|x|$: a *saturated* unit passes almost no gradient back, so the weights before it stop
# learning. Your `sigmoid_backward` from notebook 2 shows it:

# %% tags=["illustration"]
pre_activations = np.array([0.0, 2.0, 5.0, 10.0])
_, sigmoid_cache = sigmoid_forward(pre_activations)
(local,) = sigmoid_backward(np.ones(4), sigmoid_cache)
for value, slope in zip(pre_activations, local, strict=True):
    print(f"x = {value:4.1f}:  sigma'(x) = {slope:.5f}")

# %% [markdown]
# Move the pre-activation and the depth: the widget shows the local gradient, and how the gradient shrinks
# through a stack of sigmoids compared with ReLUs (whose local gradient is exactly 1 wherever they are on).

# %% tags=["illustration"]
sigmoid_saturation()

# %% [markdown]
# ## 5.5 Dead ReLUs, measured on a real layer
#
# A ReLU unit whose input is negative for *every* example passes no gradient back for any of them. Its
# weights and bias receive zero gradient (every path to them goes through that unit's mask), so SGD never
# changes them: the unit is **dead**, for good. A too-large learning-rate step that pushes a bias far
# negative, or a bad initialisation, can kill many units at once.
#
# Here is a real layer: the 1797 handwritten digits that ship with scikit-learn (8 × 8 pixels scaled to
# $[0, 1]$), through a linear layer of 128 ReLU units with He initialisation. A unit is dead when your
# `relu_backward`, given an upstream gradient of ones for every example, passes nothing back through it.

# %% tags=["illustration"]
inputs = load_digits().data / 16.0  # (1797, 64), pixels in [0, 1]
rng = np.random.default_rng(0)
W = rng.normal(scale=np.sqrt(2 / 64), size=(64, 128))
b = np.zeros(128)


def dead_fraction(W, b):
    """Fraction of units whose ReLU passes no gradient for any example of the data set."""
    z, _ = linear_forward(inputs, W, b)
    _, cache = relu_forward(z)
    (dz,) = relu_backward(np.ones_like(z), cache)
    return np.mean(np.all(dz == 0, axis=0))


print(f"fraction of dead units after initialisation: {dead_fraction(W, b):.1%}")

# %% [markdown]
# A few units are dead from the start: the pixels are never negative, so a unit whose weights happen to be
# mostly negative never fires. Now the effect of a too-large step on the biases: every bias moves down by the
# same amount, as one SGD step with a large learning rate does when the gradient pushes the outputs down.

# %% tags=["illustration"]
shifts = np.arange(0, 3.25, 0.25)
fractions = [dead_fraction(W, b - shift) for shift in shifts]
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.plot(shifts, fractions, marker="o")
ax.set(xlabel="bias shift (b - shift)", ylabel="fraction of dead units", ylim=(-0.02, 1.02))
ax.set_title("Dead ReLUs on the digits layer")
plt.show()
for shift, fraction in zip(shifts[::4], fractions[::4], strict=True):
    print(f"shift {shift:3.1f}: {fraction:.0%} dead")

# %% [markdown]
# A dead unit receives exactly zero gradient, so no later step can revive it: its column of $\partial E /
# \partial z$ is all zeros, and notebook 6 shows that $\partial E/\partial W = x^T \partial E/\partial z$
# then has an all-zero column too. Remedies: smaller learning rates, careful initialisation, a small positive
# bias at the start, or a leaky ReLU whose local gradient is a small positive number where $x < 0$.
#
# Explore it: shift the biases or take a learning-rate step and watch the map of active units.

# %% tags=["illustration"]
dead_relu()

# %% [markdown]
# ## Recap
#
# - Jacobian layout: $J_{km} = \partial y_k / \partial x_m$ (rows outputs, columns inputs); the backward pass
#   is the vector-Jacobian product $\partial E/\partial x = \partial E/\partial y\, J$.
# - Elementwise operations have diagonal Jacobians: backward is an elementwise product with $g'(x)$. Never
#   build the $M \times M$ matrix.
# - ReLU: $\partial E / \partial x = \partial E/\partial y \odot [x > 0]$ (0 at $x = 0$).
# - Gradients die where local gradients are zero: saturated sigmoids ($\sigma' \to 0$) and dead ReLUs (input
#   negative for every example: zero gradient forever).
#
# **Next:** notebook 6 derives the linear layer's Jacobians one element at a time.
