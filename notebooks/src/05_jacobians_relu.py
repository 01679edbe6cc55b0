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
# 3. derive and write the ReLU's backward pass, say what happens at its kink, and see a gradient check fail there;
# 4. derive softmax's Jacobian, then its backward as a vector-Jacobian product in $O(NK)$, never building the
#    $K \times K$ matrix;
# 5. recognise two ways gradients die in elementwise gates: sigmoid saturation and dead ReLUs, measured on
#    a real layer as the fraction of dead units.

# %%
import numpy as np

import backprop_lib
from backprop_lib.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    softmax_jacobian,
)
from backprop_lib.gradient_check import numerical_gradient, relative_error
from backprop_lib.kit.notebook import checked, setup
from backprop_lib.layers import linear_forward

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

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
# local Jacobian. Row $k$ of $J$ is the gradient of the single number $y_k$, so your `numerical_gradient`
# (notebook 1) builds $J$ one row at a time:


# %% tags=["illustration"]
def numerical_jacobian(f, x):
    """J[k, m] = d f(x)_k / d x_m for a vector function f of a vector x: row k by your numerical_gradient."""
    x = np.asarray(x, dtype=np.float64)
    outputs = np.size(f(x))
    return np.stack([numerical_gradient(lambda v, k=k: float(f(v)[k]), x.copy()) for k in range(outputs)])


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
# For the ReLU, $g(x) = \max(0, x)$. Look at its numerical Jacobian below at five points and answer:
#
# - *Local derivative:* what is $g'(x)$ where $x < 0$? Where $x > 0$? (Draw $\max(0, x)$.)
# - *Upstream × local:* so what does a ReLU do to each element of the upstream gradient?
# - *The kink:* at exactly $x = 0$ the ReLU has no derivative; any value between the two slopes is a valid
#   subgradient, and the checks accept any of them. The course's reference takes half the upstream gradient
#   there, the same rule as a tie of the max gate (notebook 3), so $\mathrm{relu}(x)$ and $\max(x, 0)$
#   agree.

# %% tags=["illustration"]
x = np.array([-2.0, -0.5, 0.7, 1.5, 3.0])
J_relu = numerical_jacobian(lambda v: np.maximum(v, 0.0), x)
print("ReLU Jacobian at x =", x, "\n", J_relu.round(3))

# %% [markdown]
# Building that matrix would be a terrible way to compute the backward pass: for a layer of $M$ units it has
# $M^2$ entries, all but $M$ of them zero. Compare, for $M = 2048$, with the elementwise gate you already wrote,
# the sigmoid: its diagonal Jacobian as a matrix, against your `sigmoid_backward` applied to the upstream
# gradient directly.

# %% tags=["illustration"]
import time

M = 2048
rng = np.random.default_rng(0)
x, upstream = rng.normal(size=M), rng.normal(size=M)
_, elementwise_cache = sigmoid_forward(x)
(diagonal,) = sigmoid_backward(np.ones(M), elementwise_cache)  # the Jacobian's diagonal

start = time.perf_counter()
via_matrix = upstream @ np.diag(diagonal)  # builds M x M
matrix_seconds = time.perf_counter() - start

start = time.perf_counter()
(via_backward,) = sigmoid_backward(upstream, elementwise_cache)  # elementwise
backward_seconds = time.perf_counter() - start

print(f"same result: {np.allclose(via_matrix, via_backward)}")
print(f"Jacobian matrix: {M * M * 8 / 1e6:.0f} MB, {matrix_seconds * 1e3:.1f} ms")
print(f"elementwise:     {M * 8 / 1e3:.0f} kB, {backward_seconds * 1e3:.3f} ms")

# %% [markdown]
# ## 5.3 Exercise: the ReLU's backward
#
# **Exercise 14.** Write `relu_backward(dout, cache)` in `backprop_lib/activations.py`. The cache is the
# forward *input* `x`; return `(dx,)`, the shape of `x` (any shape: a vector, a batch of rows). Do not modify
# `dout` in place. Stuck? `backprop_lib.hint("relu_backward")` shows the next rung of its hint ladder.
#
# Worked numbers: at $x = (-2, -0.5, 0, 0.5, 2)$ with upstream $(1, 2, 3, 4, 5)$, what should each element of
# the gradient be? Predict them, then run the cell. (At $x = 0$ the reference gives $1.5$; any value from $0$
# to $3$ is a valid subgradient.)

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
t_away_from_kink = t_dx[[0, 1, 3, 4]]
assert np.array_equal(t_away_from_kink, [0, 0, 4, 5]) and 0 <= t_dx[2] <= 3, (
    f"relu_backward gives {t_dx}; expected [0, 0, g, 4, 5] with any subgradient 0 <= g <= 3 at x = 0"
)

# %% [markdown]
# ### When the gradient check itself is wrong: a kink
#
# Your `numerical_gradient` (notebook 1) nudges $x$ by $h = 10^{-5}$ to each side. If $x$ sits closer than $h$
# to the ReLU's kink at 0, one of the two points is on the other side, and the estimate mixes the two slopes.
# Before you run the cell: what will the numerical estimate be at $x = 2 \times 10^{-6}$, and what does your
# `relu_backward` say?

# %%
kink_x = np.array([-1.0, 2e-6, 0.5])
kink_dout = np.ones(3)
(kink_analytic,) = relu_backward(kink_dout, relu_forward(kink_x)[1])
kink_numeric = numerical_gradient(lambda v: float(np.sum(kink_dout * relu_forward(v)[0])), kink_x.copy())
print("analytic:", kink_analytic, "  numerical:", kink_numeric.round(3))
print(f"relative error {relative_error(kink_analytic, kink_numeric):.2f}: the check fails, the backward is right")

# %% [markdown]
# Here the backward is right and the check is wrong: the numerical estimate ($0.6$ at the middle element) is a
# slope across the kink, not the derivative at $x$. CS231n's advice: check with few inputs, away from kinks
# (the course's checks sample $x$ at least $0.05$ from 0), and when a check fails only at a few elements, look
# whether those inputs sit within $h$ of a kink.
#
# ## 5.4 Softmax: a Jacobian that is not diagonal
#
# Softmax turns a row of $K$ scores into $K$ probabilities, $p_k = e^{s_k} / \sum_j e^{s_j}$. Unlike the ReLU,
# every output depends on *every* score of its row. Derive its Jacobian $J_{ij} = \partial p_i / \partial s_j$
# on paper:
#
# 1. **Local derivative, diagonal first.** Differentiate $p_i$ with respect to its own score $s_i$ (quotient
#    rule: $s_i$ appears in the numerator and in the sum). Write the result using $p_i$ only.
# 2. **Off the diagonal.** Now differentiate $p_i$ with respect to another score $s_j$, $j \ne i$: only the sum
#    depends on $s_j$. Again write it with $p$'s only. Is the matrix symmetric?
# 3. **Check a case.** For $s = (0, 0)$, $p = (0.5, 0.5)$: what is $J$? Do its columns sum to 0? Why must they?
#
# **Exercise 15.** Write `softmax_jacobian(p)` in `backprop_lib/activations.py`: one row's $(K, K)$ Jacobian.
# Stuck? `backprop_lib.hint("softmax_jacobian")`.

# %%
p_row, _ = softmax_forward(np.array([[2.0, 1.0, 0.1]]))
J_row = softmax_jacobian(p_row[0])
print("p =", p_row[0].round(3))
print("J =\n", J_row.round(3))
print("column sums:", J_row.sum(axis=0).round(12))

# %%
backprop_lib.check("softmax_jacobian")

# %% nbgrader={"grade": true, "grade_id": "softmax_jacobian", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: softmax_jacobian (autograded; do not edit)
result = checked("softmax_jacobian")
assert result.passed, result.report()

# %% [markdown]
# **Upstream times local, without the matrix.** The backward gets $\partial E/\partial p$ $(N \times K)$ and
# must return $\partial E/\partial s$ $(N \times K)$. For one row it is the vector-Jacobian product of 5.1,
# upstream row times $J$. With $K = 50\,000$ classes (a language model's vocabulary) $J$ alone has
# $2.5 \times 10^9$ entries, 20 GB: never build it.
#
# 1. Write element $j$ of (upstream row times $J$) as a sum over $i$ with your $J$ from above, and split the
#    sum into the diagonal term and the rest. Which quantity appears in every $j$? (It is one number per row.)
# 2. **Shapes:** for the batch, that number is one value per row, $(N, 1)$; broadcasting does the rest.
#
# **Exercise 16.** Write `softmax_backward(dout, cache)` (the cache is $p$, shape $(N, K)$) in
# `backprop_lib/activations.py`, in $O(NK)$: the check runs a case with $K = 1000$ and fails if your backward
# allocates a $(K, K)$ matrix. Stuck? `backprop_lib.hint("softmax_backward")`.

# %%
s_batch = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]])
dp_batch = np.array([[1.0, 0.0, 0.0], [0.3, -0.2, 0.5]])
p_batch, p_cache = softmax_forward(s_batch)
(ds_batch,) = softmax_backward(dp_batch, p_cache)
print("your O(NK) backward:\n", ds_batch.round(4))
by_rows = np.stack([d @ softmax_jacobian(p) for d, p in zip(dp_batch, p_batch, strict=True)])
print("row by row with your Jacobian:\n", by_rows.round(4))

# %%
backprop_lib.check("softmax_backward")

# %% nbgrader={"grade": true, "grade_id": "softmax_backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: softmax_backward (autograded; do not edit)
result = checked("softmax_backward")
assert result.passed, result.report()

# %% [markdown]
# ## 5.5 When the local gradient is (nearly) zero: sigmoid saturation
#
# The sigmoid's local gradient (your `sigmoid_backward` of notebook 2, with an upstream gradient of ones) is
# at most $0.25$ (at $x = 0$) and vanishes for large $|x|$: a *saturated* unit passes almost no gradient back,
# so the weights before it stop learning. Your `sigmoid_backward` shows it:

# %% tags=["illustration"]
pre_activations = np.array([0.0, 2.0, 5.0, 10.0])
_, sigmoid_cache = sigmoid_forward(pre_activations)
(local,) = sigmoid_backward(np.ones(4), sigmoid_cache)
for value, slope in zip(pre_activations, local, strict=True):
    print(f"x = {value:4.1f}:  sigma'(x) = {slope:.5f}")

# %% [markdown]
# The widget starts at $x = 2$ through 5 layers: the gradient through five stacked sigmoids has shrunk to about
# $2 \times 10^{-4}$, while five ReLUs that are on pass it unchanged (their local gradient is 1 there). Move $x$ into
# the saturated zone and raise the depth; then move $x$ below 0, where every ReLU is off and passes nothing:
# ReLUs do not saturate for positive inputs, but they can die (next section).

# %% tags=["illustration"]
from backprop_lib.kit.widgets import sigmoid_saturation

sigmoid_saturation()

# %% [markdown]
# ## 5.6 Dead ReLUs, measured on a real layer
#
# A ReLU unit whose input is negative for *every* example passes no gradient back for any of them. Its
# weights and bias receive zero gradient (every path to them goes through that unit's mask), so a plain SGD
# step does not change them: the unit is **dead**. How permanent is that? For a unit of the *first* layer,
# trained by plain SGD, it is for good: its inputs are the fixed data, and nothing moves its weights. A unit
# in a deeper layer can come back when the layers below it change its inputs, and momentum or weight decay
# can still move a dead unit's weights. A too-large learning-rate step that pushes a bias far negative, or a
# bad initialisation, can kill many units at once.
#
# Here is a real layer: the 1797 handwritten digits that ship with scikit-learn (8 × 8 pixels scaled to
# $[0, 1]$), through a first linear layer of 128 ReLU units with He initialisation. A unit is dead when your
# `relu_backward`, given an upstream gradient of ones for every example, passes nothing back through it.

# %% tags=["illustration"]
from sklearn.datasets import load_digits

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
import matplotlib.pyplot as plt

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
# A dead unit of this first layer receives exactly zero gradient, so no later plain SGD step can revive it:
# its column of $\partial E / \partial z$ is all zeros, and in notebook 6 you will see why its column of
# weights then gets no gradient either. Remedies: smaller learning rates, careful initialisation, a small
# positive bias at the start, or a leaky ReLU whose local gradient is a small positive number where $x < 0$.
#
# Explore it: shift the biases or take a learning-rate step and watch the map of active units. The widget uses
# a smaller first layer of 32 ReLU units on the same digits (with a second layer of 10 outputs, so that it can
# take a real gradient step): the fractions differ a little from the 128 units above, the picture is the same.

# %% tags=["illustration"]
from backprop_lib.kit.widgets import dead_relu

dead_relu()

# %% [markdown]
# ## Recap
#
# - Jacobian layout: $J_{km} = \partial y_k / \partial x_m$ (rows outputs, columns inputs); the backward pass
#   is the vector-Jacobian product $\partial E/\partial x = \partial E/\partial y\, J$.
# - Elementwise operations have diagonal Jacobians: backward is an elementwise product with $g'(x)$. Never
#   build the $M \times M$ matrix.
# - ReLU: a diagonal Jacobian, so a mask on the upstream gradient; at the kink any subgradient is accepted,
#   and the course's reference agrees with the max gate's tie rule. A numerical check across a kink fails
#   even when the backward is right.
# - Softmax: a full Jacobian, but its vector-Jacobian product needs one number per row, so the backward is
#   $O(NK)$ without the $K \times K$ matrix.
# - Gradients die where local gradients are zero: saturated sigmoids ($\sigma' \to 0$) and dead ReLUs (input
#   negative for every example: zero gradient; for a first-layer unit under plain SGD, for good).
#
# **Next:** notebook 6 derives the linear layer's Jacobians one element at a time.
